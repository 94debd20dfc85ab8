/**
 * (7) End to end on the local pipeline: kinesis-local → the project's event-source-mapping runner
 * (EFO, SubscribeToShard) → the bundled handlers → moto. One event at a time is put (a large
 * purchase of a new user, so every function has something to show); latency is put → visible:
 *   session-updater: the user's CURRENT session item exists
 *   fraud-rules:     the largePurchase alert for the event is SENT
 *   metrics-emitter: the shard's watermark has reached the record's sequence number
 * Visibility is polled every 100 ms (batched reads), so figures carry up to ~100 ms of resolution.
 * A separate environment ("bench-e2e": own stream and tables) keeps other measurements' records
 * out of its stream.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { BatchGetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { FUNCTIONS, type FunctionName } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import { alertIdOf } from '../../services/fraud-rules/rules.js';
import { compareSequence } from '../../services/shared/sequence.js';
import { sleep } from '../local/processes.js';
import { createResources } from '../local/resources.js';
import { percentile } from './stats.js';
import type { BenchContext, Row } from './types.js';

interface Pending {
  userId: string;
  eventId: string;
  shardId: string;
  sequenceNumber: string;
  putAt: number;
  seen: Partial<Record<FunctionName, number>>;
}

const VISIBLE: Record<FunctionName, string> = {
  'session-updater': 'session visible',
  'fraud-rules': 'alert sent',
  'metrics-emitter': 'metrics emitted',
};

function notMeasured(reason: string): Row[] {
  return FUNCTIONS.map((fn) => ({
    area: fn,
    metric: `end to end: put → ${VISIBLE[fn]}, p50 / p99`,
    unit: 'ms',
    ours: null,
    baseline: null,
    runs: 0,
    note: `not measured: ${reason}`,
  }));
}

export async function benchEndToEnd(ctx: BenchContext): Promise<Row[]> {
  const root = repoRoot();
  if (!existsSync(join(root, 'scripts', 'local', 'runner.ts')))
    return notMeasured('scripts/local/runner.ts missing');
  if (FUNCTIONS.some((fn) => !existsSync(join(root, 'dist', fn, 'index.mjs')))) {
    return notMeasured('dist/ missing, run `make build`');
  }
  const { startRunner } = await import('../local/runner.js');
  const { env, options } = ctx;
  const resources = await createResources(env.clients, { environment: 'bench-e2e', shards: 2 });
  const runner = await startRunner({
    endpoints: env.state.endpoints,
    resources,
    stateDir: join(env.state.stateDir, 'e2e'),
    log: () => {},
  });
  const { sessions, alerts, watermarks } = {
    sessions: resources.tables.sessions ?? '',
    alerts: resources.tables.alerts ?? '',
    watermarks: resources.tables.watermarks ?? '',
  };
  const stamp = Date.now().toString(36);
  const all: Pending[] = [];
  let stop = false;

  const poll = async () => {
    while (!stop) {
      const open = all.filter((p) => FUNCTIONS.some((fn) => p.seen[fn] === undefined));
      if (open.length > 0) {
        const now = () => Date.now();
        const waitingSessions = open.filter((p) => p.seen['session-updater'] === undefined).slice(0, 100);
        const waitingAlerts = open.filter((p) => p.seen['fraud-rules'] === undefined).slice(0, 100);
        const [s, a, w] = await Promise.all([
          waitingSessions.length
            ? env.db.send(
                new BatchGetCommand({
                  RequestItems: {
                    [sessions]: { Keys: waitingSessions.map((p) => ({ userId: p.userId, sk: 'CURRENT' })) },
                  },
                }),
              )
            : undefined,
          waitingAlerts.length
            ? env.db.send(
                new BatchGetCommand({
                  RequestItems: {
                    [alerts]: {
                      Keys: waitingAlerts.map((p) => ({
                        alertId: alertIdOf('largePurchase', p.userId, p.eventId),
                      })),
                    },
                  },
                }),
              )
            : undefined,
          env.db.send(new ScanCommand({ TableName: watermarks })),
        ]);
        const t = now();
        const users = new Set((s?.Responses?.[sessions] ?? []).map((i) => i.userId as string));
        const sent = new Set(
          (a?.Responses?.[alerts] ?? []).filter((i) => i.status === 'SENT').map((i) => i.alertId as string),
        );
        const marks = (w.Items ?? []).map((i) => ({ pk: String(i.pk), seq: String(i.lastSequenceNumber) }));
        for (const p of open) {
          if (p.seen['session-updater'] === undefined && users.has(p.userId)) p.seen['session-updater'] = t;
          if (
            p.seen['fraud-rules'] === undefined &&
            sent.has(alertIdOf('largePurchase', p.userId, p.eventId))
          )
            p.seen['fraud-rules'] = t;
          if (
            p.seen['metrics-emitter'] === undefined &&
            marks.some((m) => m.pk.endsWith(`#${p.shardId}`) && compareSequence(m.seq, p.sequenceNumber) >= 0)
          ) {
            p.seen['metrics-emitter'] = t;
          }
        }
      }
      await sleep(100);
    }
  };

  const put = async (i: number, tag: string): Promise<Pending> => {
    const userId = `${tag}${stamp}-u${i}`;
    const eventId = `${tag}${stamp}-e${i}`;
    const putAt = Date.now();
    const event = {
      eventId,
      userId,
      eventType: 'purchase',
      data: { amount: 1_500, currency: 'USD', orderId: `o-${eventId}` },
    };
    const out = await env.clients.kinesis.send(
      new PutRecordCommand({
        StreamName: resources.streamName,
        PartitionKey: userId,
        Data: Buffer.from(JSON.stringify({ ...event, timestamp: putAt }), 'utf8'),
      }),
    );
    return {
      userId,
      eventId,
      shardId: out.ShardId ?? '',
      sequenceNumber: out.SequenceNumber ?? '',
      putAt,
      seen: {},
    };
  };

  const poller = poll();
  try {
    // Warm-up: subscriptions established, environments started (cold starts are measured apart).
    const warm = await put(0, 'w');
    all.push(warm);
    const warmDeadline = Date.now() + options.e2e.timeoutMs;
    while (FUNCTIONS.some((fn) => warm.seen[fn] === undefined)) {
      if (Date.now() > warmDeadline)
        return notMeasured('the local pipeline did not process a warm-up event in time');
      await sleep(100);
    }
    const measured: Pending[] = [];
    for (let i = 0; i < options.e2e.events; i++) {
      const p = await put(i, 'x');
      measured.push(p);
      all.push(p);
      await sleep(150 + Math.floor(Math.random() * 100));
    }
    const deadline = Date.now() + options.e2e.timeoutMs;
    while (measured.some((p) => FUNCTIONS.some((fn) => p.seen[fn] === undefined)) && Date.now() < deadline) {
      await sleep(100);
    }
    return FUNCTIONS.flatMap((fn) => {
      const latencies = measured.flatMap((p) =>
        p.seen[fn] === undefined ? [] : [(p.seen[fn] as number) - p.putAt],
      );
      const missing = measured.length - latencies.length;
      const note = `${latencies.length} events${missing ? `, ${missing} not visible in time` : ''}; local runner, 100 ms polling`;
      return ([50, 99] as const).map((p) => ({
        area: fn,
        metric: `end to end: put → ${VISIBLE[fn]}, p${p}`,
        unit: 'ms',
        ours: latencies.length ? percentile(latencies, p) : null,
        baseline: null,
        runs: latencies.length,
        note,
      }));
    });
  } finally {
    stop = true;
    await poller.catch(() => undefined);
    await runner.stop();
  }
}
