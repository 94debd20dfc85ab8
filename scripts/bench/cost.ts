/**
 * (8) What each design costs, per traffic shape: the same events through each Pulse function and
 * through the seed's per-record functions, against the emulator, in Lambda-sized batches (the
 * function.json batch size, for the seed too). The request counter (counting.ts) prices what goes
 * out: DynamoDB read and write units from the exact items, PutMetricData requests and the distinct
 * custom metrics, SNS publishes, SQS requests. Lambda GB-seconds are the measured handler time ×
 * the function.json memory (the seed gets the same memory). Kinesis bytes come from the records.
 *
 * Steady state, not a cold start: before the measured events, Pulse's state is warmed with up to
 * WARMUP_PER_USER earlier events per user (in every mode, so short and long runs agree), so session
 * and fraud items carry their full recent-eventId lists, and metrics-emitter first emits
 * RECENT_EVENT_IDS_LIMIT earlier events per shard, so its watermarks are at their steady size. The seed
 * gets the same earlier events per user; its items grow without bound, so its figures rise with the
 * number of events it measures (`seedEvents`, stated with every figure). In the "every event a
 * different user" shape there is nothing per user to warm.
 *
 * Per 1,000 events per function, and dollars per million events per component (prices.json), Pulse
 * vs the seed in the same run. Hourly charges (shards, EFO consumers, custom metrics) are spread
 * over the events of an hour at REFERENCE_EVENTS_PER_SECOND. Writes <out>/cost-model.json, the
 * per-event figures the capacity planner reads.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { FUNCTIONS, type FunctionName, loadFunction } from '../../lib/config.js';
import { detectFraud } from '../../services/fraud-rules/detector.js';
import { emitBatchMetrics } from '../../services/metrics-emitter/processor.js';
import { updateSessions } from '../../services/session-updater/updater.js';
import { batchPutItems } from '../../services/shared/dynamo.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { isPurchase } from '../../services/shared/event.js';
import { archiveCostRows, archivePerMillionFirstMonth, measureArchiveUsage } from './archive-cost.js';
import { type SeedFraudState, seedDetectFraud } from './baseline/fraud-rules.js';
import { seedEmitMetrics } from './baseline/metrics-emitter.js';
import { appendEvent, type SeedSession, seedUpdateSessions } from './baseline/session-updater.js';
import {
  COMPONENTS,
  type Deployment,
  deployedSettings,
  dollarsFor,
  eventsPerBatchAt,
  type FunctionUsage,
  kinesisOnly,
  loadPrices,
  type PriceTable,
  provisionedShards,
  rebatchSystem,
  type SystemUsage,
  total,
  withMode,
} from './cost-model.js';
import { makeEvents, makeReturningEvents, toKinesisEvent } from './data.js';
import { BASELINE_TABLES } from './env.js';
import { fraudDeps } from './fraud.js';
import { metricsDeps } from './metrics.js';
import { sessionDeps } from './sessions.js';
import { timed } from './stats.js';
import type { BenchContext, CostModel, Row, ShapeKey, ShapeResult } from './types.js';

const AREA = 'cost';
/** The rate hourly charges are spread over in the dollars-per-million figures. */
export const REFERENCE_EVENTS_PER_SECOND = 1_000;
/**
 * Warm-up, in both designs: earlier events per user (100 ms apart, inside one duplicate window),
 * enough to fill session-updater's 16 recent eventIds and most of its 20 recent products. A fixed
 * count per user, never the measured count, so run length does not change the item sizes priced.
 */
const WARMUP_PER_USER = 40;
/** Provisioned shards are sized to stay under this share of their 1 MB/s and 1,000 records/s. */
export const SHARD_UTILISATION = 0.8;

export interface Shape {
  key: ShapeKey;
  label: string;
  /** Users the events are spread over (uniformly); `distinct`: every event its own user. */
  users: (events: number) => number;
  distinct: boolean;
  /** Returning users: each user once per Lambda batch, a second to two hours apart (data.ts). */
  returning?: boolean;
  purchaseRate: number;
  /** Share of purchases above the 1,000 large-purchase threshold (what raises most alerts). */
  largePurchaseRate: number;
  padBytes: number;
  currencies: readonly string[];
}

/** Currencies the realistic shapes pay in: each is a Revenue/OrderValue metric of its own. */
const MIX_CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD'];

