/**
 * How the re-drive (shared/failure/redrive.ts) applies a set-aside metrics segment. The shard's
 * watermark moved over the segment when it was set aside, so the segment entry itself is the
 * record of what was not emitted: its records are aggregated with the function's own code and
 * emitted; the entry's `appliedThrough` moves after each page (a crash re-emits at most that
 * page's datums, the function's own residual window). Producer duplicates are still dropped by
 * eventId: the shard's recent eventId hashes and the range itself.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SEGMENT_PREFIX } from '../shared/failure/ledger.js';
import { type RangeRecord, toKinesisEvent } from '../shared/failure/range-source.js';
import type { RedriveTarget } from '../shared/failure/redrive.js';
import { hashKeys } from '../shared/idempotency.js';
import { type DecodeOptions, decodeBatch } from '../shared/kinesis.js';
import { compareSequence } from '../shared/sequence.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';
import { putMetricData } from './emitter.js';
import { userEventHashKey, type WatermarkStore, watermarkKey } from './watermarks.js';
import { aggregateSegments, type BatchItem, eventTypeLabels } from './windows.js';

export interface MetricsRedriveDeps {
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  watermarks: WatermarkStore;
  namespace: string;
  environment: string;
  /** The deployed function's name (the metrics' FunctionName dimension and the watermark key). */
  functionName: string;
  maxEventTypes: number;
  /** The environment's EventType allow-list (as the live function folds the rest into `other`). */
  eventTypes?: ReadonlySet<string>;
  decode?: DecodeOptions;
  /** Erased users, whose records are not counted (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
  now?: () => number;
}

export function metricsRedriveTarget(deps: MetricsRedriveDeps): RedriveTarget {
  // Per entry across its pages, so a duplicate within the range counts once.
  const seenBy = new Map<string, Set<string>>();
  return {
    select: (entry, page) => (entry.sk.startsWith(SEGMENT_PREFIX) ? [...page] : []),
    async apply(entry, records: RangeRecord[]) {
      const { valid, invalid } = await dropErased(
        deps.tombstones,
        decodeBatch(toKinesisEvent(records, entry.streamArn).Records, deps.decode),
      );
      const items: BatchItem[] = [...valid, ...invalid].sort((a, b) =>
        compareSequence(a.sequenceNumber, b.sequenceNumber),
      );
      let seen = seenBy.get(entry.pk + entry.sk);
      if (!seen) {
        seen = new Set<string>();
        const mark = await deps.watermarks.read(watermarkKey(deps.functionName, entry.shardId));
        for (const block of mark.recent) for (const key of hashKeys(block.h)) seen.add(key);
        seenBy.set(entry.pk + entry.sk, seen);
      }
      const fresh = items.filter((item) => {
        if (!('event' in item)) return true;
        const key = userEventHashKey(item.event.userId, item.event.eventId);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const { labelOf } = eventTypeLabels(valid, deps.maxEventTypes, deps.eventTypes);
      const segments = aggregateSegments(fresh, {
        environment: deps.environment,
        functionName: deps.functionName,
        nowMs: (deps.now ?? Date.now)(),
        labelOf,
      });
      for (const segment of segments)
        await putMetricData(deps.cloudwatch, deps.namespace, segment.datums, segment.bytes);
      return { applied: fresh.length, unchanged: items.length - fresh.length };
    },
  };
}
