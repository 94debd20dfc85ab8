/**
 * From usage to dollars: the one place that multiplies measured per-event figures by the price
 * table (prices.json). The bench uses it for dollars per million events; the capacity planner
 * (cli/src/plan.ts) for dollars per month. Costs that accrue per hour (shards, enhanced
 * fan-out consumers, custom metrics) are spread over the events of that hour at a stated rate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOYED_FUNCTIONS, FUNCTIONS, type FunctionName, loadFunction } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';

export interface Price {
  usd: number;
  unit: string;
  source: string;
}

export interface PriceTable {
  region: string;
  date: string;
  currency: string;
  prices: Record<PriceName, Price>;
}

export type PriceName =
  | 'dynamodbWriteRequestUnitPerMillion'
  | 'dynamodbReadRequestUnitPerMillion'
  | 'lambdaArmGbSecond'
  | 'lambdaRequestPerMillion'
  | 'kinesisShardHour'
  | 'kinesisPutPayloadUnitPerMillion'
  | 'kinesisEfoConsumerShardHour'
  | 'kinesisEfoRetrievalPerGb'
  | 'kinesisOnDemandStreamHour'
  | 'kinesisOnDemandIngestPerGb'
  | 'kinesisOnDemandEfoRetrievalPerGb'
  | 'kinesisOnDemandExtendedRetentionGbMonth'
  | 'kinesisExtendedRetentionShardHour'
  | 'cloudwatchPutMetricDataPerThousand'
  | 'cloudwatchCustomMetricMonth'
  | 'snsPublishPerMillion'
  | 'snsEmailDeliveryPer100k'
  | 'sqsRequestPerMillion'
  | 'flinkKpuHour'
  | 'flinkRunningStorageGbMonth'
  | 'xrayTraceRecordedPerMillion'
  | 'dynamodbStorageGbMonth'
  | 'dynamodbPitrGbMonth'
  | 'logsIngestionPerGb'
  | 'cloudwatchAlarmMonth'
  | 'cloudwatchDashboardMonth'
  | 'kmsRequestPer10k'
  | 'kmsKeyMonth';

export function loadPrices(path = join(repoRoot(), 'scripts', 'bench', 'prices.json')): PriceTable {
  return JSON.parse(readFileSync(path, 'utf8')) as PriceTable;
}

/** One function's usage per event (units, requests, compute), as the bench measured it. */
export interface FunctionUsage {
  readUnits: number;
  writeUnits: number;
  putMetricDataRequests: number;
  snsPublishes: number;
  sqsRequests: number;
  gbSeconds: number;
  invocations: number;
  /** Write units of global secondary indexes (the alerts `pending` index). */
  indexWriteUnits: number;
  /** Bytes × days that items written with a TTL stay stored (closed sessions, alerts). */
  storedByteDays: number;
}

/** A design's usage per event at one traffic shape: per function, plus the stream and metrics. */
export interface SystemUsage {
  functions: Record<FunctionName, FunctionUsage>;
  /** Distinct custom metrics (namespace, name, dimensions) that a day of this traffic keeps alive. */
  customMetrics: number;
  /** Average record: payload bytes and payload + partition key bytes (what PUT payload units count). */
  recordBytes: number;
  recordBytesWithKey: number;
  /** Enhanced fan-out consumers reading the stream (one per function). */
  consumers: number;
}

export const MONTH_HOURS = 730;
const MONTH_DAYS = MONTH_HOURS / 24;
const GB = 1024 ** 3;
const MB = 1024 ** 2;

export const COMPONENTS = [
  'DynamoDB writes',
  'DynamoDB index writes',
  'DynamoDB reads',
  'DynamoDB storage + PITR',
  'Lambda compute',
  'Lambda requests',
  'Kinesis shard-hours',
  'Kinesis PUT payload units',
  'Kinesis EFO consumer-shard-hours',
  'Kinesis EFO retrieval',
  'Kinesis on-demand stream-hours',
  'Kinesis on-demand ingest',
  'Kinesis on-demand EFO retrieval',
  'Kinesis extended retention',
  'CloudWatch PutMetricData',
  'CloudWatch custom metrics',
  'CloudWatch alarms + dashboard',
  'CloudWatch Logs ingestion',
  'X-Ray traces',
  'KMS requests + key',
  'SNS publishes + email',
  'SQS requests',
] as const;
export type Component = (typeof COMPONENTS)[number];

/** The components that are the stream itself: Kinesis-only is the floor no consumer design avoids. */
export const KINESIS_COMPONENTS: readonly Component[] = COMPONENTS.filter((c) => c.startsWith('Kinesis'));

