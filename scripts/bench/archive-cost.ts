/**
 * What the archive costs, per million events and per month: the fourth EFO consumer
 * (archive-writer: Lambda compute and requests, consumer-shard-hours, retrieval), S3 PUTs of the
 * part files and index, compaction (LIST, GET, PUT), storage as it tiers, and Athena scans of the
 * saved queries; next to it the Amazon Data Firehose alternative (docs/architecture.md).
 *
 * The per-event figures are measured here on generated traffic: Parquet bytes per event (part
 * files as a batch writes them, and the compacted file of an hour) and the writer's CPU seconds per
 * event (decode + group + encode, what its invocations spend besides S3 round trips). Prices come
 * from prices.json; this file keeps its own price names so the shared cost model is untouched.
 */
import { performance } from 'node:perf_hooks';
import { partitionOf } from '../../services/shared/archive/layout.js';
import { encodeEvents } from '../../services/shared/archive/parquet.js';
import type { PulseEvent } from '../../services/shared/event.js';
import type { ValidRecord } from '../../services/shared/kinesis.js';
import { generateTraffic } from '../traffic/generator.js';
import { loadPrices, MONTH_HOURS, type PriceTable } from './cost-model.js';
import type { Row } from './types.js';

const GB = 1024 ** 3;
const TB = 1024 ** 4;
const SECONDS_PER_MONTH = MONTH_HOURS * 3600;
/** archive-writer's memory (function.json) in GB, for GB-seconds. */
const WRITER_GB = 0.5;
/** Hours compaction looks back and user buckets per hour: the LIST requests of one run. */
const COMPACT_LIST_PER_RUN = 48 * 16;

export interface ArchiveUsage {
  /** Average JSON event size the figures were measured on. */
  eventBytes: number;
  /** Parquet bytes per event in the part files a batch writes (many small files). */
  partBytesPerEvent: number;
  /** Parquet bytes per event once an hour is compacted (what is stored long term). */
  compactedBytesPerEvent: number;
  /** Writer CPU seconds per event (decode, partition, encode). */
  cpuSecondsPerEvent: number;
  /** Files a batch writes per event: one per (user bucket, hour) it touches, plus the index. */
  filesPerBatch: number;
  eventsPerBatch: number;
}

/** Committed defaults (a `make bench` run prints the fresh figures beside them). */
/** Measured with measureArchiveUsage() on 2026-12-02 (20,000 generated events, batches of 2,500). */
export const ARCHIVE_USAGE_DEFAULTS: ArchiveUsage = {
  eventBytes: 139,
  partBytesPerEvent: 67,
  compactedBytesPerEvent: 51,
  cpuSecondsPerEvent: 0.000_116,
  filesPerBatch: 18.8,
  eventsPerBatch: 2_500,
};

const record = (e: PulseEvent, i: number): ValidRecord => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: `4960${String(i).padStart(52, '0')}`,
  arrivalMs: e.timestamp + 500,
  event: e,
});

function byPartition(records: readonly ValidRecord[]): ValidRecord[][] {
  const groups = new Map<string, ValidRecord[]>();
  for (const r of records) {
    const p = partitionOf(r.event.timestamp, r.event.userId);
    const id = `${p.ub}/${p.dt}/${p.hr}`;
    const g = groups.get(id);
    if (g) g.push(r);
    else groups.set(id, [r]);
  }
  return [...groups.values()];
}

