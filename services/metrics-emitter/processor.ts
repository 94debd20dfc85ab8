/**
 * One Lambda batch: decode, drop what a shard's watermark says was already emitted, aggregate the
 * rest into segments, and per segment PutMetricData then advance the watermark.
 *
 * Exactly-once in the normal retry paths: a re-delivered record is at or below its shard's
 * watermark and is skipped; a producer duplicate (same eventId in a new record) is found among the
 * shard's recent eventIds (the same user, so the same shard) and is skipped too. Segments are the
 * failure layer's partitions (shared/failure/partitioned.ts): a failed PutMetricData makes the
 * shard wait from the segment's first record (earlier segments are emitted and under the
 * watermark), unless the layer sets the segment aside for the re-drive. Residual window: if the function dies (crash, timeout) after a PutMetricData
 * succeeded and before the watermark write, that one segment is emitted again on retry.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { KinesisStreamEvent } from 'aws-lambda';
import { type BatchResponse, mapWithConcurrency } from '../shared/batch.js';
import type { Deadline } from '../shared/deadline.js';
import { ConcurrentUpdateError } from '../shared/errors.js';
import { type FailureLedger, segmentKey } from '../shared/failure/ledger.js';
import { type Partition, processPartitioned } from '../shared/failure/partitioned.js';
import { hashKeys } from '../shared/idempotency.js';
import { type DecodeOptions, decodeBatch } from '../shared/kinesis.js';
import type { ParentShards } from '../shared/lineage.js';
import type { Logger } from '../shared/logger.js';
import { compareSequence, isAfter } from '../shared/sequence.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';
import { MetricEmissionError, putMetricData } from './emitter.js';
import {
  type HashBlock,
  trimBlocks,
  userEventHashKey,
  type Watermark,
  type WatermarkStore,
  watermarkKey,
} from './watermarks.js';
import {
  aggregateSegments,
  type BatchItem,
  eventTypeLabels,
  type Segment,
  type WindowContext,
} from './windows.js';

const MAX_WATERMARK_ATTEMPTS = 3;
const SHARD_CONCURRENCY = 4;

export interface EmitterDeps {
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  watermarks: WatermarkStore;
  namespace: string;
  environment: string;
  functionName: string;
  maxEventTypes: number;
  /** EventType values with metrics of their own; others count as `other` (absent: any type). */
  eventTypes?: ReadonlySet<string>;
  /** eventIds remembered per shard; a duplicate further back than this is counted again. */
  recentEventIdsLimit: number;
  /** ... or arriving longer than this after the first copy (the producer's retry span). */
  duplicateWindowSeconds: number;
  /** A new shard's parents, whose recent hashes its first watermark starts from (see lineage.ts). */
  parentShards?: ParentShards;
  /** PutMetricData request limits per segment; tests make them small to get many segments. */
  segmentLimits?: { maxDatums: number; maxBytes: number };
  /** When set, no shard or segment starts with less than its margin left (see shared/deadline.ts). */
  deadline?: Deadline;
  logger: Logger;
  /** The failure ledger (absent in unit tests of other paths: every failure waits). */
  ledger?: FailureLedger;
  now?: () => number;
  /** MAX_EVENT_AHEAD_SECONDS and friends; the shared default when absent. */
  decode?: DecodeOptions;
  /** Erased users, whose records are dropped (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
}

export interface EmitSummary {
  records: number;
  invalid: number;
  /** Records at or below their shard's watermark: re-deliveries, not emitted again. */
  skipped: number;
  /** Events whose eventId was emitted before (producer retries), not emitted again. */
  duplicates: number;
  emitted: number;
  datums: number;
  requests: number;
  /** Events bucketed by arrival time because CloudWatch would reject their event time. */
  displaced: number;
  /** Purchases counted but left out of Revenue/OrderValue: amount too large for CloudWatch. */
  unrepresentable: number;
  /** Events whose EventType folded into `other` (cap per batch, or unusable value). */
  foldedEventTypes: number;
  failedShards: number;
  /** Segments the shard waits for because the invocation was running out of time. */
  deferredSegments: number;
}