export const SHAPES: readonly Shape[] = [
  {
    key: 'heavy',
    label: 'few heavy users (10 users)',
    users: () => 10,
    distinct: false,
    purchaseRate: 0.02,
    largePurchaseRate: 0.05,
    padBytes: 0,
    currencies: ['USD'],
  },
  {
    key: 'mix',
    // A fixed population, not a share of the run: each batch of 1,000 then holds about 632 distinct
    // users however many events the run has, so the figure does not depend on the run's length.
    label: 'realistic mix (1,000 active users)',
    users: () => 1_000,
    distinct: false,
    purchaseRate: 0.01,
    largePurchaseRate: 0.01,
    padBytes: 200,
    currencies: MIX_CURRENCIES,
  },
  {
    key: 'returning',
    label: 'returning users (each once per batch, 1 s to 2 h apart)',
    users: (n) => Math.min(loadFunction('session-updater').eventSourceMapping.batchSize, Math.ceil(n / 2)),
    distinct: false,
    returning: true,
    purchaseRate: 0.01,
    largePurchaseRate: 0.01,
    padBytes: 200,
    currencies: MIX_CURRENCIES,
  },
  {
    key: 'unique',
    label: 'every event a different user',
    users: (n) => n,
    distinct: true,
    purchaseRate: 0.01,
    largePurchaseRate: 0.05,
    padBytes: 0,
    currencies: ['USD'],
  },
];

type Runner = (event: KinesisStreamEvent) => Promise<unknown>;

async function measure(
  ctx: BenchContext,
  fn: FunctionName,
  events: readonly PulseEvent[],
  run: Runner,
  maxBatch = Number.POSITIVE_INFINITY,
): Promise<{ usage: FunctionUsage; metrics: Set<string> }> {
  const spec = loadFunction(fn);
  const batchSize = Math.min(spec.eventSourceMapping.batchSize, maxBatch);
  ctx.env.counter.reset();
  let ms = 0;
  let invocations = 0;
  for (let from = 0; from < events.length; from += batchSize) {
    const batch = toKinesisEvent(events.slice(from, from + batchSize));
    ms += (await timed(() => run(batch))).ms;
    invocations += 1;
  }
  const t = ctx.env.counter.tally;
  const n = events.length;
  return {
    usage: {
      readUnits: t.readUnits / n,
      writeUnits: t.writeUnits / n,
      putMetricDataRequests: t.putMetricDataRequests / n,
      snsPublishes: t.snsPublishes / n,
      sqsRequests: t.sqsBilledRequests / n,
      gbSeconds: ((ms / 1000) * (spec.memorySize / 1024)) / n,
      invocations: invocations / n,
      indexWriteUnits: t.indexWriteUnits / n,
      storedByteDays: t.storedByteDays / n,
    },
    metrics: new Set(t.metrics),
  };
}

function failOn(out: { response: { batchItemFailures: unknown[] } }, fn: string): void {
  if (out.response.batchItemFailures.length > 0) throw new Error(`${fn} reported failures in the cost run`);
}

/**
 * The seed's state after `events`, written directly (its transition is a pure fold): the same
 * items its functions would leave, without thousands of unmeasured per-record requests.
 */
async function warmSeed(ctx: BenchContext, events: readonly PulseEvent[]): Promise<void> {
  const sessions = new Map<string, SeedSession>();
  const fraud = new Map<string, SeedFraudState>();
  for (const event of events) {
    sessions.set(event.userId, appendEvent(sessions.get(event.userId), event));
    if (!isPurchase(event)) continue;
    const state = fraud.get(event.userId) ?? { userId: event.userId, purchases: [] };
    state.purchases.push({ eventId: event.eventId, amount: event.data.amount, timestamp: event.timestamp });
    fraud.set(event.userId, state);
  }
  const unwritten = [
    ...(await batchPutItems(ctx.env.db, BASELINE_TABLES.sessions, [...sessions.values()] as never[])),
    ...(await batchPutItems(ctx.env.db, BASELINE_TABLES.fraud, [...fraud.values()] as never[])),
  ];
  if (unwritten.length > 0) throw new Error(`seed warm-up left ${unwritten.length} items unwritten`);
}

