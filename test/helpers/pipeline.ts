/**
 * The local pipeline for end-to-end tests: its own stack (emulators on free ports), resources,
 * runner and state folder per test file; `stop()` leaves nothing behind, and the stack's exit
 * hook kills the emulators even if a test crashes before afterAll.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Clients, makeClients } from '../../lib/aws.js';
import { DEPLOYED_FUNCTIONS, type DeployedFunction } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import { drainQueue } from '../../scripts/local/readback.js';
import { createResources, type LocalResources } from '../../scripts/local/resources.js';
import { type Runner, type RunnerOptions, startRunner } from '../../scripts/local/runner.js';
import { type StackState, startStack, stopStack } from '../../scripts/local/stack.js';

export interface Pipeline {
  stack: StackState;
  clients: Clients;
  resources: LocalResources;
  runner: Runner;
  stateDir: string;
  logs: string[];
  /** Starts a new runner on the same state (checkpoints), after the old one stopped or crashed. */
  restartRunner(): Promise<Runner>;
  stop(): Promise<void>;
}

export type PipelineOptions = Omit<RunnerOptions, 'endpoints' | 'resources' | 'stateDir'> & {
  shards?: number;
};

export function requireBundles(functions: readonly DeployedFunction[] = DEPLOYED_FUNCTIONS): void {
  for (const fn of functions) {
    const path = join(repoRoot(), 'dist', fn, 'index.mjs');
    if (!existsSync(path)) throw new Error(`${path} missing: run \`make build\` before the end-to-end tests`);
  }
}

export async function startPipeline(name: string, options: PipelineOptions = {}): Promise<Pipeline> {
  if (!options.handlers) requireBundles(options.functions);
  const stateDir = join(repoRoot(), '.local', 'test', `${name}-${process.pid}`);
  rmSync(stateDir, { recursive: true, force: true });
  const stack = await startStack({ stateDir });
  const logs: string[] = [];
  let clients: Clients | undefined;
  let runner: Runner | undefined;
  try {
    clients = makeClients(stack.endpoints);
    const resources = await createResources(clients, { shards: options.shards ?? 2 });
    const runnerOptions: RunnerOptions = {
      backoffMs: (attempt) => Math.min(1_000, 50 * 2 ** (attempt - 1)),
      ...options,
      endpoints: stack.endpoints,
      resources,
      stateDir,
      log: (m) => logs.push(m),
    };
    runner = await startRunner(runnerOptions);
    const pipeline: Pipeline = {
      stack,
      clients,
      resources,
      runner,
      stateDir,
      logs,
      async restartRunner() {
        pipeline.runner = await startRunner(runnerOptions);
        return pipeline.runner;
      },
      async stop() {
        await pipeline.runner.stop().catch(() => undefined);
        clients?.destroy();
        await stopStack(stack);
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
    return pipeline;
  } catch (err) {
    await runner?.stop().catch(() => undefined);
    clients?.destroy();
    await stopStack(stack);
    throw err;
  }
}

/** Messages in a queue now (received and deleted). */
export function drain(p: Pipeline, queueUrl: string, waitSeconds = 0) {
  return drainQueue(p.clients, queueUrl, waitSeconds);
}
