/**
 * (2) fraud-rules against the emulator, 1 % purchases (5 % of them above the 1,000 threshold):
 * events/s and DynamoDB + SNS requests per 1,000 events through `detectFraud` with the handler's
 * real store, alert log and rules (from function.json), in Lambda-sized batches of 1,000.
 */
import { AlertLog } from '../../services/fraud-rules/alerts.js';
import { loadConfig } from '../../services/fraud-rules/config.js';
import { type DetectorDeps, detectFraud } from '../../services/fraud-rules/detector.js';
import { FraudStateStore } from '../../services/fraud-rules/store.js';
import { silentLogger } from '../../services/shared/logger.js';
import { functionEnvironment } from '../local/resources.js';
import { seedDetectFraud } from './baseline/fraud-rules.js';
import { per1000, perSecond } from './context.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { BASELINE_TABLES } from './env.js';
import { median, timed } from './stats.js';
import type { BenchContext, Row } from './types.js';

const AREA = 'fraud-rules';
const LAMBDA_BATCH = 1_000;

export function fraudDeps(ctx: BenchContext): DetectorDeps {
  const { env } = ctx;
  const config = loadConfig(functionEnvironment('fraud-rules', env.resources));
  return {
    store: new FraudStateStore({
      db: env.db,
      tableName: config.stateTableName,
      ttlDays: config.stateTtlDays,
    }),
    alerts: new AlertLog({
      db: env.db,
      sns: env.clients.sns,
      tableName: config.alertsTableName,
      topicArn: config.alertTopicArn,
      environment: config.environment,
      ttlDays: config.alertTtlDays,
      cooldownMinutes: config.rules.cooldownMinutes,
    }),
    rules: config.rules,
    logger: silentLogger,
  };
}

interface Sample {
  requestsPer1000: number;
  eventsPerSecond: number;
}

export async function benchFraud(ctx: BenchContext): Promise<Row[]> {
  const { fraud, runs } = ctx.options;
  const { env } = ctx;
  const deps = fraudDeps(ctx);
  const ours: Sample[] = [];
  const every: Sample[] = [];
  const purchasesOnly: Sample[] = [];
  const stamp = Date.now().toString(36);
  for (let run = 0; run < runs; run++) {
    const events = makeEvents({ count: fraud.events, users: fraud.users, prefix: `f${run}${stamp}` });
    env.counter.reset();
    let ms = 0;
    for (let from = 0; from < events.length; from += LAMBDA_BATCH) {
      const batch = toKinesisEvent(events.slice(from, from + LAMBDA_BATCH));
      const t = await timed(() => detectFraud(batch, deps));
      if (t.value.response.batchItemFailures.length > 0) throw new Error('fraud-rules reported failures');
      ms += t.ms;
    }
    ctx.breakdown[`${AREA} ours`] = env.counter.snapshot();
    ours.push({
      requestsPer1000: per1000(env.counter.total('dynamodb') + env.counter.total('sns'), events.length),
      eventsPerSecond: perSecond(events.length, ms),
    });

    const records = Math.min(fraud.baselineRecords, fraud.events);
    for (const [readEveryRecord, out] of [
      [true, every],
      [false, purchasesOnly],
    ] as const) {
      // Same seed → the same first records; another prefix keeps their items apart.
      const seedEvents = makeEvents({
        count: records,
        users: fraud.users,
        prefix: `bf${readEveryRecord ? 'a' : 'p'}${run}${stamp}`,
      });
      env.counter.reset();
      const t = await timed(() =>
        seedDetectFraud(toKinesisEvent(seedEvents), {
          db: env.db,
          sns: env.clients.sns,
          tableName: BASELINE_TABLES.fraud,
          topicArn: env.resources.topics.alerts ?? '',
          readEveryRecord,
        }),
      );
      ctx.breakdown[`${AREA} baseline ${readEveryRecord ? 'read every record' : 'read for purchases'}`] =
        env.counter.snapshot();
      out.push({
        requestsPer1000: per1000(env.counter.total('dynamodb') + env.counter.total('sns'), records),
        eventsPerSecond: perSecond(records, t.ms),
      });
    }
  }
  const records = Math.min(fraud.baselineRecords, fraud.events).toLocaleString('en-US');
  const m = (xs: Sample[], k: keyof Sample) => median(xs.map((s) => s[k]));
  ctx.log(`  ours ${m(ours, 'eventsPerSecond').toFixed(0)} events/s`);
  return [
    {
      area: AREA,
      metric: 'DynamoDB + SNS requests per 1,000 events (1 % purchases)',
      unit: 'requests',
      ours: m(ours, 'requestsPer1000'),
      baseline: m(every, 'requestsPer1000'),
      runs,
      note: `baseline reads the user's state for every record (first ${records} records)`,
    },
    {
      area: AREA,
      metric: 'DynamoDB + SNS requests per 1,000 events, vs a baseline that reads only for purchases',
      unit: 'requests',
      ours: m(ours, 'requestsPer1000'),
      baseline: m(purchasesOnly, 'requestsPer1000'),
      runs,
      note: 'the kindest reading of the seed; ours also records and marks each alert (3 requests per alert)',
    },
    {
      area: AREA,
      metric: `throughput (${ctx.options.fraud.events.toLocaleString('en-US')} events in batches of 1,000)`,
      unit: 'events/s',
      ours: m(ours, 'eventsPerSecond'),
      baseline: m(every, 'eventsPerSecond'),
      runs,
      note: `baseline reading every record; reading only for purchases: ${Math.round(m(purchasesOnly, 'eventsPerSecond')).toLocaleString('en-US')} events/s`,
    },
  ];
}
