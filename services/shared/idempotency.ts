/**
 * Per-user idempotency, shared by every function that keeps user state: sequence watermarks per
 * shard (re-delivered records are at or below their shard's watermark) and short hashes of the
 * recent eventIds (a producer retry puts the same event on the stream again as a new record).
 *
 * Why per shard: Kinesis orders sequence numbers only within a shard. After a reshard a user's
 * records continue in a child shard whose numbers AWS does not promise to be above the parent's.
 *
 * Why the map may forget shards: a user's partition key maps to one open shard at a time, and
 * Lambda reads a child shard only after its parents are finished. So once a user has records in
 * a newer shard, no record of an older one can be re-delivered, and its watermark is dead weight.
 * Keeping the MAX_SHARD_WATERMARKS most recently advanced ones is more than enough.
 *
 * Items written before watermarks were per shard carry one `lastSequenceNumber` of an unknown
 * shard. It is never compared with anything: standing in for "any shard" it would compare numbers
 * across shards again, and after a reshard drop a child shard's first records as re-deliveries.
 * Their eventIds become hashes, which still catch a re-delivery of a recent event; the old
 * attribute is dropped on the item's next write.
 */
import { createHash } from 'node:crypto';
import type { ValidRecord } from './kinesis.js';
import { isAfter } from './sequence.js';

/** [shardId, last sequence number applied from it]; most recently advanced last. */
export type ShardWatermark = [shardId: string, sequenceNumber: string];

/** Shard watermarks kept per user (one open shard per user; the rest is history for safety). */
export const MAX_SHARD_WATERMARKS = 4;

/**
 * Bytes kept per eventId: 64 bits of SHA-256. A false match among 1,000 recent ids is about one
 * in 10^16, and finding another eventId with a given hash (second preimage) takes ~2^64 work.
 */
export const EVENT_HASH_BYTES = 8;

export interface IdempotencyState {
  watermarks: ShardWatermark[];
  /** EVENT_HASH_BYTES per eventId, concatenated, most recent last (a DynamoDB binary attribute). */
  recentEventHashes: Uint8Array;
  /**
   * The single watermark of an item written before watermarks were per shard, when a store's read
   * carried it over: never read (see above), deleted on the next write so the item loses it.
   */
  lastSequenceNumber?: string;
}

export function emptyIdempotency(): IdempotencyState {
  return { watermarks: [], recentEventHashes: new Uint8Array(0) };
}

export function eventIdHash(eventId: string): Buffer {
  return createHash('sha256').update(eventId).digest().subarray(0, EVENT_HASH_BYTES);
}

/** The hashes in `bytes` as set keys (latin1 keeps each byte as one UTF-16 unit: cheap, exact). */
export function hashKeys(bytes: Uint8Array): Set<string> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keys = new Set<string>();
  for (let at = 0; at + EVENT_HASH_BYTES <= buffer.length; at += EVENT_HASH_BYTES) {
    keys.add(buffer.toString('latin1', at, at + EVENT_HASH_BYTES));
  }
  return keys;
}

/** `bytes` followed by `added`, keeping the newest `limit` hashes. */
export function appendHashes(bytes: Uint8Array, added: readonly Uint8Array[], limit: number): Uint8Array {
  const all = Buffer.concat([bytes, ...added]);
  const keep = Math.min(all.length, limit * EVENT_HASH_BYTES);
  return new Uint8Array(all.subarray(all.length - keep));
}

/** Drops the oldest `count` hashes (trimming an item to its byte budget). */
export function dropOldestHashes(bytes: Uint8Array, count: number): Uint8Array {
  return bytes.subarray(Math.min(bytes.length, count * EVENT_HASH_BYTES));
}

export function watermarkOf(state: IdempotencyState, shardId: string): string | undefined {
  return state.watermarks.find(([id]) => id === shardId)?.[1];
}

function advance(state: IdempotencyState, shardId: string, sequenceNumber: string): void {
  const rest = state.watermarks.filter(([id]) => id !== shardId);
  rest.push([shardId, sequenceNumber]);
  state.watermarks = rest.slice(-MAX_SHARD_WATERMARKS);
}

/**
 * An item as read back: a legacy item's eventIds (strings) become hashes, so existing state keeps
 * catching producer retries and re-deliveries of recent events across the upgrade. Its single
 * `lastSequenceNumber` is not taken over (see above).
 */
export function idempotencyFromItem(item: Record<string, unknown>): IdempotencyState {
  return {
    watermarks: Array.isArray(item.watermarks) ? (item.watermarks as ShardWatermark[]) : [],
    recentEventHashes:
      item.recentEventHashes instanceof Uint8Array
        ? item.recentEventHashes
        : Array.isArray(item.recentEventIds)
          ? new Uint8Array(Buffer.concat((item.recentEventIds as string[]).map(eventIdHash)))
          : new Uint8Array(0),
  };
}

/**
 * Returns the records that take effect for the first time, in order, and moves `state`'s
 * watermarks and recent hashes past every record (keeping at most `limit` hashes). `changed` is
 * false when every record was at or below its shard's watermark: there is nothing to write.
 */
export function firstDeliveries<R extends ValidRecord>(
  state: IdempotencyState,
  records: readonly R[],
  limit: number,
): { fresh: R[]; duplicates: number; changed: boolean } {
  const seen = hashKeys(state.recentEventHashes);
  const fresh: R[] = [];
  const added: Buffer[] = [];
  let changed = false;
  for (const record of records) {
    if (!isAfter(record.sequenceNumber, watermarkOf(state, record.shardId))) continue;
    advance(state, record.shardId, record.sequenceNumber);
    changed = true;
    const hash = eventIdHash(record.event.eventId);
    const key = hash.toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    added.push(hash);
    fresh.push(record);
  }
  if (changed) {
    delete state.lastSequenceNumber;
    state.recentEventHashes = appendHashes(state.recentEventHashes, added, limit);
  }
  return { fresh, duplicates: records.length - fresh.length, changed };
}