export type KinesisMode = 'ON_DEMAND' | 'PROVISIONED';

/**
 * What a deployment runs besides the per-event work, from terraform/envs/<env>/main.tf and the
 * observability module: the bench prices the environment it names (prod by default).
 */
export interface Deployment {
  environment: string;
  kinesisMode: KinesisMode;
  /** X-Ray `Active`: invocations are recorded as traces under the default sampling rule. */
  tracingActive: boolean;
  pointInTimeRecovery: boolean;
  /** The stream's retention; beyond 24 hours it is billed (per shard-hour, or per GB-month on demand). */
  retentionHours: number;
  /** Alarms the observability module creates (test/terraform checks the count against Terraform's own). */
  alarms: number;
  /**
   * What CloudWatch bills them as: one alarm metric per plain alarm, one per metric a metric-math
   * alarm reads, three for an anomaly band (the metric and its two bounds).
   */
  alarmMetrics: number;
  dashboards: number;
  /** Custom metrics the log metric filters create (alerts-failed per function name). */
  logFilterMetrics: number;
  /**
   * CloudWatch Logs bytes per invocation: Lambda's START/END/REPORT lines (~350 B, more with
   * X-Ray) and the function's one JSON summary line (~500 B); warnings are per incident.
   */
  logBytesPerInvocation: number;
  /**
   * KMS requests per shard-hour: the stream's customer managed key is asked for a data key about
   * every 5 minutes per shard by the producer and by each consuming function (archive-writer too).
   */
  kmsRequestsPerShardHour: number;
}

/** Reads the environment's settings from its Terraform root (the files a deploy applies). */
export function deployedSettings(environment = 'prod'): Deployment {
  const main = readFileSync(join(repoRoot(), 'terraform', 'envs', environment, 'main.tf'), 'utf8');
  const mode = /stream\s*=\s*\{[^}]*mode\s*=\s*"(ON_DEMAND|PROVISIONED)"/.exec(main)?.[1];
  const tracing = /tracing_mode\s*=\s*"(\w+)"/.exec(main)?.[1];
  const pitr = /point_in_time_recovery\s*=\s*(true|false)/.exec(main)?.[1];
  const retention = /stream\s*=\s*\{[^}]*retention_hours\s*=\s*(\d+)/.exec(main)?.[1];
  // Anomaly alarms: Events, Purchases, and Revenue per currency listed (each with a band_width).
  const anomaly = (/anomaly_alarms\s*=\s*(\{.*\})\s*$/m.exec(main)?.[1]?.match(/band_width/g) ?? []).length;
  const fns = DEPLOYED_FUNCTIONS.length;
  // Per function: iterator age, errors, throttles, on-failure depth, parked-user age; pipeline-wide:
  // events per minute, invalid records, alerts failed; per function a "stalled" alarm.
  const plain = 5 * fns + 3;
  return {
    environment,
    kinesisMode: (mode ?? 'ON_DEMAND') as KinesisMode,
    tracingActive: tracing === 'Active',
    pointInTimeRecovery: pitr !== 'false',
    retentionHours: Number(retention ?? 24),
    alarms: plain + fns + anomaly,
    // A stalled alarm reads IncomingRecords and IteratorAge; an anomaly alarm its band and IncomingRecords.
    alarmMetrics: plain + 2 * fns + 4 * anomaly,
    dashboards: 1,
    logFilterMetrics: 1,
    logBytesPerInvocation: 850,
    kmsRequestsPerShardHour: 12 * (1 + fns),
  };
}

export function sumFunctions(usage: SystemUsage): FunctionUsage {
  const total: FunctionUsage = {
    readUnits: 0,
    writeUnits: 0,
    putMetricDataRequests: 0,
    snsPublishes: 0,
    sqsRequests: 0,
    gbSeconds: 0,
    invocations: 0,
    indexWriteUnits: 0,
    storedByteDays: 0,
  };
  for (const fn of FUNCTIONS) {
    const u = usage.functions[fn];
    for (const k of Object.keys(total) as (keyof FunctionUsage)[]) total[k] += u[k];
  }
  return total;
}

/** Provisioned shards for a rate: 1 MB/s and 1,000 records/s in per shard, kept under `utilisation`. */
export function provisionedShards(
  eventsPerSecond: number,
  recordBytesWithKey: number,
  utilisation = 1,
): number {
  const byBytes = (eventsPerSecond * recordBytesWithKey) / MB / utilisation;
  const byRecords = eventsPerSecond / 1000 / utilisation;
  return Math.max(1, Math.ceil(Math.max(byBytes, byRecords) - 1e-9));
}

