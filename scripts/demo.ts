/**
 * `make demo`: the whole pipeline on this machine. Starts the local AWS (or reuses `make
 * local-up`'s), deploys the resources, runs the three bundled functions under the local event
 * source mapping runner, sends seeded traffic, and reports what happened: as text, and as an HTML
 * page under .local/ whose path is the last line printed. Then stops everything it started,
 * unless --keep-running.
 *   make demo DEMO_ARGS="--duration 30 --rate 60 --users 40 --seed 7 --keep-running"
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Clients, makeClients } from '../lib/aws.js';
import { DEPLOYED_FUNCTIONS, loadResources } from '../lib/config.js';
import { localPaths } from '../lib/paths.js';
import { printArchive } from './demo/archive.js';
import { DEMO_USAGE, type DemoOptions, parseDemoArgs } from './demo/args.js';
import {
  type DemoAlert,
  type DemoReport,
  type MinuteNumbers,
  reportLines,
  writeDemoHtml,
} from './demo/report.js';
import { paint } from './local/demo-format.js';
import { drainQueue, readSessions, type SnsEnvelope } from './local/readback.js';
import { createResources, type LocalResources } from './local/resources.js';
import { formatStats, type Runner, startRunner } from './local/runner.js';
import { readState, type StackState, startStack, stopStack } from './local/stack.js';
import { readSeries, readSlidingWindow } from './metrics/query.js';
import { MINUTE_MS, slidingWindow } from './metrics/window.js';
import { progress } from './progress.js';
import { type ProduceArgs, trafficFor, UsageError } from './traffic/args.js';
import type { Traffic } from './traffic/generator.js';
import { type SendResult, sendTraffic } from './traffic/send.js';

// Node 20 is supported by this project; the SDK's notice about its future minimum is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where the HTML report goes: the git-ignored state folder, overwritten by the next run. */
export const REPORT_FILE = 'demo-report.html';

interface Pipeline {
  clients: Clients;
  resources: LocalResources;
  runner: Runner;
}

