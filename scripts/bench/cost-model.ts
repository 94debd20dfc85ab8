/**
 * From usage to dollars: the one place that multiplies measured per-event figures by the price
 * table (prices.json). The bench uses it for dollars per million events; the capacity planner
 * (cli/src/plan.ts) for dollars per month. Costs that accrue per hour (shards, enhanced
 * fan-out consumers, custom metrics) are spread over the events of that hour at a stated rate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionName, loadFunction } from '../../lib/config.js';
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
  | 'kinesisExtendedRetentionShardHour'
  | 'cloudwatchPutMetricDataPerThousand'
  | 'cloudwatchCustomMetricMonth'
  | 'snsPublishPerMillion'
  | 'snsEmailDeliveryPer100k'
  | 'sqsRequestPerMillion'
  | 'flinkKpuHour'
  | 'flinkRunningStorageGbMonth';

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
const GB = 1024 ** 3;
const MB = 1024 ** 2;

export const COMPONENTS = [
  'DynamoDB writes',
  'DynamoDB reads',
  'Lambda compute',
  'Lambda requests',
  'Kinesis shard-hours',
  'Kinesis PUT payload units',
  'Kinesis EFO consumer-shard-hours',
  'Kinesis EFO retrieval',
  'CloudWatch PutMetricData',
  'CloudWatch custom metrics',
  'SNS publishes + email',
  'SQS requests',
] as const;
export type Component = (typeof COMPONENTS)[number];

export function sumFunctions(usage: SystemUsage): FunctionUsage {
  const total: FunctionUsage = {
    readUnits: 0,
    writeUnits: 0,
    putMetricDataRequests: 0,
    snsPublishes: 0,
    sqsRequests: 0,
    gbSeconds: 0,
    invocations: 0,
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
 * Dollars for `events` events arriving at `eventsPerSecond` on `shards` provisioned shards,
 * per component. Hourly charges are for the hours those events take at that rate.
 */
export function dollarsFor(
  usage: SystemUsage,
  prices: PriceTable,
  options: { events: number; eventsPerSecond: number; shards: number },
): Record<Component, number> {
  const p = (name: PriceName) => prices.prices[name].usd;
  const { events, eventsPerSecond, shards } = options;
  const hours = events / eventsPerSecond / 3600;
  const f = sumFunctions(usage);
  const putUnits = Math.ceil(usage.recordBytesWithKey / (25 * 1024));
  const emailsPerPublish = 1; // one email subscription on the alert topic
  return {
    'DynamoDB writes': ((f.writeUnits * events) / 1e6) * p('dynamodbWriteRequestUnitPerMillion'),
    'DynamoDB reads': ((f.readUnits * events) / 1e6) * p('dynamodbReadRequestUnitPerMillion'),
    'Lambda compute': f.gbSeconds * events * p('lambdaArmGbSecond'),
    'Lambda requests': ((f.invocations * events) / 1e6) * p('lambdaRequestPerMillion'),
    'Kinesis shard-hours': shards * hours * p('kinesisShardHour'),
    'Kinesis PUT payload units': ((putUnits * events) / 1e6) * p('kinesisPutPayloadUnitPerMillion'),
    'Kinesis EFO consumer-shard-hours': usage.consumers * shards * hours * p('kinesisEfoConsumerShardHour'),
    'Kinesis EFO retrieval':
      ((usage.consumers * usage.recordBytes * events) / GB) * p('kinesisEfoRetrievalPerGb'),
    'CloudWatch PutMetricData':
      ((f.putMetricDataRequests * events) / 1000) * p('cloudwatchPutMetricDataPerThousand'),
    'CloudWatch custom metrics':
      usage.customMetrics * (hours / MONTH_HOURS) * p('cloudwatchCustomMetricMonth'),
    'SNS publishes + email':
      ((f.snsPublishes * events) / 1e6) * p('snsPublishPerMillion') +
      ((f.snsPublishes * emailsPerPublish * events) / 1e5) * p('snsEmailDeliveryPer100k'),
    'SQS requests': ((f.sqsRequests * events) / 1e6) * p('sqsRequestPerMillion'),
  };
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