/**
 * Dollars for `events` events arriving at `eventsPerSecond`, per component, as `deployment` runs
 * them: the stream in its capacity mode (`shards` provisioned shards, or on-demand), X-Ray when
 * tracing is Active, storage with PITR when on. Hourly and monthly charges are for the hours
 * those events take at that rate.
 */
export function dollarsFor(
  usage: SystemUsage,
  prices: PriceTable,
  options: { events: number; eventsPerSecond: number; shards: number; deployment: Deployment },
): Record<Component, number> {
  const p = (name: PriceName) => prices.prices[name].usd;
  const { events, eventsPerSecond, shards, deployment: d } = options;
  const hours = events / eventsPerSecond / 3600;
  const months = hours / MONTH_HOURS;
  const f = sumFunctions(usage);
  const provisioned = d.kinesisMode === 'PROVISIONED';
  const putUnits = Math.ceil(usage.recordBytesWithKey / (25 * 1024));
  // On-demand bills ingest per GB with every record rounded up to 1 KB.
  const onDemandIngestBytes = Math.ceil(usage.recordBytesWithKey / 1024) * 1024;
  const efoBytes = usage.consumers * usage.recordBytes * events;
  const emailsPerPublish = 1; // one email subscription on the alert topic
  const storageGbMonths = (f.storedByteDays * events) / GB / MONTH_DAYS;
  const only = (on: boolean, x: number) => (on ? x : 0);
  return {
    'DynamoDB writes': ((f.writeUnits * events) / 1e6) * p('dynamodbWriteRequestUnitPerMillion'),
    'DynamoDB index writes': ((f.indexWriteUnits * events) / 1e6) * p('dynamodbWriteRequestUnitPerMillion'),
    'DynamoDB reads': ((f.readUnits * events) / 1e6) * p('dynamodbReadRequestUnitPerMillion'),
    'DynamoDB storage + PITR':
      storageGbMonths * (p('dynamodbStorageGbMonth') + only(d.pointInTimeRecovery, p('dynamodbPitrGbMonth'))),
    'Lambda compute': f.gbSeconds * events * p('lambdaArmGbSecond'),
    'Lambda requests': ((f.invocations * events) / 1e6) * p('lambdaRequestPerMillion'),
    'Kinesis shard-hours': only(provisioned, shards * hours * p('kinesisShardHour')),
    'Kinesis PUT payload units': only(
      provisioned,
      ((putUnits * events) / 1e6) * p('kinesisPutPayloadUnitPerMillion'),
    ),
    'Kinesis EFO consumer-shard-hours': only(
      provisioned,
      usage.consumers * shards * hours * p('kinesisEfoConsumerShardHour'),
    ),
    'Kinesis EFO retrieval': only(provisioned, (efoBytes / GB) * p('kinesisEfoRetrievalPerGb')),
    'Kinesis on-demand stream-hours': only(!provisioned, hours * p('kinesisOnDemandStreamHour')),
    'Kinesis on-demand ingest': only(
      !provisioned,
      ((onDemandIngestBytes * events) / GB) * p('kinesisOnDemandIngestPerGb'),
    ),
    'Kinesis on-demand EFO retrieval': only(
      !provisioned,
      (efoBytes / GB) * p('kinesisOnDemandEfoRetrievalPerGb'),
    ),
    // Past 24 hours: per shard-hour when provisioned; on demand, each record's bytes for the extra hours.
    'Kinesis extended retention':
      d.retentionHours <= 24
        ? 0
        : provisioned
          ? shards * hours * p('kinesisExtendedRetentionShardHour')
          : ((onDemandIngestBytes * events) / GB) *
            ((d.retentionHours - 24) / MONTH_HOURS) *
            p('kinesisOnDemandExtendedRetentionGbMonth'),
    'CloudWatch PutMetricData':
      ((f.putMetricDataRequests * events) / 1000) * p('cloudwatchPutMetricDataPerThousand'),
    'CloudWatch custom metrics':
      (usage.customMetrics + d.logFilterMetrics) * months * p('cloudwatchCustomMetricMonth'),
    'CloudWatch alarms + dashboard':
      months * (d.alarmMetrics * p('cloudwatchAlarmMonth') + d.dashboards * p('cloudwatchDashboardMonth')),
    'CloudWatch Logs ingestion':
      ((f.invocations * events * d.logBytesPerInvocation) / GB) * p('logsIngestionPerGb'),
    // Each function's traces are sampled on their own (one a second, then 5 %).
    'X-Ray traces': only(
      d.tracingActive,
      FUNCTIONS.reduce((traces, fn) => {
        const invocations = usage.functions[fn].invocations;
        return traces + sampledShare(invocations * eventsPerSecond) * invocations * events;
      }, 0) *
        (p('xrayTraceRecordedPerMillion') / 1e6),
    ),
    'KMS requests + key':
      ((shards * hours * d.kmsRequestsPerShardHour) / 1e4) * p('kmsRequestPer10k') +
      months * p('kmsKeyMonth'),
    'SNS publishes + email':
      ((f.snsPublishes * events) / 1e6) * p('snsPublishPerMillion') +
      ((f.snsPublishes * emailsPerPublish * events) / 1e5) * p('snsEmailDeliveryPer100k'),
    'SQS requests': ((f.sqsRequests * events) / 1e6) * p('sqsRequestPerMillion'),
  };
}

