/**
 * Where the archive keeps things: the object key scheme of the archive bucket. The archive writer,
 * the compactor, replay, erasure, the Glue table's partition projection and the local SQL engine
 * all build and parse keys here, so the layout has one definition.
 *
 *   events/ub=NN/dt=YYYY-MM-DD/hr=HH/part-<shardId>-<firstSeq>-<lastSeq>.parquet   written per batch
 *   events/ub=NN/dt=YYYY-MM-DD/hr=HH/compacted.parquet                            one per closed hour
 *   invalid/ub=NN/dt=YYYY-MM-DD/hr=HH/part-<shardId>-<firstSeq>-<lastSeq>.parquet  with the reason
 *   index/shard=<shardId>/<firstSeq>-<lastSeq>.json    which partitions a batch wrote (no user data)
 *
 * - dt/hr is the event's own time (UTC) for events, so an hour's query reads only that hour's
 *   files; invalid records have no trustworthy event time, so theirs is the arrival time.
 * - ub is a user bucket: FNV-1a of the userId (the partition key for invalid records) mod 16. It
 *   comes FIRST so one user's erasure lists one prefix (1/16 of the archive) instead of every hour;
 *   Athena's partition projection and the local engine prune dt/hr whatever the order.
 * - A producer duplicate has the same userId and event time, so it lands in the same partition
 *   as its original: de-duplicating by (userId, eventId) within one partition is complete.
 * - The index finds a shard's sequence range without knowing its users or times: re-drive reads a
 *   range the stream no longer holds from the partitions its batches wrote (compacted or not).
 * - A part's name is fixed by the batch (shard + first and last sequence number), so a re-delivery
 *   of the same batch overwrites its own files instead of adding rows.
 */

export const ARCHIVE_USER_BUCKETS = 16;
export type ArchiveKind = 'events' | 'invalid';
export const ARCHIVE_KINDS: readonly ArchiveKind[] = ['events', 'invalid'];
export const COMPACTED_FILE = 'compacted.parquet';

export interface ArchivePartition {
  /** User bucket, 0..ARCHIVE_USER_BUCKETS-1. */
  ub: number;
  /** UTC day, YYYY-MM-DD. */
  dt: string;
  /** UTC hour, 0..23. */
  hr: number;
}

export type ArchiveFile =
  | { type: 'part'; shardId: string; firstSequence: string; lastSequence: string }
  | { type: 'compacted' };

export interface ArchiveKey {
  kind: ArchiveKind;
  partition: ArchivePartition;
  file: ArchiveFile;
}

export class ArchiveKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveKeyError';
  }
}

const encoder = new TextEncoder();

/** FNV-1a (32-bit) over the UTF-8 bytes: stable across runtimes and cheap. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function userBucket(userId: string): number {
  return fnv1a(userId) % ARCHIVE_USER_BUCKETS;
}

const HOUR_MS = 3_600_000;

/** The partition an event (or invalid record, with its arrival time) belongs to. */
export function partitionOf(timeMs: number, userId: string): ArchivePartition {
  const iso = new Date(timeMs).toISOString();
  return { ub: userBucket(userId), dt: iso.slice(0, 10), hr: Number(iso.slice(11, 13)) };
}

