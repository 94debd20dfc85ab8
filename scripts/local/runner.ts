/**
 * The local event-source-mapping runner: plays Lambda for the three bundled functions (dist/),
 * each as its own enhanced fan-out consumer. See mapping.ts, shard-processor.ts, subscription.ts.
 *
 *   npx tsx scripts/local/runner.ts [--functions a,b] [--stats-every 5]
 *
 * needs a running stack (`make local-up`). Fault injection from the command line:
 *   PULSE_FAULTS="session-updater:after:exit:2,fraud-rules:before:throw:1"
 * (function:phase:action:times — phase before|after the handler; action throw|exit|hang).
 * Tests use startRunner() and the returned Runner's injectFault / kill / proxy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Clients, type Endpoints, makeClients } from '../../lib/aws.js';
import {
  DEPLOYED_FUNCTIONS,
  type DeployedFunction,
  type EventSourceMappingSpec,
  loadFunction,
} from '../../lib/config.js';
import { flagMessage, parseFlags, stringFlag } from '../../lib/flags.js';
import { localPaths } from '../../lib/paths.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { FunctionMapping, type MappingStats } from './mapping.js';
import { sleep } from './processes.js';
import { createResources, type LocalResources } from './resources.js';
import type { Fault } from './sandbox.js';
import { Schedule } from './schedule.js';

export interface RunnerOptions {
  endpoints: Endpoints;
  resources: LocalResources;
  functions?: readonly DeployedFunction[];
  /** Handler bundle per function; default dist/<fn>/index.mjs. */
  handlers?: Partial<Record<DeployedFunction, string>>;
  stateDir?: string;
  /** Re-subscribe period; AWS ends subscriptions at 5 minutes, so the default is 4.5. */
  resubscribeMs?: number;
  shardPollMs?: number;
  /** Put a fault proxy between each function and its AWS endpoint. */
  faultProxy?: boolean;
  /** Per-function overrides of the event source mapping (tests: shorter windows). */
  esm?: Partial<Record<DeployedFunction, Partial<EventSourceMappingSpec>>>;
  /** Per-function environment variables on top of function.json's. */
  environment?: Partial<Record<DeployedFunction, Record<string, string>>>;
  /** Period of every function.json `schedule` (default: its rate expression, as in AWS). */
  scheduleEveryMs?: number;
  backoffMs?: (attempt: number) => number;
  log?: (message: string) => void;
}

export interface Runner {
  startedAt: number;
  mappings: Map<DeployedFunction, FunctionMapping>;
  /** The scheduled invocations (function.json `schedule`), per function. */
  schedules: Map<DeployedFunction, Schedule>;
  stats(): MappingStats[];
  injectFault(fn: DeployedFunction, fault: Fault, times?: number): void;
  /** Kill the function's execution environments (mid-batch if busy); returns how many were busy. */
  kill(fn: DeployedFunction): number;
  proxy(fn: DeployedFunction): FaultProxy;
  /** Waits until every function has processed (or sent to its destination) at least `count` records. */
  waitForProcessed(
    count: number | Partial<Record<DeployedFunction, number>>,
    timeoutMs: number,
  ): Promise<void>;
  stop(): Promise<void>;
  /** Stop abruptly: environments killed mid-batch, nothing flushed beyond the checkpoints already written. */
  crash(): Promise<void>;
}