/**
 * Share of invocations X-Ray records under its default sampling rule, which Lambda's Active
 * tracing uses: the first request each second (the reservoir), then 5 % of the rest.
 */
export function sampledShare(invocationsPerSecond: number): number {
  if (invocationsPerSecond <= 1) return 1;
  return (1 + 0.05 * (invocationsPerSecond - 1)) / invocationsPerSecond;
}

/** The same usage in the other capacity mode (the comparison `pulse plan` and the bench show). */
export function withMode(deployment: Deployment, kinesisMode: KinesisMode): Deployment {
  return { ...deployment, kinesisMode };
}

/** The Kinesis-only floor: what the stream alone costs, whatever consumes it. */
export function kinesisOnly(lines: Record<Component, number>): number {
  return KINESIS_COMPONENTS.reduce((sum, c) => sum + lines[c], 0);
}

/** The bench's Kinesis events spread each batch over the local stack's two shards. */
export const BENCH_SHARDS = 2;

/**
 * Events per Lambda batch on one shard at `eventsPerSecond` over `shards`: the batch fills to the
 * function.json batch size or for the batching window, whichever comes first.
 */
export function eventsPerBatchAt(eventsPerSecond: number, shards: number): Record<FunctionName, number> {
  const out = {} as Record<FunctionName, number>;
  for (const fn of FUNCTIONS) {
    const esm = loadFunction(fn).eventSourceMapping;
    const perShard = eventsPerSecond / shards;
    out[fn] = Math.max(1, Math.min(esm.batchSize, perShard * esm.maximumBatchingWindowInSeconds));
  }
  return out;
}

/**
 * A function's measured per-event usage re-spread over the batches a given rate fills. Lambda
 * invocations are one per batch. metrics-emitter's watermark read and write and its PutMetricData
 * requests are per shard-batch, not per event (`perBatchMetrics`: Pulse; the seed's metrics are
 * per record): the measured per-invocation figures (bench batches mix BENCH_SHARDS shards) are
 * divided over the planned batch, and so is its handler time, which that I/O dominates.
 */
export function rebatch(
  fn: FunctionName,
  usage: FunctionUsage,
  eventsPerBatch: number,
  perBatchMetrics: boolean,
): FunctionUsage {
  const u = { ...usage };
  const size = Math.max(1, eventsPerBatch);
  if (perBatchMetrics && fn === 'metrics-emitter' && usage.invocations > 0) {
    const perShardBatch = (x: number) => x / usage.invocations / BENCH_SHARDS;
    u.readUnits = perShardBatch(usage.readUnits) / size;
    u.writeUnits = perShardBatch(usage.writeUnits) / size;
    u.putMetricDataRequests = Math.max(1, perShardBatch(usage.putMetricDataRequests)) / size;
    // Its handler time is mostly that per-batch I/O (shards run in parallel within an invocation).
    u.gbSeconds = usage.gbSeconds / usage.invocations / size;
  }
  u.invocations = 1 / size;
  return u;
}

export function rebatchSystem(
  usage: SystemUsage,
  eventsPerBatch: Record<FunctionName, number>,
  perBatchMetrics: boolean,
): SystemUsage {
  const functions = {} as Record<FunctionName, FunctionUsage>;
  for (const fn of FUNCTIONS)
    functions[fn] = rebatch(fn, usage.functions[fn], eventsPerBatch[fn], perBatchMetrics);
  return { ...usage, functions };
}

export const total = (lines: Record<string, number>): number =>
  Object.values(lines).reduce((a, b) => a + b, 0);