/** Step 1: the local AWS stand-ins, started or reused. */
async function startLocalAws(keepRunning: boolean): Promise<{ stack: StackState; reused: boolean }> {
  const t0 = Date.now();
  const reused = Boolean(readState());
  console.log(paint.head('Pulse demo: local AWS'));
  const stack = await startStack({ reuse: true, detach: keepRunning });
  console.log(
    `  kinesis ${stack.endpoints.kinesis}   other services ${stack.endpoints.default}   (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return { stack, reused };
}

/** Step 2: the stream, tables, queues and topic, and the three functions reading the stream. */
async function deployPipeline(
  stack: StackState,
  clients: Clients,
  shards: number,
  reused: boolean,
): Promise<Pipeline> {
  const resources = await createResources(clients, { shards });
  console.log(
    `  deployed: stream ${resources.streamName} (${shards} shards), ${Object.keys(resources.tables).length} tables, topic, queues`,
  );
  if (!reused) rmSync(localPaths().checkpointsDir, { recursive: true, force: true });
  await drainQueue(clients, resources.alertTapQueue);
  const runner = await startRunner({ endpoints: stack.endpoints, resources, log: () => undefined });
  console.log(
    `  runner: ${DEPLOYED_FUNCTIONS.join(', ')} as EFO consumers; logs in ${join(localPaths().logsDir)}`,
  );
  return { clients, resources, runner };
}

/** Prints fraud alerts as they arrive through the SNS → SQS tap, until stopped. */
function watchAlerts(
  pipeline: Pipeline,
  beforePrint: () => void,
): { alerts: DemoAlert[]; stop: () => Promise<void> } {
  const alerts: DemoAlert[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      const messages = await drainQueue(pipeline.clients, pipeline.resources.alertTapQueue, 1).catch(
        () => [],
      );
      for (const m of messages) {
        const env = m.json as SnsEnvelope;
        const a = env.MessageAttributes ?? {};
        const alert = {
          at: Date.now(),
          severity: a.severity?.Value ?? '?',
          rule: a.rule?.Value ?? '?',
          subject: env.Subject ?? '',
        };
        alerts.push(alert);
        beforePrint();
        console.log(paint.alert(`  ALERT ${alert.severity} ${alert.rule}: ${alert.subject}`));
      }
    }
  })();
  return {
    alerts,
    stop: async () => {
      watching = false;
      await loop;
    },
  };
}

interface RunTimes {
  sendStartedAt: number;
  caughtUpAt: number;
}

/** Step 3: the seeded traffic onto the stream, then wait until every function processed it. */
async function sendAndProcess(
  pipeline: Pipeline,
  args: ProduceArgs,
  traffic: Traffic,
): Promise<{ sent: SendResult; alerts: DemoAlert[]; times: RunTimes; warnings: string[] }> {
  console.log(
    paint.head(
      `Traffic: seed ${args.seed}, ${traffic.events.length} events, ${args.users} users, ${args.rate}/s for ${args.duration} s`,
    ),
  );
  const bar = progress({ total: traffic.events.length, label: 'sent' });
  const watcher = watchAlerts(pipeline, () => bar.clear());
  const sendStartedAt = Date.now();
  const sent = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: pipeline.clients.kinesis,
    stream: pipeline.resources.streamName,
    onProgress: (s, f) => {
      const processed = pipeline.runner
        .stats()
        .map((x) => `${x.fn.split('-')[0]} ${x.processed}`)
        .join(' ');
      bar.update(s + f, `processed: ${processed}`);
    },
  });
  bar.finish();
  const warnings: string[] = [];
  try {
    await pipeline.runner.waitForProcessed(sent.sent, 120_000);
  } catch (err) {
    warnings.push(`not everything was processed: ${(err as Error).message}`);
    console.log(paint.warn(`  ${warnings.at(-1)}`));
  }
  const caughtUpAt = Date.now();
  await new Promise((r) => setTimeout(r, 2_500)); // last alerts through SNS → SQS
  await watcher.stop();
  return { sent, alerts: watcher.alerts, times: { sendStartedAt, caughtUpAt }, warnings };
}

/** Currency -> the minute's value, for the currencies that have one. */
function perCurrency(
  byCurrency: ReadonlyMap<string, ReadonlyMap<number, number>>,
  minute: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [currency, values] of byCurrency) {
    const value = values.get(minute);
    if (value !== undefined) out[currency] = value;
  }
  return out;
}

/** Per-minute events, purchases and revenue from CloudWatch, over the minutes the run covered. */
async function perMinute(pipeline: Pipeline, from: number, to: number): Promise<MinuteNumbers[]> {
  const start = Math.floor(from / MINUTE_MS) * MINUTE_MS;
  const namespace = loadResources().metrics.namespace;
  const series = await readSeries(pipeline.clients.cloudwatch, namespace, pipeline.resources.environment, {
    start: new Date(start),
    end: new Date(to),
  });
  const minutes: MinuteNumbers[] = [];
  for (let minute = start; minute < to; minute += MINUTE_MS) {
    minutes.push({
      minute,
      events: series.events.get(minute) ?? 0,
      purchases: series.purchases.get(minute) ?? 0,
      revenue: perCurrency(series.revenue, minute),
      orders: perCurrency(series.orders, minute),
    });
  }
  return minutes;
}

/** Step 4: read back what the pipeline wrote and compare it with the truth of the traffic. */
async function collectReport(
  pipeline: Pipeline,
  options: DemoOptions,
  traffic: Traffic,
  run: Awaited<ReturnType<typeof sendAndProcess>>,
): Promise<DemoReport> {
  const { clients, resources, runner } = pipeline;
  const sessions = await readSessions(clients, resources.tables.sessions!);
  const now = Date.now();
  const window = await readSlidingWindow({
    cloudwatch: clients.cloudwatch,
    environment: resources.environment,
    end: slidingWindow(new Date(now), 5 * 60_000).end,
    windowMinutes: 5,
  });
  const args = options.traffic;
  return {
    traffic: {
      seed: args.seed,
      events: traffic.events.length,
      users: args.users,
      rate: args.rate,
      duration: args.duration,
      shards: options.shards,
    },
    times: { runnerStartedAt: runner.startedAt, ...run.times, finishedAt: now },
    sent: { sent: run.sent.sent, failed: run.sent.failed.length, rate: run.sent.rate },
    functions: runner.stats(),
    sessions: {
      users: sessions.users,
      opened: sessions.sessionsOpened,
      closed: sessions.closedSessionItems,
      expectedOpened: traffic.truth.sessionsOpened,
      expectedClosed: traffic.truth.sessionsClosed,
    },
    topProducts: traffic.truth.topProducts.slice(0, 5),
    alerts: run.alerts,
    expectedAlertRules: traffic.truth.alerts.map((a) => a.rule),
    window,
    perMinute: await perMinute(pipeline, run.times.sendStartedAt, now),
    truth: {
      events: traffic.truth.events,
      purchases: traffic.truth.purchases,
      revenue: traffic.truth.revenue,
    },
    warnings: run.warnings,
  };
}

/** Step 5: the text report, and the same report as a page. */
function publishReport(report: DemoReport): string {
  console.log(paint.head('Report'));
  for (const line of reportLines(report)) console.log(line);
  return writeDemoHtml(report, join(localPaths().stateDir, REPORT_FILE));
}

/** With --keep-running: the functions keep reading until Ctrl-C. */
async function keepRunningUntilInterrupted(runner: Runner, onSignal: () => void): Promise<void> {
  console.log(
    paint.head(
      'Still running (--keep-running): `make produce`, `make metrics`; stop with Ctrl-C, then `make local-down`',
    ),
  );
  const timer = setInterval(() => console.log(formatStats(runner.stats(), runner.startedAt)), 15_000);
  await new Promise<void>((resolve) =>
    process.once('SIGINT', () => {
      clearInterval(timer);
      resolve();
    }),
  );
  process.removeListener('SIGINT', onSignal);
}

async function main(): Promise<void> {
  const options = parseDemoArgs(process.argv.slice(2));
  if (options.help) {
    console.log(DEMO_USAGE);
    return;
  }
  const { stack, reused } = await startLocalAws(options.keepRunning);
  let clients: Clients | undefined;
  let pipeline: Pipeline | undefined;
  const cleanup = async () => {
    await pipeline?.runner.stop();
    clients?.destroy();
    if (!options.keepRunning && !reused) await stopStack(stack);
  };
  const onSignal = () => {
    console.error('\ninterrupted: stopping');
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let reportPath: string;
  try {
    clients = makeClients(stack.endpoints);
    pipeline = await deployPipeline(stack, clients, options.shards, reused);
    const traffic = trafficFor(options.traffic);
    const run = await sendAndProcess(pipeline, options.traffic, traffic);
    reportPath = publishReport(await collectReport(pipeline, options, traffic, run));
    if (pipeline.resources.buckets.archive)
      await printArchive(clients, pipeline.resources.buckets.archive, traffic);
    if (options.keepRunning) await keepRunningUntilInterrupted(pipeline.runner, onSignal);
  } finally {
    await cleanup();
  }
  console.log(
    options.keepRunning
      ? 'runner stopped; the local stack keeps running (`make local-down`)'
      : 'stopped: nothing left running',
  );
  console.log(`report: ${reportPath}`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err instanceof UsageError ? err.message : `demo failed: ${err.stack ?? err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
