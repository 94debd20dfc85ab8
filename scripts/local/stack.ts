/**
 * The local AWS: kinesis-local (Kinesis incl. enhanced fan-out) and moto_server (DynamoDB, SQS,
 * SNS, CloudWatch, ...) on free 127.0.0.1 ports. State (pids, ports) is in <stateDir>/stack.json,
 * logs in <stateDir>/logs/.
 *
 *   npx tsx scripts/local/stack.ts up       start (or reuse), create the resources, print the export lines
 *   npx tsx scripts/local/stack.ts down     stop what `up` started
 *   npx tsx scripts/local/stack.ts status   print the state
 *
 * Tests call startStack({ stateDir }) / stopStack(stack). With PULSE_ENDPOINT_URL set (e.g. a
 * LocalStack at http://localhost:4566) nothing is started: every service uses that endpoint.
 */

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { type Endpoints, endpointEnv, makeClients } from '../../lib/aws.js';
import { flagMessage, parseFlags } from '../../lib/flags.js';
import { localPaths } from '../../lib/paths.js';
import { freePort, isAlive, startProcess, stopProcess, waitHealthy } from './processes.js';
import { createResources } from './resources.js';

export interface StackState {
  endpoints: Endpoints;
  kinesis?: { pid: number; plainPort: number; tlsPort: number; logFile: string };
  moto?: { pid: number; port: number; logFile: string };
  /** True when the endpoints belong to someone else (LocalStack): `down` leaves them alone. */
  external: boolean;
  stateDir: string;
  startedAt: string;
}

export interface StackOptions {
  /** Folder for stack.json, logs and checkpoints; default `.local`. Tests use their own. */
  stateDir?: string;
  /** Reuse a running stack recorded in stateDir (CLI `up`); tests always start their own. */
  reuse?: boolean;
  /** Keep the emulators running after this process exits (the CLI's `up`). */
  detach?: boolean;
  /** Start-up timeout per emulator. */
  timeoutMs?: number;
}

async function probe(url: string, init?: RequestInit): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.status < 500;
}

