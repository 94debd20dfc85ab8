/**
 * Background processes the project owns: each started in its own process group (so stopping it
 * also stops anything it spawned), output to a log file, health-checked before use, and
 * registered so an exiting test or script never leaves one behind.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export interface Started {
  name: string;
  pid: number;
  logFile: string;
}

const owned = new Set<number>();
/** Children of this process: their 'exit' (reaped, not a zombie) is what tells they are gone. */
const exited = new Map<number, Promise<void>>();
const gone = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: a kill is all that fits, and all that is needed.
  process.on('exit', () => {
    for (const pid of owned) killGroup(pid, 'SIGKILL');
  });
  // Killed by a signal, 'exit' does not run: stop the children first, then die as asked
  // (unless the host, e.g. a CLI with its own shutdown, handles the signal itself).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const pid of owned) killGroup(pid, 'SIGKILL');
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks; it is released before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  logFile: string;
  /** Leave it running when this process exits (`make local-up`); otherwise it is killed on exit. */
  survive?: boolean;
}): Started {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
  child.unref();
  const pid = child.pid;
  exited.set(
    pid,
    new Promise<void>((resolve) =>
      child.once('exit', () => {
        gone.add(pid);
        resolve();
      }),
    ),
  );
  if (!options.survive) {
    installExitHook();
    owned.add(child.pid);
  }
  return { name: options.name, pid: child.pid, logFile: options.logFile };
}

export function isAlive(pid: number): boolean {
  if (gone.has(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM the process group, then SIGKILL what is still there after the grace period. */
export async function stopProcess(pid: number, graceMs = 3_000): Promise<void> {
  killGroup(pid, 'SIGCONT'); // a frozen (SIGSTOPped) process cannot act on SIGTERM
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) killGroup(pid, 'SIGKILL');
  const reaped = exited.get(pid);
  if (reaped) {
    // A ref'd timer: while we wait for the reaping, something must keep the event loop alive, or
    // Node exits quietly with code 0 halfway through a caller's clean-up (the child is unref'd).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reaped, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
  } else while (isAlive(pid)) await sleep(50);
  owned.delete(pid);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it resolves true; fails with the log file named if the process dies or time runs out. */
export async function waitHealthy(
  started: Started,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(started.pid)) throw new Error(`${started.name} exited during start; see ${started.logFile}`);
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`${started.name} not healthy after ${timeoutMs} ms; see ${started.logFile}`);
    await sleep(150);
  }
}