/** Start of the partition's hour, epoch milliseconds. */
export function hourStartMs(partition: Pick<ArchivePartition, 'dt' | 'hr'>): number {
  return Date.parse(`${partition.dt}T00:00:00.000Z`) + partition.hr * HOUR_MS;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

export function partitionPrefix(kind: ArchiveKind, partition: ArchivePartition): string {
  return `${kind}/ub=${pad2(partition.ub)}/dt=${partition.dt}/hr=${pad2(partition.hr)}/`;
}

/** Every key of one user's bucket starts with this (erasure lists it). */
export function userBucketPrefix(kind: ArchiveKind, userId: string): string {
  return `${kind}/ub=${pad2(userBucket(userId))}/`;
}

/** Prefixes of every partition whose hour overlaps [fromMs, toMs), across all user buckets. */
export function hourPrefixes(kind: ArchiveKind, fromMs: number, toMs: number, userId?: string): string[] {
  const buckets = userId === undefined ? [...Array(ARCHIVE_USER_BUCKETS).keys()] : [userBucket(userId)];
  const prefixes: string[] = [];
  for (let hour = Math.floor(fromMs / HOUR_MS) * HOUR_MS; hour < toMs; hour += HOUR_MS) {
    const { dt, hr } = partitionOf(hour, '');
    for (const ub of buckets) prefixes.push(partitionPrefix(kind, { ub, dt, hr }));
  }
  return prefixes;
}

// Shard ids are "shardId-000000000001"; sequence numbers are decimal digits.
const SAFE_SHARD = /^[A-Za-z0-9_.:-]+$/;
const DIGITS = /^\d+$/;

export function partKey(
  kind: ArchiveKind,
  partition: ArchivePartition,
  shardId: string,
  firstSequence: string,
  lastSequence: string,
): string {
  if (!SAFE_SHARD.test(shardId))
    throw new ArchiveKeyError(`shard id ${JSON.stringify(shardId)} is not key-safe`);
  if (!DIGITS.test(firstSequence) || !DIGITS.test(lastSequence)) {
    throw new ArchiveKeyError('sequence numbers must be decimal digits');
  }
  return `${partitionPrefix(kind, partition)}part-${shardId}-${firstSequence}-${lastSequence}.parquet`;
}

export function compactedKey(kind: ArchiveKind, partition: ArchivePartition): string {
  return `${partitionPrefix(kind, partition)}${COMPACTED_FILE}`;
}

const KEY =
  /^(events|invalid)\/ub=(\d{2})\/dt=(\d{4}-\d{2}-\d{2})\/hr=(\d{2})\/(?:(compacted)\.parquet|part-(.+)-(\d+)-(\d+)\.parquet)$/;

/** Parses an archive object key; undefined for keys outside the layout (e.g. Athena results). */
export function parseArchiveKey(key: string): ArchiveKey | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, kind, ub, dt, hr, compacted, shardId, firstSequence, lastSequence] = match;
  const partition = { ub: Number(ub), dt: dt as string, hr: Number(hr) };
  const file: ArchiveFile = compacted
    ? { type: 'compacted' }
    : {
        type: 'part',
        shardId: shardId as string,
        firstSequence: firstSequence as string,
        lastSequence: lastSequence as string,
      };
  return { kind: kind as ArchiveKind, partition, file };
}

/** Per-shard index of what each batch wrote: the partitions (prefixes), never user data. */
export interface BatchIndex {
  shardId: string;
  firstSequence: string;
  lastSequence: string;
  /** Partition prefixes (events/… and invalid/…) the batch wrote to. */
  partitions: string[];
}

export function shardIndexPrefix(shardId: string): string {
  if (!SAFE_SHARD.test(shardId))
    throw new ArchiveKeyError(`shard id ${JSON.stringify(shardId)} is not key-safe`);
  return `index/shard=${shardId}/`;
}

export function indexKey(shardId: string, firstSequence: string, lastSequence: string): string {
  if (!DIGITS.test(firstSequence) || !DIGITS.test(lastSequence)) {
    throw new ArchiveKeyError('sequence numbers must be decimal digits');
  }
  return `${shardIndexPrefix(shardId)}${firstSequence}-${lastSequence}.json`;
}

const INDEX_KEY = /^index\/shard=(.+)\/(\d+)-(\d+)\.json$/;

export function parseIndexKey(key: string): Omit<BatchIndex, 'partitions'> | undefined {
  const match = INDEX_KEY.exec(key);
  if (!match) return undefined;
  return { shardId: match[1] as string, firstSequence: match[2] as string, lastSequence: match[3] as string };
}