function kinesisProbe(port: number): () => Promise<boolean> {
  return () =>
    probe(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.ListStreams',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
}

/**
 * SDK v3 talks to CloudWatch in JSON; moto understands that only with a recent botocore in its
 * virtualenv. Installing another tool that pins an older botocore into the same venv breaks it.
 */
async function checkCloudWatchJson(endpoints: Endpoints): Promise<void> {
  const clients = makeClients(endpoints, { maxAttempts: 1 });
  try {
    await clients.cloudwatch.send(new ListMetricsCommand({ Namespace: 'Pulse/health' }));
  } catch (err) {
    throw new Error(
      `moto_server cannot serve CloudWatch over the JSON protocol the SDK sends (${(err as Error).message}). ` +
        'Its botocore is too old: keep moto in a virtualenv of its own (no tool pinning botocore), ' +
        'or point PULSE_MOTO_SERVER at a moto_server that works.',
    );
  } finally {
    clients.destroy();
  }
}

export function readState(stateDir?: string): StackState | undefined {
  const { stackFile } = localPaths(stateDir);
  if (!existsSync(stackFile)) return undefined;
  return JSON.parse(readFileSync(stackFile, 'utf8')) as StackState;
}

function stateAlive(state: StackState): boolean {
  if (state.external) return true;
  return Boolean(state.kinesis && isAlive(state.kinesis.pid) && state.moto && isAlive(state.moto.pid));
}

export async function startStack(options: StackOptions = {}): Promise<StackState> {
  const paths = localPaths(options.stateDir);
  mkdirSync(paths.logsDir, { recursive: true });
  const external = process.env.PULSE_ENDPOINT_URL;
  if (external) {
    const state: StackState = {
      endpoints: { default: external, kinesis: external },
      external: true,
      stateDir: paths.stateDir,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(paths.stackFile, JSON.stringify(state, null, 2));
    return state;
  }
  if (options.reuse) {
    const existing = readState(options.stateDir);
    if (existing && stateAlive(existing)) return existing;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const [plainPort, tlsPort, motoPort] = [await freePort(), await freePort(), await freePort()];
  const kinesisDir = join(paths.root, 'node_modules', 'kinesis-local');
  const motoBin = process.env.PULSE_MOTO_SERVER ?? join(paths.root, '.venv', 'bin', 'moto_server');
  if (!existsSync(join(kinesisDir, 'main.js')))
    throw new Error('node_modules/kinesis-local missing: run `make install`');
  if (!existsSync(motoBin)) throw new Error('.venv/bin/moto_server missing: run `make install`');
  const kinesis = startProcess({
    name: 'kinesis-local',
    command: process.execPath,
    args: ['main.js'],
    cwd: kinesisDir, // it reads server.json (its TLS certificate) from here
    env: {
      KINESIS_MOCK_PLAIN_PORT: String(plainPort),
      KINESIS_MOCK_TLS_PORT: String(tlsPort),
      LOG_LEVEL: 'WARN',
      SHOULD_PERSIST_DATA: 'false',
    },
    logFile: join(paths.logsDir, 'kinesis-local.log'),
    survive: options.detach,
  });
  const moto = startProcess({
    name: 'moto_server',
    command: motoBin,
    args: ['-H', '127.0.0.1', '-p', String(motoPort)],
    cwd: paths.root,
    logFile: join(paths.logsDir, 'moto.log'),
    survive: options.detach,
  });
  const state: StackState = {
    endpoints: { default: `http://127.0.0.1:${motoPort}`, kinesis: `http://127.0.0.1:${plainPort}` },
    kinesis: { pid: kinesis.pid, plainPort, tlsPort, logFile: kinesis.logFile },
    moto: { pid: moto.pid, port: motoPort, logFile: moto.logFile },
    external: false,
    stateDir: paths.stateDir,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(paths.stackFile, JSON.stringify(state, null, 2));
  try {
    await Promise.all([
      waitHealthy(kinesis, kinesisProbe(plainPort), timeoutMs),
      waitHealthy(moto, () => probe(`http://127.0.0.1:${motoPort}/moto-api/`), timeoutMs),
    ]);
    await checkCloudWatchJson(state.endpoints);
  } catch (err) {
    await stopStack(state);
    throw err;
  }
  return state;
}

export async function stopStack(state: StackState | undefined): Promise<void> {
  if (!state) return;
  if (!state.external) {
    await Promise.all([
      state.kinesis ? stopProcess(state.kinesis.pid, 500) : undefined, // kinesis-local ignores SIGTERM; it keeps no state on disk
      state.moto ? stopProcess(state.moto.pid) : undefined,
    ]);
  }
  rmSync(join(state.stateDir, 'stack.json'), { force: true });
}

/** The environment a process needs to reach this stack. */
export function stackEnv(state: StackState): Record<string, string> {
  return endpointEnv(state.endpoints);
}

function printExports(state: StackState): void {
  // PULSE_ENVIRONMENT: `make metrics` and friends read the local environment's dimension.
  const env = { ...stackEnv(state), PULSE_ENVIRONMENT: 'local' };
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
}

const STACK_USAGE = 'usage: npx tsx scripts/local/stack.ts [up|down|env|status] [--no-resources]';

/** `stack.ts [command] [--no-resources]`: at most one command, default up. */
export function parseStackArgs(argv: readonly string[]): { command: string; resources: boolean } {
  const flags = parseFlags(
    argv,
    { 'no-resources': { type: 'boolean' } },
    {
      positionals: true,
      fail: (problem) => new Error(`${flagMessage(problem)}; ${STACK_USAGE}`),
    },
  );
  if (flags.positionals.length > 1)
    throw new Error(`one command at a time, got ${flags.positionals.join(' ')}; ${STACK_USAGE}`);
  return { command: flags.positionals[0] ?? 'up', resources: flags.values['no-resources'] !== true };
}

async function main(): Promise<void> {
  const { command, resources } = parseStackArgs(process.argv.slice(2));
  if (command === 'up') {
    const state = await startStack({ reuse: true, detach: true });
    console.error(
      state.external
        ? `using external endpoint ${state.endpoints.default} (PULSE_ENDPOINT_URL)`
        : `kinesis-local  ${state.endpoints.kinesis}  (pid ${state.kinesis?.pid}; TLS on :${state.kinesis?.tlsPort})\nmoto_server    ${state.endpoints.default}  (pid ${state.moto?.pid})\nlogs           ${join(state.stateDir, 'logs')}\n# eval "$(npx tsx scripts/local/stack.ts env)" to use it from this shell:`,
    );
    if (resources) {
      const clients = makeClients(state.endpoints);
      const res = await createResources(clients, { shards: Number(process.env.PULSE_SHARDS ?? 2) });
      clients.destroy();
      console.error(
        `resources      stream ${res.streamName}, tables ${Object.values(res.tables).join(', ')}`,
      );
    }
    printExports(state);
  } else if (command === 'env') {
    const state = readState();
    if (!state) throw new Error('no local stack: run `make local-up`');
    printExports(state);
  } else if (command === 'down') {
    const state = readState();
    await stopStack(state);
    console.error(state ? 'local stack stopped' : 'no local stack was running');
  } else if (command === 'status') {
    const state = readState();
    console.log(state ? JSON.stringify({ ...state, alive: stateAlive(state) }, null, 2) : 'not running');
  } else {
    throw new Error(`unknown command ${JSON.stringify(command)}: expected up, down, env or status`);
  }
}

if (process.argv[1] && /scripts[/\\]local[/\\]stack\.ts$/.test(process.argv[1])) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