export async function emitBatchMetrics(
  event: KinesisStreamEvent,
  deps: EmitterDeps,
): Promise<{ response: BatchResponse; summary: EmitSummary }> {
  const nowMs = (deps.now ?? Date.now)();
  const { valid, invalid } = await dropErased(
    deps.tombstones,
    decodeBatch(event.Records, deps.decode),
    deps.logger,
  );
  const { labelOf, folded } = eventTypeLabels(valid, deps.maxEventTypes, deps.eventTypes);
  const ctx: WindowContext = {
    environment: deps.environment,
    functionName: deps.functionName,
    nowMs,
    labelOf,
  };
  const summary: EmitSummary = {
    records: event.Records.length,
    invalid: invalid.length,
    skipped: 0,
    duplicates: 0,
    emitted: 0,
    datums: 0,
    requests: 0,
    displaced: 0,
    unrepresentable: 0,
    foldedEventTypes: folded,
    failedShards: 0,
    deferredSegments: 0,
  };

  const shards = new Map<string, BatchItem[]>();
  // Consecutive records of one shard (the usual batch) share the shardId string: no look-up.
  let lastShard: string | undefined;
  let lastItems: BatchItem[] = [];
  const group = (item: BatchItem) => {
    if (item.shardId !== lastShard) {
      lastShard = item.shardId;
      let items = shards.get(lastShard);
      if (!items) {
        items = [];
        shards.set(lastShard, items);
      }
      lastItems = items;
    }
    lastItems.push(item);
  };
  for (const item of valid) group(item);
  for (const item of invalid) group(item);

  const streamArn = event.Records[0]?.eventSourceARN ?? '';
  const failures = await mapWithConcurrency([...shards], SHARD_CONCURRENCY, ([shardId, items]) =>
    emitShard(
      streamArn,
      shardId,
      items.sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber)),
      ctx,
      deps,
      summary,
    ),
  );
  const batchItemFailures = failures.flatMap((seq) => (seq === undefined ? [] : [{ itemIdentifier: seq }]));
  summary.failedShards = batchItemFailures.length;
  return { response: { batchItemFailures }, summary };
}

/** Emits one shard's records; returns the sequence number to report as failed, if any. */
async function emitShard(
  streamArn: string,
  shardId: string,
  items: BatchItem[],
  ctx: WindowContext,
  deps: EmitterDeps,
  summary: EmitSummary,
): Promise<string | undefined> {
  const pk = watermarkKey(deps.functionName, shardId);
  const segments = new Map<string, { segment: Segment; block: HashBlock }>();
  let known: Watermark | undefined;
  let displaced = 0;
  const { response, outcome } = await processPartitioned<BatchItem>({
    ledger: deps.ledger,
    batch: {
      shardId,
      streamArn,
      first: (items[0] as BatchItem).sequenceNumber,
      last: (items[items.length - 1] as BatchItem).sequenceNumber,
    },
    records: items,
    // Segments go out in order: the watermark covers each one as it is emitted.
    concurrency: 1,
    deadline: deps.deadline,
    logger: deps.logger,
    async partition(free) {
      let watermark = await deps.watermarks.read(pk);
      if (watermark.version === 0)
        watermark = { ...watermark, recent: await inherited(streamArn, shardId, deps) };
      known = watermark;
      const { fresh, hashes } = freshItems(free, watermark, shardId, deps, summary);
      const out: Partition<BatchItem>[] = [];
      let offset = 0;
      for (const segment of aggregateSegments(fresh, ctx, deps.segmentLimits)) {
        const records = fresh.slice(offset, offset + segment.records);
        let newest = 0;
        for (const r of records) if (r.arrivalMs > newest) newest = r.arrivalMs;
        const block: HashBlock = {
          at: Math.floor(newest / 1000),
          h: new Uint8Array(Buffer.from(hashes.slice(offset, offset + segment.records).join(''), 'latin1')),
        };
        offset += segment.records;
        const key = segmentKey(segment.firstSequenceNumber);
        segments.set(key, { segment, block });
        out.push({ key, records });
      }
      return out;
    },
    async apply(p) {
      const { segment, block } = segments.get(p.key) as { segment: Segment; block: HashBlock };
      try {
        summary.requests += await putMetricData(
          deps.cloudwatch,
          deps.namespace,
          segment.datums,
          segment.bytes,
        );
      } catch (err) {
        // A segment is sized to one request, so nothing of it went out (sentDatums 0); earlier
        // segments did and are covered by the watermark. A non-zero sentDatums would be datums
        // that the retry counts twice, so the log says how many.
        deps.logger.error('PutMetricData failed', {
          shardId,
          firstSequenceNumber: segment.firstSequenceNumber,
          sentDatums: err instanceof MetricEmissionError ? err.sentDatums : 0,
          error: err,
        });
        throw err;
      }
      summary.emitted += segment.records;
      summary.datums += segment.datums.length;
      summary.displaced += segment.displaced;
      summary.unrepresentable += segment.unrepresentable;
      displaced += segment.displaced;
      known = await advanceWatermark(deps, pk, segment.lastSequenceNumber, block, known);
    },
    // The entry owns the set-aside segment now; the watermark moves over it, without its eventId
    // hashes, which would make the re-drive drop the segment's events as duplicates.
    async onSetAside(p) {
      const { segment, block } = segments.get(p.key) as { segment: Segment; block: HashBlock };
      const none: HashBlock = { at: block.at, h: new Uint8Array(0) };
      known = await advanceWatermark(deps, pk, segment.lastSequenceNumber, none, known);
    },
  });
  summary.deferredSegments += outcome.deferred;
  if (displaced > 0) {
    deps.logger.warn('event times CloudWatch would reject; counted at arrival time', { shardId, displaced });
  }
  return response.batchItemFailures[0]?.itemIdentifier;
}