async function measureShape(
  ctx: BenchContext,
  shape: Shape,
  count: number,
  stamp: string,
  deployment: Deployment,
): Promise<ShapeResult> {
  const users = shape.users(count);
  // Returning users: whole rounds, each one Lambda batch with every user once.
  const rounds = Math.max(2, Math.round(count / users));
  const mix = {
    purchaseRate: shape.purchaseRate,
    largePurchaseRate: shape.largePurchaseRate,
    padBytes: shape.padBytes,
    currencies: shape.currencies,
  };
  const workload = (prefix: string) =>
    shape.returning
      ? makeReturningEvents({ users, rounds, prefix, ...mix })
      : makeEvents({ count, users, prefix, distinctUsers: shape.distinct, ...mix });
  // Same seed → the same events for both designs; only the id prefix differs, so items never mix.
  const ours = workload(`c${shape.key}${stamp}`);
  const seeds = workload(`bc${shape.key}${stamp}`);
  const sessions = sessionDeps(ctx);
  const fraud = fraudDeps(ctx);
  const functionName = `pulse-bench-cost-${shape.key}-${stamp}`;
  const metrics = metricsDeps(ctx, functionName);

  const pulseRuns: Record<FunctionName, Runner> = {
    'session-updater': async (e) => failOn(await updateSessions(e, sessions), 'session-updater'),
    'fraud-rules': async (e) => failOn(await detectFraud(e, fraud), 'fraud-rules'),
    'metrics-emitter': async (e) => failOn(await emitBatchMetrics(e, metrics), 'metrics-emitter'),
  };
  const seedRuns: Record<FunctionName, Runner> = {
    'session-updater': (e) => seedUpdateSessions(e, { db: ctx.env.db, tableName: BASELINE_TABLES.sessions }),
    'fraud-rules': (e) =>
      seedDetectFraud(e, {
        db: ctx.env.db,
        sns: ctx.env.clients.sns,
        tableName: BASELINE_TABLES.fraud,
        topicArn: ctx.env.resources.topics.alerts ?? '',
        readEveryRecord: true,
      }),
    'metrics-emitter': (e) =>
      seedEmitMetrics(e, {
        cloudwatch: ctx.env.clients.cloudwatch,
        namespace: 'PulseBenchBaseline',
        environment: 'bench',
      }),
  };

  const system = async (events: PulseEvent[], runs: Record<FunctionName, Runner>): Promise<SystemUsage> => {
    const functions = {} as Record<FunctionName, FunctionUsage>;
    const metricIds = new Set<string>();
    for (const fn of FUNCTIONS) {
      // Returning users: a per-user function's batch is one round (every user once); metrics-emitter
      // batches by shard and time whatever the users, so it keeps its own batch size.
      const maxBatch = shape.returning && fn !== 'metrics-emitter' ? users : Number.POSITIVE_INFINITY;
      const m = await measure(ctx, fn, events, runs[fn], maxBatch);
      functions[fn] = m.usage;
      for (const id of m.metrics) metricIds.add(id);
    }
    const bytes = events.map((e) => Buffer.byteLength(JSON.stringify(e), 'utf8'));
    const keys = events.map((e) => Buffer.byteLength(e.userId, 'utf8'));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      functions,
      customMetrics: metricIds.size,
      recordBytes: avg(bytes),
      recordBytesWithKey: avg(bytes) + avg(keys),
      consumers: FUNCTIONS.length,
    };
  };

  // Warm-up (not measured): the same users' earlier events, so items are at their steady size.
  const earlier = (events: PulseEvent[], n: number): PulseEvent[] => {
    const first = events[0]?.timestamp ?? Date.now();
    const byUser = [...new Set(events.map((e) => e.userId))];
    return Array.from({ length: n }, (_, i) => {
      const e = events[i % events.length] as PulseEvent;
      const userId = byUser[i % byUser.length] as string;
      const eventId = `w${i}-${e.eventId}`;
      const timestamp = first - (n - i) * 100;
      return e.eventType === 'purchase'
        ? ({ ...e, userId, eventId, timestamp, data: { ...e.data, orderId: `o-${eventId}` } } as PulseEvent)
        : ({ ...e, userId, eventId, timestamp } as PulseEvent);
    });
  };
  const warm = async (events: PulseEvent[], runs: Record<FunctionName, Runner>, fns: FunctionName[]) => {
    for (const fn of fns) {
      const size = loadFunction(fn).eventSourceMapping.batchSize;
      for (let from = 0; from < events.length; from += size)
        await runs[fn](toKinesisEvent(events.slice(from, from + size)));
    }
  };
  const started = Date.now();
  const step = (what: string) =>
    ctx.log(`    ${shape.key}: ${what} at ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (!shape.distinct) {
    await warm(earlier(ours, users * WARMUP_PER_USER), pulseRuns, ['session-updater', 'fraud-rules']);
    await warmSeed(ctx, earlier(seeds, users * WARMUP_PER_USER));
    step('warmed');
  }
  // Each shard's watermark at its steady size: the function itself emits enough earlier events
  // (RECENT_EVENT_IDS_LIMIT per shard) that its recent-eventId memory is full when measuring starts.
  const fill = makeEvents({
    count: metrics.recentEventIdsLimit * 2,
    users: 1_000,
    prefix: `wm${shape.key}${stamp}`,
  });
  const metricsBatch = loadFunction('metrics-emitter').eventSourceMapping.batchSize;
  for (let from = 0; from < fill.length; from += metricsBatch)
    await pulseRuns['metrics-emitter'](toKinesisEvent(fill.slice(from, from + metricsBatch)));

  step('watermarks filled');
  const pulse = await system(ours, pulseRuns);
  step('Pulse measured');
  const seed = await system(seeds.slice(0, ctx.options.cost.seedEvents), seedRuns);
  step('seed measured');
  const prices = loadPrices();
  // Dollars at the reference rate: its shards, and the Lambda batches that rate fills (one
  // invocation per batch; metrics-emitter's watermark and PutMetricData once per shard-batch).
  const price = (usage: SystemUsage, perBatchMetrics: boolean, kinesisMode = deployment.kinesisMode) => {
    const shards = provisionedShards(
      REFERENCE_EVENTS_PER_SECOND,
      usage.recordBytesWithKey,
      SHARD_UTILISATION,
    );
    const batches = eventsPerBatchAt(REFERENCE_EVENTS_PER_SECOND, shards);
    return dollarsFor(rebatchSystem(usage, batches, perBatchMetrics), prices, {
      events: 1e6,
      eventsPerSecond: REFERENCE_EVENTS_PER_SECOND,
      shards,
      deployment: withMode(deployment, kinesisMode),
    });
  };
  const byMode = Object.fromEntries(
    (['ON_DEMAND', 'PROVISIONED'] as const).map((mode) => {
      const lines = price(pulse, true, mode);
      return [
        mode,
        { pulse: total(lines), seed: total(price(seed, false, mode)), kinesisOnly: kinesisOnly(lines) },
      ];
    }),
  ) as ShapeResult['byMode'];
  const perUser = Math.round(ours.length / users);
  const history = shape.distinct
    ? 'no history: every user is new'
    : `${WARMUP_PER_USER} earlier events per user, then ${perUser} measured per user${shape.returning ? ` in ${rounds} batches` : ''}; the seed: the first ${Math.min(ours.length, ctx.options.cost.seedEvents)} of them`;
  let userBatches = 0;
  const block = shape.returning ? users : 1_000;
  for (let from = 0; from < ours.length; from += block)
    userBatches += new Set(ours.slice(from, from + block).map((e) => e.userId)).size;
  return {
    shape: shape.key,
    label: shape.label,
    events: ours.length,
    users,
    purchaseShare: ours.filter((e) => e.eventType === 'purchase').length / ours.length,
    averageEventBytes: pulse.recordBytes,
    userBatchesPerEvent: userBatches / ours.length,
    history,
    pulse,
    seed,
    dollarsPerMillion: { pulse: price(pulse, true), seed: price(seed, false) },
    byMode,
  };
}

const per1k = (x: number) => x * 1000;

function shapeRows(r: ShapeResult, deployment: Deployment, archivePerMillion: number): Row[] {
  const rows: Row[] = [];
  const note = `${r.events.toLocaleString('en-US')} events, ${r.users.toLocaleString('en-US')} users, ${(r.purchaseShare * 100).toFixed(1)} % purchases, ${Math.round(r.averageEventBytes)} B/event; ${r.history}`;
  const figures: Array<[keyof FunctionUsage, string, string]> = [
    ['readUnits', 'DynamoDB read units', 'RRU'],
    ['writeUnits', 'DynamoDB write units', 'WRU'],
    ['indexWriteUnits', 'DynamoDB index write units', 'WRU'],
    ['putMetricDataRequests', 'PutMetricData requests', 'requests'],
    ['snsPublishes', 'SNS publishes', 'publishes'],
    ['sqsRequests', 'SQS requests', 'requests'],
    ['gbSeconds', 'Lambda GB-seconds', 'GB-s'],
  ];
  for (const fn of FUNCTIONS) {
    for (const [key, label, unit] of figures) {
      const ours = per1k(r.pulse.functions[fn][key]);
      const baseline = per1k(r.seed.functions[fn][key]);
      if (ours === 0 && baseline === 0) continue;
      rows.push({
        area: AREA,
        metric: `${r.shape}: ${fn} ${label} per 1,000 events`,
        unit,
        ours,
        baseline,
        runs: 1,
        note,
      });
    }
  }
  rows.push(
    {
      area: AREA,
      metric: `${r.shape}: distinct custom metrics a day of this traffic creates`,
      unit: 'metrics',
      ours: r.pulse.customMetrics,
      baseline: r.seed.customMetrics,
      runs: 1,
      note: 'no dimension varies with users or time, so a day adds none beyond these',
    },
    {
      area: AREA,
      metric: `${r.shape}: Kinesis bytes in per 1,000 events (payload + partition key)`,
      unit: 'KiB',
      ours: (r.pulse.recordBytesWithKey * 1000) / 1024,
      baseline: (r.seed.recordBytesWithKey * 1000) / 1024,
      runs: 1,
    },
    {
      area: AREA,
      metric: `${r.shape}: Kinesis bytes out per EFO consumer per 1,000 events`,
      unit: 'KiB',
      ours: (r.pulse.recordBytes * 1000) / 1024,
      baseline: (r.seed.recordBytes * 1000) / 1024,
      runs: 1,
      note: `${r.pulse.consumers} consumers each (one per function)`,
    },
  );
  for (const c of COMPONENTS) {
    const ours = r.dollarsPerMillion.pulse[c];
    const baseline = r.dollarsPerMillion.seed[c];
    if (ours === 0 && baseline === 0) continue;
    rows.push({ area: AREA, metric: `${r.shape}: ${c}`, unit: '$/M events', ours, baseline, runs: 1 });
  }
  rows.push({
    area: AREA,
    metric: `${r.shape}: total as deployed (${deployment.environment}, Kinesis ${deployment.kinesisMode})`,
    unit: '$/M events',
    ours: total(r.dollarsPerMillion.pulse),
    baseline: total(r.dollarsPerMillion.seed),
    runs: 1,
    note: `${note}; hourly charges at ${REFERENCE_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s`,
  });
  rows.push({
    area: AREA,
    metric: `${r.shape}: total as deployed, with the event archive (fourth consumer, its first month)`,
    unit: '$/M events',
    ours: total(r.dollarsPerMillion.pulse) + archivePerMillion,
    baseline: total(r.dollarsPerMillion.seed),
    runs: 1,
    note: `archive $${archivePerMillion.toFixed(3)}/M (area archive); the seed has none`,
  });
  for (const mode of ['ON_DEMAND', 'PROVISIONED'] as const) {
    const m = r.byMode[mode];
    rows.push(
      {
        area: AREA,
        metric: `${r.shape}: total, Kinesis ${mode}`,
        unit: '$/M events',
        ours: m.pulse,
        baseline: m.seed,
        runs: 1,
      },
      {
        area: AREA,
        metric: `${r.shape}: Kinesis-only floor, ${mode} (Pulse above it: $${(m.pulse - m.kinesisOnly).toFixed(3)}/M)`,
        unit: '$/M events',
        ours: m.kinesisOnly,
        baseline: null,
        runs: 1,
        note: 'the stream alone (three EFO consumers), whatever consumes it',
      },
    );
  }
  return rows;
}

/** The Markdown section: dollars per million events per component, Pulse vs seed, every shape. */
export function costMarkdown(model: CostModel, prices: PriceTable = loadPrices()): string {
  const fmt = (x: number) =>
    x === 0 ? '0' : x >= 1 ? x.toFixed(2) : x >= 0.01 ? x.toFixed(3) : x.toPrecision(2);
  const head = ['component', ...model.shapes.flatMap((s) => [`${s.shape} Pulse`, `${s.shape} seed`])];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rows = COMPONENTS.map((c) =>
    line([
      c,
      ...model.shapes.flatMap((s) => [fmt(s.dollarsPerMillion.pulse[c]), fmt(s.dollarsPerMillion.seed[c])]),
    ]),
  );
  const totals = model.shapes.flatMap((s) => [
    `**${fmt(total(s.dollarsPerMillion.pulse))}**`,
    `**${fmt(total(s.dollarsPerMillion.seed))}**`,
  ]);
  const archive = model.archivePerMillion;
  const withArchive =
    archive === undefined
      ? []
      : [
          line([
            `**with the event archive** (fourth consumer, +${fmt(archive)})`,
            ...model.shapes.flatMap((s) => [
              `**${fmt(total(s.dollarsPerMillion.pulse) + archive)}**`,
              `**${fmt(total(s.dollarsPerMillion.seed))}**`,
            ]),
          ]),
        ];
  const ratios = model.shapes.map((s) => {
    const pulse = total(s.dollarsPerMillion.pulse);
    const seed = total(s.dollarsPerMillion.seed);
    const archived =
      archive === undefined ? '' : `, ${((pulse + archive) / seed).toFixed(3)} with the archive`;
    return `${s.shape}: Pulse/seed = ${(pulse / seed).toFixed(3)}${archived} (${s.label}; ${(s.purchaseShare * 100).toFixed(1)} % purchases; ${Math.round(s.averageEventBytes)} B/event; ${s.history})`;
  });
  const d = model.deployment;
  const modeHead = [
    'shape',
    'Pulse on-demand',
    'seed on-demand',
    'Kinesis-only on-demand',
    'Pulse provisioned',
    'seed provisioned',
    'Kinesis-only provisioned',
  ];
  const modeRows = model.shapes.map((s) =>
    line([
      s.shape,
      ...(['ON_DEMAND', 'PROVISIONED'] as const).flatMap((m) => [
        fmt(s.byMode[m].pulse),
        fmt(s.byMode[m].seed),
        fmt(s.byMode[m].kinesisOnly),
      ]),
    ]),
  );
  return [
    '## Dollars per million events',
    '',
    `Priced as deployed: terraform/envs/${d.environment} (Kinesis ${d.kinesisMode}, X-Ray ${d.tracingActive ? 'Active' : 'off'}, PITR ${d.pointInTimeRecovery ? 'on' : 'off'}, ${d.alarms} alarms, ${d.dashboards} dashboard). Prices: ${prices.region}, ${prices.date} (scripts/bench/prices.json). Hourly and monthly charges (shards, stream-hours, EFO consumer-shards, custom metrics, alarms, the KMS key) spread over the events of an hour at ${model.referenceEventsPerSecond.toLocaleString('en-US')} events/s; provisioned shards at ${model.shardUtilisation * 100} % utilisation; three EFO consumers in both designs, and the event archive's fourth in its own line.`,
    '',
    line(head),
    `|---|${model.shapes.map(() => '---:|---:').join('|')}|`,
    ...rows,
    line(['**total**', ...totals]),
    ...withArchive,
    '',
    ...ratios.map((r) => `- ${r}`),
    '',
    'Both capacity modes, and the Kinesis-only floor (the stream and its three consumers alone):',
    '',
    line(modeHead),
    `|---|${modeHead
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...modeRows,
    '',
  ].join('\n');
}

export async function benchCost(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.options.cost.events;
  const stamp = Date.now().toString(36);
  const deployment = deployedSettings('prod');
  const shapes: ShapeResult[] = [];
  for (const shape of SHAPES) {
    const r = await measureShape(ctx, shape, count, stamp, deployment);
    shapes.push(r);
    ctx.log(
      `  ${shape.key}: Pulse $${total(r.dollarsPerMillion.pulse).toFixed(3)}/M events, seed $${total(r.dollarsPerMillion.seed).toFixed(3)}/M`,
    );
  }
  const prices = loadPrices();
  // The archive (fourth consumer, S3, compaction, Athena): its own rows, from scripts/bench/archive-cost.ts.
  const usage = measureArchiveUsage();
  const reference = {
    eventsPerSecond: REFERENCE_EVENTS_PER_SECOND,
    shards: provisionedShards(
      REFERENCE_EVENTS_PER_SECOND,
      shapes[0]?.pulse.recordBytesWithKey ?? 200,
      SHARD_UTILISATION,
    ),
  };
  const archivePerMillion = archivePerMillionFirstMonth(usage, reference, prices);
  ctx.cost = {
    generatedAt: new Date().toISOString(),
    mode: ctx.options.mode,
    referenceEventsPerSecond: REFERENCE_EVENTS_PER_SECOND,
    shardUtilisation: SHARD_UTILISATION,
    prices: { region: prices.region, date: prices.date },
    deployment,
    shapes,
    archivePerMillion,
  };
  return [
    ...shapes.flatMap((r) => shapeRows(r, deployment, archivePerMillion)),
    ...archiveCostRows(usage, reference, prices),
  ];
}
