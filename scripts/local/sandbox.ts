/**
 * The runner's side of one execution environment (sandbox-runtime.mjs in a child process): start it
 * (cold start), invoke with a timeout, and treat a crash or timeout like Lambda does: the
 * invocation fails, the environment is discarded, the next invocation starts a fresh one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../lib/paths.js';

export interface Fault {
  phase: 'before' | 'after';
  action: 'throw' | 'exit' | 'hang';
}

export type InvokeOutcome =
  | { ok: true; response: unknown; durationMs: number }
  | { ok: false; errorType: string; errorMessage: string; durationMs: number };

export interface SandboxOptions {
  name: string;
  handlerPath: string;
  env: Record<string, string>;
  logFile: string;
  timeoutMs: number;
}

type Pending = { id: number; resolve: (o: InvokeOutcome) => void; started: number };

export class Sandbox {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private pending?: Pending;
  private nextId = 1;
  coldStarts = 0;

  constructor(private readonly options: SandboxOptions) {}

  private start(): Promise<void> {
    mkdirSync(dirname(this.options.logFile), { recursive: true });
    const fd = openSync(this.options.logFile, 'a');
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        join(repoRoot(), 'scripts', 'local', 'sandbox-runtime.mjs'),
        this.options.handlerPath,
      ],
      { env: { ...process.env, ...this.options.env }, stdio: ['ignore', fd, fd, 'ipc'] },
    );
    closeSync(fd);
    this.child = child;
    this.coldStarts += 1;
    const ready = new Promise<void>((resolve, reject) => {
      child.on(
        'message',
        (message: {
          type: string;
          id?: number;
          result?: unknown;
          errorType?: string;
          errorMessage?: string;
        }) => {
          if (message.type === 'ready') resolve();
          else if (message.type === 'init-error')
            reject(new Error(`${message.errorType}: ${message.errorMessage}`));
          else if (this.pending && message.id === this.pending.id) {
            const p = this.pending;
            this.pending = undefined;
            const durationMs = Date.now() - p.started;
            p.resolve(
              message.type === 'result'
                ? { ok: true, response: message.result, durationMs }
                : {
                    ok: false,
                    errorType: message.errorType ?? 'Error',
                    errorMessage: message.errorMessage ?? '',
                    durationMs,
                  },
            );
          }
        },
      );
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        reject(new Error(`sandbox exited during init (code ${code}, signal ${signal})`));
        if (this.pending) {
          const p = this.pending;
          this.pending = undefined;
          p.resolve({
            ok: false,
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${p.id} Error: Runtime exited (code ${code}, signal ${signal})`,
            durationMs: Date.now() - p.started,
          });
        }
      });
    });
    ready.catch(() => undefined);
    return ready;
  }

  async invoke(event: unknown, context: Record<string, unknown>, fault?: Fault): Promise<InvokeOutcome> {
    const started = Date.now();
    if (!this.ready) this.ready = this.start();
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined;
      return {
        ok: false,
        errorType: 'Runtime.InitError',
        errorMessage: (err as Error).message,
        durationMs: Date.now() - started,
      };
    }
    const child = this.child;
    if (!child)
      return { ok: false, errorType: 'Runtime.ExitError', errorMessage: 'sandbox gone', durationMs: 0 };
    const id = this.nextId++;
    const deadline = Date.now() + this.options.timeoutMs;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        child.kill('SIGKILL');
        resolve({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${(this.options.timeoutMs / 1000).toFixed(2)} seconds`,
          durationMs: Date.now() - started,
        });
      }, this.options.timeoutMs);
      this.pending = {
        id,
        started,
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      child.send({ type: 'invoke', id, event, deadline, context, fault });
    });
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Kills the environment now, mid-invocation or not (the invocation fails as a crash). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}
