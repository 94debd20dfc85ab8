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
import { idHash } from './id-hash.js';
import type { ValidRecord } from './kinesis.js';
import { isAfter } from './sequence.js';

/** [shardId, last sequence number applied from it]; most recently advanced last. */
export type ShardWatermark = [shardId: string, sequenceNumber: string];

/** Shard watermarks kept per user (one open shard per user; the rest is history for safety). */
export const MAX_SHARD_WATERMARKS = 4;

/**
 * Bytes kept per eventId: a 64-bit hash (id-hash.ts). A false match among 1,000 recent ids is
 * about one in 10^16.
 */
export const EVENT_HASH_BYTES = 8;

/** Bytes per remembered arrival time: epoch seconds, unsigned 32-bit big-endian (good to 2106). */
export const EVENT_TIME_BYTES = 4;

export interface IdempotencyState {
  watermarks: ShardWatermark[];
  /** EVENT_HASH_BYTES per eventId, concatenated, most recent last (a DynamoDB binary attribute). */
  recentEventHashes: Uint8Array;
  /**
   * When the state keeps a duplicate window: the arrival second of each hash's record, aligned
   * with `recentEventHashes` (EVENT_TIME_BYTES each). Absent: hashes are kept by count only.
   */
  recentEventSeconds?: Uint8Array;
  /**
   * The single watermark of an item written before watermarks were per shard, when a store's read
   * carried it over: never read (see above), deleted on the next write so the item loses it.
   */
  lastSequenceNumber?: string;
}

export function emptyIdempotency(): IdempotencyState {
  return { watermarks: [], recentEventHashes: new Uint8Array(0) };
}

/** The eventId's hash as a latin1 string, one character per byte (id-hash.ts). */
export function eventIdHashKey(eventId: string): string {
  return idHash(eventId);
}

export function eventIdHash(eventId: string): Buffer {
  return Buffer.from(eventIdHashKey(eventId), 'latin1');
}

/** Whether `bytes` holds `hash` at a hash boundary (a plain byte search: no per-user Set). */
export function containsHash(bytes: Uint8Array, hash: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = buffer.indexOf(hash);
  while (at !== -1) {
    if (at % EVENT_HASH_BYTES === 0) return true;
    at = buffer.indexOf(hash, at + 1);
  }
  return false;
}

/** containsHash on latin1 text (hashes as eventIdHashKey gives them): no Buffer per record. */
function containsKey(text: string, key: string): boolean {
  let at = text.indexOf(key);
  while (at !== -1) {
    if (at % EVENT_HASH_BYTES === 0) return true;
    at = text.indexOf(key, at + 1);
  }
  return false;
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

/** Moves a shard's watermark; the usual case (the same shard as last time) allocates one pair. */
function advance(state: IdempotencyState, shardId: string, sequenceNumber: string): void {
  const marks = state.watermarks;
  const last = marks.length - 1;
  // A new pair, never an edit of the old one: a caller's copy of the state may share the pairs.
  if (last >= 0 && (marks[last] as ShardWatermark)[0] === shardId) {
    marks[last] = [shardId, sequenceNumber];
    return;
  }
  const rest = marks.filter(([id]) => id !== shardId);
  rest.push([shardId, sequenceNumber]);
  state.watermarks = rest.length > MAX_SHARD_WATERMARKS ? rest.slice(-MAX_SHARD_WATERMARKS) : rest;
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
    ...(item.recentEventSeconds instanceof Uint8Array ? { recentEventSeconds: item.recentEventSeconds } : {}),
  };
}

/**
 * How long a producer retry is recognised: `windowSeconds` after its first copy arrived, and
 * while at most `limit` newer events of the user came between. Without a window, by count only.
 */
export interface DuplicateScope {
  limit: number;
  windowSeconds?: number;
}

/**
 * The arrival seconds aligned with `hashes`. Hashes without a time (an item written before the
 * window, or by count only) count as just seen at `fallback`, so none is lost early.
 */
function secondsFor(state: IdempotencyState, count: number, fallback: number): Buffer {
  const seconds = state.recentEventSeconds;
  if (seconds && seconds.byteLength === count * EVENT_TIME_BYTES)
    return Buffer.from(seconds.buffer, seconds.byteOffset, seconds.byteLength);
  const filled = Buffer.alloc(count * EVENT_TIME_BYTES);
  for (let i = 0; i < count; i++) filled.writeUInt32BE(fallback, i * EVENT_TIME_BYTES);
  return filled;
}