export async function startRunner(o: RunnerOptions): Promise<Runner> {
  const paths = localPaths(o.stateDir);
  const clients: Clients = makeClients(o.endpoints);
  const log = o.log ?? ((m: string) => console.error(`[runner] ${m}`));
  const functions = o.functions ?? DEPLOYED_FUNCTIONS;
  const mappings = new Map<DeployedFunction, FunctionMapping>();
  const proxies = new Map<DeployedFunction, FaultProxy>();
  const schedules = new Map<DeployedFunction, Schedule>();
  const startedAt = Date.now();
  for (const fn of functions) {
    const handlerPath = o.handlers?.[fn] ?? join(paths.root, 'dist', fn, 'index.mjs');
    if (!existsSync(handlerPath)) throw new Error(`${handlerPath} missing: run \`make build\``);
    const spec = loadFunction(fn);
    const proxy = o.faultProxy ? await startFaultProxy(o.endpoints.default) : undefined;
    if (proxy) proxies.set(fn, proxy);
    mappings.set(
      fn,
      new FunctionMapping({
        fn,
        spec,
        esm: { ...spec.eventSourceMapping, ...o.esm?.[fn] },
        clients,
        endpoints: o.endpoints,
        resources: o.resources,
        handlerPath,
        checkpointsDir: paths.checkpointsDir,
        logsDir: paths.logsDir,
        resubscribeMs: o.resubscribeMs ?? 270_000,
        shardPollMs: o.shardPollMs ?? 5_000,
        proxy,
        environment: o.environment?.[fn],
        backoffMs: o.backoffMs,
        log: (m) => log(`${fn}: ${m}`),
      }),
    );
  }
  // Functions start independently: one failing to start does not stop the others.
  await Promise.all([...mappings.values()].map((m) => m.start()));
  for (const [fn, mapping] of mappings) {
    const spec = loadFunction(fn).schedule;
    if (!spec) continue;
    const schedule = new Schedule({
      spec,
      everyMs: o.scheduleEveryMs,
      invoke: (input) => mapping.invokeScheduled(input),
      log: (m) => log(`${fn}: ${m}`),
    });
    schedules.set(fn, schedule);
    schedule.start();
  }
  let closed = false;
  const close = async (how: 'stop' | 'crash') => {
    if (closed) return;
    closed = true;
    await Promise.all([...schedules.values()].map((s) => s.stop()));
    await Promise.all([...mappings.values()].map((m) => (how === 'crash' ? m.crash() : m.stop())));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    clients.destroy();
  };
  return {
    startedAt,
    mappings,
    schedules,
    stats: () => [...mappings.values()].map((m) => m.stats()),
    injectFault: (fn, fault, times) => mappings.get(fn)?.injectFault(fault, times),
    kill: (fn) => mappings.get(fn)?.killSandboxes() ?? 0,
    proxy: (fn) => {
      const p = proxies.get(fn);
      if (!p) throw new Error('runner started without faultProxy');
      return p;
    },
    async waitForProcessed(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = [...mappings.values()].map((m) => m.stats());
        const done = all.every((s) => {
          const want = typeof count === 'number' ? count : (count[s.fn] ?? 0);
          return s.processed + s.sentToDestination >= want;
        });
        if (done) return;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${JSON.stringify(count)} processed: ${all.map((s) => `${s.fn}=${s.processed}+${s.sentToDestination}`).join(' ')}`,
          );
        }
        await sleep(200);
      }
    },
    stop: () => close('stop'),
    crash: () => close('crash'),
  };
}

export function formatStats(stats: MappingStats[], startedAt: number): string {
  const lines = [
    `${'function'.padEnd(16)}${'received'.padStart(9)}${'processed'.padStart(10)}${'to DLQ'.padStart(7)}${'invokes'.padStart(8)}${'errors'.padStart(7)}${'lag avg/max ms'.padStart(16)}${'behind ms'.padStart(10)}${'1st event s'.padStart(12)}`,
  ];
  for (const s of stats) {
    const first = s.firstProcessedAt ? ((s.firstProcessedAt - startedAt) / 1000).toFixed(1) : '-';
    lines.push(
      `${s.fn.padEnd(16)}${String(s.received).padStart(9)}${String(s.processed).padStart(10)}${String(s.sentToDestination).padStart(7)}${String(s.invocations).padStart(8)}${String(s.functionErrors).padStart(7)}${`${s.lagMs.avg}/${s.lagMs.max}`.padStart(16)}${String(s.millisBehindLatest).padStart(10)}${first.padStart(12)}`,
    );
  }
  return lines.join('\n');
}

export function parseFaults(
  spec: string | undefined,
): Array<{ fn: DeployedFunction; fault: Fault; times: number }> {
  if (!spec) return [];
  return spec.split(',').map((item) => {
    const [fn, phase, action, times] = item.trim().split(':');
    if (!(DEPLOYED_FUNCTIONS as readonly string[]).includes(fn ?? ''))
      throw new Error(`PULSE_FAULTS: unknown function ${fn}`);
    if (phase !== 'before' && phase !== 'after')
      throw new Error(`PULSE_FAULTS: phase must be before|after, got ${phase}`);
    if (action !== 'throw' && action !== 'exit' && action !== 'hang')
      throw new Error(`PULSE_FAULTS: action must be throw|exit|hang, got ${action}`);
    const n = Number(times ?? 1);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`PULSE_FAULTS: times must be a positive integer, got ${times}`);
    return { fn: fn as DeployedFunction, fault: { phase, action }, times: n };
  });
}

/** `runner.ts [--functions a,b] [--stats-every seconds]`. */
export function parseRunnerArgs(argv: readonly string[]): {
  functions?: DeployedFunction[];
  statsEveryMs: number;
} {
  const flags = parseFlags(
    argv,
    { functions: { type: 'string' }, 'stats-every': { type: 'string' } },
    {
      fail: (problem) =>
        new Error(`${flagMessage(problem)}; usage: runner.ts [--functions a,b] [--stats-every seconds]`),
    },
  );
  const list = stringFlag(flags, 'functions')?.split(',');
  const unknown = (list ?? []).filter((fn) => !(DEPLOYED_FUNCTIONS as readonly string[]).includes(fn));
  if (unknown.length > 0)
    throw new Error(
      `--functions: unknown ${unknown.join(', ')}; expected some of ${DEPLOYED_FUNCTIONS.join(', ')}`,
    );
  const seconds = Number(stringFlag(flags, 'stats-every') ?? 5);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new Error(
      `--stats-every needs a positive number of seconds, got ${stringFlag(flags, 'stats-every')}`,
    );
  return { functions: list as DeployedFunction[] | undefined, statsEveryMs: seconds * 1000 };
}

async function main(): Promise<void> {
  const { functions, statsEveryMs: every } = parseRunnerArgs(process.argv.slice(2));
  const { readState } = await import('./stack.js');
  const state = readState();
  if (!state) throw new Error('no local stack: run `make local-up` first');
  const clients = makeClients(state.endpoints);
  const resources = await createResources(clients);
  clients.destroy();
  const runner = await startRunner({ endpoints: state.endpoints, resources, functions });
  for (const f of parseFaults(process.env.PULSE_FAULTS)) runner.injectFault(f.fn, f.fault, f.times);
  console.error(`runner started for ${[...runner.mappings.keys()].join(', ')}; Ctrl-C stops it`);
  const timer = setInterval(() => console.error(formatStats(runner.stats(), runner.startedAt)), every);
  const shutdown = async () => {
    clearInterval(timer);
    await runner.stop();
    console.error(formatStats(runner.stats(), runner.startedAt));
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && /scripts[/\\]local[/\\]runner\.ts$/.test(process.argv[1])) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
