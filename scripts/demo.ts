/**
 * `make demo`: the whole pipeline on this machine. Starts the local AWS (or reuses `make
 * local-up`'s), deploys the resources, runs the three bundled functions under the local event
 * source mapping runner, sends seeded traffic, and reports what happened. Then stops everything
 * it started, unless --keep-running.
 *   make demo DEMO_ARGS="--duration 30 --rate 60 --users 40 --seed 7 --keep-running"
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatTotals } from '../services/shared/money.js';
import { type Clients, makeClients } from './local/aws.js';
import { FUNCTIONS } from './local/config.js';
import { paint } from './local/demo-format.js';
import { localPaths } from './local/paths.js';
import { drainQueue, readSessions, type SnsEnvelope } from './local/readback.js';
import { createResources } from './local/resources.js';
import { formatStats, startRunner } from './local/runner.js';
import { readState, type StackState, startStack, stopStack } from './local/stack.js';
import { formatResult, readSlidingWindow } from './metrics/query.js';
import { slidingWindow } from './metrics/window.js';
import { PRODUCE_USAGE, parseProduceArgs, progressBar, trafficFor, UsageError } from './traffic/args.js';
import { sendTraffic } from './traffic/send.js';

// Node 20 is supported by this project; the SDK's notice about its future minimum is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEMO_USAGE = `Usage: make demo DEMO_ARGS="[options]"   (or npx tsx scripts/demo.ts [options])
  --keep-running    leave the local stack and data up afterwards (make local-down stops it)
  --shards N        stream shards, 1 to 8 (default 2)
  defaults differ from produce: --duration 60 --rate 40 --fraud large,burst,hop
Traffic options (as npm run produce):
${PRODUCE_USAGE.split('\n').slice(1).join('\n')}`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DEMO_USAGE);
    return;
  }
  const keepRunning = argv.includes('--keep-running');
  const shardsAt = argv.indexOf('--shards');
  const shards = shardsAt >= 0 ? Number(argv[shardsAt + 1]) : 2;
  if (!Number.isInteger(shards) || shards < 1 || shards > 8)
    throw new UsageError('--shards needs an integer from 1 to 8');
  const rest = argv.filter(
    (a, i) => a !== '--keep-running' && (shardsAt < 0 || (i !== shardsAt && i !== shardsAt + 1)),
  );
  const args = parseProduceArgs(rest.length ? rest : [], Math.random);
  if (!rest.includes('--duration')) args.duration = 60;
  if (!rest.includes('--rate')) args.rate = 40;
  if (!rest.includes('--fraud')) args.fraud = { largePurchase: 1, burst: 1, countryHop: 1 };

  const t0 = Date.now();
  const existing = readState();
  const reused = Boolean(existing);
  console.log(paint.head('Pulse demo: local AWS'));
  const stack: StackState = await startStack({ reuse: true, detach: keepRunning });
  let clients: Clients | undefined;
  let stopRunner: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await stopRunner?.();
    clients?.destroy();
    if (!keepRunning && !reused) await stopStack(stack);
  };
  const onSignal = () => {
    console.error('\ninterrupted: stopping');
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(
      `  kinesis ${stack.endpoints.kinesis}   other services ${stack.endpoints.default}   (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    clients = makeClients(stack.endpoints);
    const resources = await createResources(clients, { shards });
    console.log(
      `  deployed: stream ${resources.streamName} (${shards} shards), ${Object.keys(resources.tables).length} tables, topic, queues`,
    );
    if (!reused) rmSync(localPaths().checkpointsDir, { recursive: true, force: true });
    await drainQueue(clients, resources.alertTapQueue);

    const runner = await startRunner({ endpoints: stack.endpoints, resources, log: () => undefined });
    stopRunner = () => runner.stop();
    console.log(`  runner: ${FUNCTIONS.join(', ')} as EFO consumers; logs in ${join(localPaths().logsDir)}`);

    const traffic = trafficFor(args);
    console.log(
      paint.head(
        `Traffic: seed ${args.seed}, ${traffic.events.length} events, ${args.users} users, ${args.rate}/s for ${args.duration} s`,
      ),
    );

    const alerts: SnsEnvelope[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const messages = await drainQueue(clients!, resources.alertTapQueue, 1).catch(() => []);
        for (const m of messages) {
          const env = m.json as SnsEnvelope;
          alerts.push(env);
          const a = env.MessageAttributes ?? {};
          process.stderr.write(`\r${' '.repeat(70)}\r`);
          console.log(
            paint.alert(`  ALERT ${a.severity?.Value ?? '?'} ${a.rule?.Value ?? '?'}: ${env.Subject ?? ''}`),
          );
        }
      }
    })();

    const sendStarted = Date.now();
    const sent = await sendTraffic(traffic.events, traffic.schedule, {
      kinesis: clients.kinesis,
      stream: resources.streamName,
      onProgress: (s, f, total) => {
        const st = runner.stats();
        const processed = st.map((x) => `${x.fn.split('-')[0]} ${x.processed}`).join(' ');
        process.stderr.write(`\r  ${progressBar(s + f, total, 20)} processed: ${processed}   `);
      },
    });
    process.stderr.write('\n');
    const total = sent.sent;
    try {
      await runner.waitForProcessed(total, 120_000);
    } catch (err) {
      console.log(paint.warn(`  not everything was processed: ${(err as Error).message}`));
    }
    const caughtUp = Date.now();
    await new Promise((r) => setTimeout(r, 2_500)); // last alerts through SNS → SQS
    watching = false;
    await watcher;

    const stats = runner.stats();
    console.log(paint.head('Report'));
    console.log(
      `  sent ${sent.sent} events (${sent.failed.length} failed) at ${sent.rate.toFixed(1)} events/s; all processed ${((caughtUp - sendStarted) / 1000).toFixed(1)} s after the first was sent`,
    );
    console.log(formatStats(stats, runner.startedAt).replace(/^/gm, '  '));
    const firstProcessed = Math.min(...stats.map((s) => s.firstProcessedAt ?? Number.POSITIVE_INFINITY));
    console.log(
      `  time to first processed event: ${((firstProcessed - sendStarted) / 1000).toFixed(1)} s after sending began`,
    );
    const sessions = await readSessions(clients, resources.tables.sessions!);
    console.log(
      `  sessions: ${sessions.users} users, ${sessions.sessionsOpened} opened, ${sessions.closedSessionItems} closed (expected ${traffic.truth.sessionsOpened} / ${traffic.truth.sessionsClosed})`,
    );
    console.log(
      `  top products viewed: ${traffic.truth.topProducts
        .slice(0, 5)
        .map(([p, n]) => `${p} (${n})`)
        .join(', ')}`,
    );
    console.log(
      `  fraud alerts: ${alerts.length} received (expected ${traffic.truth.alerts.length}: ${traffic.truth.alerts.map((a) => a.rule).join(', ')})`,
    );
    const window = slidingWindow(new Date(), 5 * 60_000);
    const numbers = await readSlidingWindow({
      cloudwatch: clients.cloudwatch,
      environment: resources.environment,
      end: window.end,
      windowMinutes: 5,
    });
    console.log(formatResult(numbers).replace(/^/gm, '  '));
    console.log(
      `  (truth for the traffic: ${traffic.truth.events} events, ${traffic.truth.purchases} purchases, revenue ${formatTotals(traffic.truth.revenue)})`,
    );
    if (keepRunning) {
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
  } finally {
    await cleanup();
  }
  console.log(
    keepRunning
      ? 'runner stopped; the local stack keeps running (`make local-down`)'
      : 'stopped: nothing left running',
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err instanceof UsageError ? err.message : `demo failed: ${err.stack ?? err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