/** The shard's records above its watermark, without producer duplicates, with their eventId hashes. */
function freshItems(
  items: readonly BatchItem[],
  watermark: Watermark,
  shardId: string,
  deps: EmitterDeps,
  summary: EmitSummary,
): { fresh: BatchItem[]; hashes: string[] } {
  const seen = new Set<string>();
  for (const block of watermark.recent) for (const key of hashKeys(block.h)) seen.add(key);
  const fresh: BatchItem[] = [];
  // Each fresh item's hash as latin1 text ('' for an invalid record, which has none).
  const hashes: string[] = [];
  let redelivered = 0;
  for (const item of items) {
    if (watermark.version > 0 && !isAfter(item.sequenceNumber, watermark.lastSequenceNumber)) {
      redelivered += 1;
      continue;
    }
    let key = '';
    if ('event' in item) {
      key = userEventHashKey(item.event.userId, item.event.eventId);
      const before = seen.size;
      seen.add(key); // one look-up: the set did not grow when the key was there already
      if (seen.size === before) {
        summary.duplicates += 1;
        continue;
      }
    }
    fresh.push(item);
    hashes.push(key);
  }
  summary.skipped += redelivered;
  if (redelivered > 0) {
    deps.logger.info('re-delivered records skipped', {
      shardId,
      skipped: redelivered,
      watermark: watermark.lastSequenceNumber,
    });
  }
  return { fresh, hashes };
}

/**
 * Moves the watermark forward (never back). A lost race re-reads and retries. If the write still
 * fails, the metrics are already out: the batch is NOT failed (that would re-emit them); the stale
 * watermark only matters if these records are re-delivered, and the next segment re-reads it.
 */
async function advanceWatermark(
  deps: EmitterDeps,
  pk: string,
  sequenceNumber: string,
  emitted: HashBlock,
  known: Watermark | undefined,
): Promise<Watermark | undefined> {
  try {
    let current = known ?? (await deps.watermarks.read(pk));
    for (let attempt = 1; ; attempt++) {
      if (current.version > 0 && !isAfter(sequenceNumber, current.lastSequenceNumber)) return current;
      try {
        const recent = trimBlocks(
          [...current.recent, emitted],
          deps.recentEventIdsLimit,
          deps.duplicateWindowSeconds,
        );
        return await deps.watermarks.advance(pk, sequenceNumber, current, recent);
      } catch (err) {
        if (!(err instanceof ConcurrentUpdateError) || attempt >= MAX_WATERMARK_ATTEMPTS) throw err;
        deps.logger.warn('watermark moved concurrently, re-reading', { pk, attempt });
        current = await deps.watermarks.read(pk);
      }
    }
  } catch (err) {
    deps.logger.error('watermark write failed after metrics were emitted', {
      pk,
      sequenceNumber,
      error: err,
    });
    return undefined;
  }
}

/**
 * The recent hashes a shard without a watermark starts from: its parents' (none for a shard the
 * stream was created with). Lambda reads a child only after its parents are finished, so their
 * watermarks are final.
 */
async function inherited(streamArn: string, shardId: string, deps: EmitterDeps): Promise<HashBlock[]> {
  if (!deps.parentShards) return [];
  const parents = await deps.parentShards(streamArn, shardId);
  const blocks: HashBlock[] = [];
  for (const parent of parents) {
    blocks.push(...(await deps.watermarks.read(watermarkKey(deps.functionName, parent))).recent);
  }
  if (parents.length > 0)
    deps.logger.info("new shard starts from its parents' recent eventIds", { shardId, parents });
  return trimBlocks(
    blocks.sort((a, b) => a.at - b.at),
    deps.recentEventIdsLimit,
    deps.duplicateWindowSeconds,
  );
}