/** Appends the batch's hashes and their seconds, then keeps the newest `limit` inside the window. */
function appendWithin(
  state: IdempotencyState,
  added: Buffer,
  addedSeconds: readonly number[],
  batchSecond: number,
  windowSeconds: number,
  limit: number,
): void {
  const oldCount = state.recentEventHashes.byteLength / EVENT_HASH_BYTES;
  const old = secondsFor(state, oldCount, batchSecond);
  const times = Buffer.alloc(addedSeconds.length * EVENT_TIME_BYTES);
  for (const [i, s] of addedSeconds.entries()) times.writeUInt32BE(s, i * EVENT_TIME_BYTES);
  const allSeconds = Buffer.concat([old, times]);
  const allHashes = Buffer.concat([state.recentEventHashes, added]);
  const count = allHashes.length / EVENT_HASH_BYTES;
  let latest = 0;
  for (let i = 0; i < count; i++) latest = Math.max(latest, allSeconds.readUInt32BE(i * EVENT_TIME_BYTES));
  let drop = Math.max(0, count - limit);
  // Oldest first: a leading hash older than the window (from the newest arrival) is let go.
  while (drop < count && allSeconds.readUInt32BE(drop * EVENT_TIME_BYTES) < latest - windowSeconds) drop++;
  state.recentEventHashes = new Uint8Array(allHashes.subarray(drop * EVENT_HASH_BYTES));
  state.recentEventSeconds = new Uint8Array(allSeconds.subarray(drop * EVENT_TIME_BYTES));
}

/** Below this many new hashes in a batch, a scan of them is cheaper than hashing each into a Set. */
const ADDED_SET_FROM = 32;

/**
 * Returns the records that take effect for the first time, in order, and moves `state`'s
 * watermarks and recent hashes past every record (keeping at most `limit` hashes). `changed` is
 * false when every record was at or below its shard's watermark: there is nothing to write.
 */
export function firstDeliveries<R extends ValidRecord>(
  state: IdempotencyState,
  records: readonly R[],
  scope: number | DuplicateScope,
): { fresh: R[]; duplicates: number; changed: boolean } {
  const { limit, windowSeconds } = typeof scope === 'number' ? { limit: scope } : scope;
  const known = state.recentEventHashes;
  // Searched as latin1 text (one character per byte), as the keys come from the hash.
  const knownText = Buffer.from(known.buffer, known.byteOffset, known.byteLength).toString('latin1');
  const fresh: R[] = [];
  // The batch's new hashes, in order; a Set finds repeats once the batch has many.
  const added: string[] = [];
  let addedSet: Set<string> | undefined;
  const addedSeconds: number[] = [];
  let batchSecond = 0;
  let changed = false;
  // The current shard's watermark, moved in `state` once per run of its records, not per record.
  let shard: string | undefined;
  let mark: string | undefined;
  let moved = false;
  for (const record of records) {
    if (record.shardId !== shard) {
      if (moved) advance(state, shard as string, mark as string);
      shard = record.shardId;
      mark = watermarkOf(state, shard);
      moved = false;
    }
    if (!isAfter(record.sequenceNumber, mark)) continue;
    mark = record.sequenceNumber;
    moved = true;
    changed = true;
    const second = Math.floor(record.arrivalMs / 1000);
    if (second > batchSecond) batchSecond = second;
    const key = eventIdHashKey(record.event.eventId);
    if (containsKey(knownText, key) || (addedSet ? addedSet.has(key) : added.includes(key))) continue;
    added.push(key);
    if (addedSet) addedSet.add(key);
    else if (added.length === ADDED_SET_FROM) addedSet = new Set(added);
    addedSeconds.push(second);
    fresh.push(record);
  }
  if (moved) advance(state, shard as string, mark as string);
  if (changed) {
    delete state.lastSequenceNumber;
    const newHashes = Buffer.from(added.join(''), 'latin1');
    if (windowSeconds === undefined)
      state.recentEventHashes = appendHashes(state.recentEventHashes, [newHashes], limit);
    else appendWithin(state, newHashes, addedSeconds, batchSecond, windowSeconds, limit);
  }
  return { fresh, duplicates: records.length - fresh.length, changed };
}