/** Measures the archive's per-event figures on `events` generated events, in batches of `batch`. */
export function measureArchiveUsage(events = 20_000, batch = 2_500, seed = 4242): ArchiveUsage {
  const traffic = generateTraffic({ seed, users: 2_000, events, rate: 1_000 });
  const records = traffic.events.map(record);
  const eventBytes =
    traffic.events.reduce((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0) / records.length;
  let partBytes = 0;
  let files = 0;
  let batches = 0;
  const start = performance.now();
  for (let i = 0; i < records.length; i += batch) {
    const groups = byPartition(records.slice(i, i + batch));
    for (const g of groups) partBytes += encodeEvents(g).length;
    files += groups.length + 1;
    batches += 1;
  }
  const cpuSecondsPerEvent = (performance.now() - start) / 1000 / records.length;
  let compactedBytes = 0;
  for (const g of byPartition(records)) compactedBytes += encodeEvents(g).length;
  return {
    eventBytes,
    partBytesPerEvent: partBytes / records.length,
    compactedBytesPerEvent: compactedBytes / records.length,
    cpuSecondsPerEvent,
    filesPerBatch: files / batches,
    eventsPerBatch: batch,
  };
}

function price(prices: PriceTable, name: string): number {
  const p = (prices.prices as Record<string, { usd: number } | undefined>)[name];
  if (!p) throw new Error(`prices.json has no ${name}`);
  return p.usd;
}

export interface ArchiveScenario {
  eventsPerSecond: number;
  shards: number;
  /** Months of archive kept (storage is charged for what has accumulated). */
  monthsKept: number;
  /** Saved-query runs a month, each over one day of data. */
  queriesPerMonth: number;
}

export type ArchiveLine =
  | 'archive-writer Lambda compute'
  | 'archive-writer Lambda requests'
  | 'archive EFO consumer-shard-hours'
  | 'archive EFO retrieval'
  | 'archive S3 PUT (parts + index)'
  | 'archive compaction (LIST, GET, PUT)'
  | 'archive S3 storage'
  | 'Athena scans (saved queries)';

/** Dollars a month of the archive for a scenario, per line. */
export function archiveMonthly(
  usage: ArchiveUsage,
  s: ArchiveScenario,
  prices: PriceTable = loadPrices(),
): Record<ArchiveLine, number> {
  const events = s.eventsPerSecond * SECONDS_PER_MONTH;
  const perShard = s.eventsPerSecond / s.shards;
  // A batch closes at 10,000 records or after the 5 s window, whichever comes first.
  const eventsPerBatch = Math.max(1, Math.min(10_000, perShard * 5));
  const batches = events / eventsPerBatch;
  const filesPerBatch = Math.min(usage.filesPerBatch, 1 + Math.min(16, eventsPerBatch));
  const compactedGbMonth = (events * usage.compactedBytesPerEvent) / GB;
  // Storage after monthsKept months: each month's data tiers down (Standard 1, IA 5, Glacier IR after).
  let storage = 0;
  for (let m = 0; m < s.monthsKept; m += 1) {
    const tier = m < 1 ? 's3StandardGbMonth' : m < 6 ? 's3StandardIaGbMonth' : 's3GlacierIrGbMonth';
    storage += compactedGbMonth * price(prices, tier);
  }
  const hourlyPartitions = Math.min(16, s.eventsPerSecond * 3600);
  const compactionRequests =
    (24 * 30 * COMPACT_LIST_PER_RUN + hourlyPartitions * MONTH_HOURS) *
      (price(prices, 's3PutPerThousand') / 1000) +
    batches * filesPerBatch * (price(prices, 's3GetPerThousand') / 1000);
  const dayBytes = s.eventsPerSecond * 86_400 * usage.compactedBytesPerEvent;
  const athena =
    s.queriesPerMonth * (Math.max(10 * 1024 ** 2, dayBytes) / TB) * price(prices, 'athenaPerTbScanned');
  return {
    'archive-writer Lambda compute':
      events * usage.cpuSecondsPerEvent * WRITER_GB * price(prices, 'lambdaArmGbSecond'),
    'archive-writer Lambda requests': (batches / 1e6) * price(prices, 'lambdaRequestPerMillion'),
    'archive EFO consumer-shard-hours': s.shards * MONTH_HOURS * price(prices, 'kinesisEfoConsumerShardHour'),
    'archive EFO retrieval': ((events * usage.eventBytes) / GB) * price(prices, 'kinesisEfoRetrievalPerGb'),
    'archive S3 PUT (parts + index)': batches * filesPerBatch * (price(prices, 's3PutPerThousand') / 1000),
    'archive compaction (LIST, GET, PUT)': compactionRequests,
    'archive S3 storage': storage,
    'Athena scans (saved queries)': athena,
  };
}

/** The Firehose alternative for the same traffic (conversion to Parquet, dynamic partitioning). */
export function firehoseMonthly(
  usage: ArchiveUsage,
  s: ArchiveScenario,
  prices: PriceTable = loadPrices(),
): number {
  const events = s.eventsPerSecond * SECONDS_PER_MONTH;
  const billedGb = (events * Math.ceil(usage.eventBytes / 5120) * 5120) / GB;
  const objects = 16 * 24 * 30 * 4; // one object per user bucket and 15-minute buffer
  return (
    billedGb * (price(prices, 'firehoseIngestPerGb') + price(prices, 'firehoseFormatConversionPerGb')) +
    ((events * usage.eventBytes) / GB) * price(prices, 'firehoseDynamicPartitioningPerGb') +
    (objects / 1000) * price(prices, 'firehoseDynamicPartitioningPerThousandObjects') +
    objects * (price(prices, 's3PutPerThousand') / 1000)
  );
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * The archive's dollars per million events in its first month, without queries, at the reference
 * rate: what deploying it adds to every traffic shape's total (it archives every event alike).
 */
export function archivePerMillionFirstMonth(
  usage: ArchiveUsage,
  reference: { eventsPerSecond: number; shards: number },
  prices: PriceTable = loadPrices(),
): number {
  const firstMonth = archiveMonthly(usage, { ...reference, monthsKept: 1, queriesPerMonth: 0 }, prices);
  return sum(firstMonth) / ((reference.eventsPerSecond * SECONDS_PER_MONTH) / 1e6);
}

/** Rows for `make bench`'s cost table: per million events and per month at the reference rate. */
export function archiveCostRows(
  usage: ArchiveUsage,
  reference: { eventsPerSecond: number; shards: number },
  prices: PriceTable = loadPrices(),
): Row[] {
  const scenario: ArchiveScenario = { ...reference, monthsKept: 12, queriesPerMonth: 300 };
  const month = archiveMonthly(usage, scenario, prices);
  const firstMonth = archiveMonthly(usage, { ...scenario, monthsKept: 1, queriesPerMonth: 0 }, prices);
  const millions = (reference.eventsPerSecond * SECONDS_PER_MONTH) / 1e6;
  const area = 'archive';
  const rows: Row[] = [
    {
      area,
      metric: 'Parquet bytes per event: part files / compacted',
      unit: 'B',
      ours: usage.partBytesPerEvent,
      baseline: usage.compactedBytesPerEvent,
      runs: 1,
      note: `JSON ${Math.round(usage.eventBytes)} B/event; ours = parts, baseline column = compacted`,
    },
    {
      area,
      metric: 'writer CPU per 1,000 events (decode, partition, encode)',
      unit: 'ms',
      ours: usage.cpuSecondsPerEvent * 1e6,
      baseline: null,
      runs: 1,
    },
    ...Object.entries(firstMonth).map(([line, usd]) => ({
      area,
      metric: `${line} (first month, no queries)`,
      unit: '$/M events',
      ours: usd / millions,
      baseline: null,
      runs: 1,
    })),
    {
      area,
      metric: 'archive total, first month (no queries)',
      unit: '$/M events',
      ours: archivePerMillionFirstMonth(usage, reference, prices),
      baseline: firehoseMonthly(usage, scenario, prices) / millions,
      runs: 1,
      note: 'baseline column = Amazon Data Firehose (Parquet conversion, dynamic partitioning; no de-duplication)',
    },
    {
      area,
      metric: `archive a month after 12 months kept, 300 one-day queries, at ${reference.eventsPerSecond.toLocaleString('en-US')} events/s`,
      unit: '$/month',
      ours: sum(month),
      baseline: null,
      runs: 1,
      note: Object.entries(month)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join('; '),
    },
  ];
  return rows;
}

export interface ArchivePlan {
  monthlyUsd: Record<ArchiveLine, number>;
  totalMonthlyUsd: number;
  /** First month (nothing accumulated, no queries), per million events. */
  perMillionUsd: number;
  firehoseMonthlyUsd: number;
  assumption: string;
}

/** `pulse plan`'s archive section: the committed per-event figures, scaled to the event size. */
export function archivePlan(
  input: { eventsPerSecond: number; shards: number; eventBytes: number },
  prices: PriceTable = loadPrices(),
  monthsKept = 12,
  queriesPerMonth = 300,
): ArchivePlan {
  const d = ARCHIVE_USAGE_DEFAULTS;
  const scale = input.eventBytes / d.eventBytes;
  const usage: ArchiveUsage = {
    ...d,
    eventBytes: input.eventBytes,
    partBytesPerEvent: d.partBytesPerEvent * scale,
    compactedBytesPerEvent: d.compactedBytesPerEvent * scale,
  };
  const scenario = {
    eventsPerSecond: input.eventsPerSecond,
    shards: input.shards,
    monthsKept,
    queriesPerMonth,
  };
  const monthlyUsd = archiveMonthly(usage, scenario, prices);
  const first = archiveMonthly(usage, { ...scenario, monthsKept: 1, queriesPerMonth: 0 }, prices);
  return {
    monthlyUsd,
    totalMonthlyUsd: sum(monthlyUsd),
    perMillionUsd: sum(first) / ((input.eventsPerSecond * SECONDS_PER_MONTH) / 1e6),
    firehoseMonthlyUsd: firehoseMonthly(usage, scenario, prices),
    assumption: `${monthsKept} months kept, ${queriesPerMonth} one-day queries a month, ${Math.round(usage.compactedBytesPerEvent)} B/event compacted`,
  };
}
