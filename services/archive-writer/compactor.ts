/**
 * Compaction: each closed hour of each user bucket becomes one file, `compacted.parquet`, holding
 * every event of the partition once (by userId and eventId, the first on the stream winning). Steps, each
 * safe to repeat after a crash:
 *   1. read every file of the partition (the old compacted file included) and de-duplicate;
 *   2. PUT compacted.parquet (atomic: readers see the old or the new file);
 *   3. delete exactly the part files read in step 1.
 * Between 2 and 3 a row can be in two files; readers de-duplicate by userId and eventId (the saved queries,
 * replay), and the next run removes the parts. A part written during a run is not in step 1's list,
 * so it is neither lost nor deleted. Step 2 is conditional on the compacted file's ETag in step 1's
 * list (or on its absence): when another compaction (`pulse archive compact` during the hourly run)
 * or an erasure rewrote it meanwhile, the PUT fails, nothing is deleted, and the partition waits
 * for the next run. Without it the later PUT would replace rows the other had merged in, and its
 * deletes would then remove their only copy. A part gone before step 1 read it means the same.
 * Invalid records are not compacted: they are few, and each is kept as it arrived.
 */
import {
  ARCHIVE_USER_BUCKETS,
  compactedKey,
  partitionOf,
  partitionPrefix,
} from '../shared/archive/layout.js';
import { ArchiveObjectChanged, type ArchiveStore } from '../shared/archive/store.js';
import type { Logger } from '../shared/logger.js';
import type { Tombstones } from '../shared/tombstones.js';

export interface CompactRequest {
  pulse: 'compact-archive';
}

export function isCompactRequest(event: unknown): event is CompactRequest {
  return (
    typeof event === 'object' && event !== null && (event as { pulse?: unknown }).pulse === 'compact-archive'
  );
}

export interface CompactOptions {
  store: ArchiveStore;
  logger: Logger;
  nowMs: number;
  graceMs: number;
  lookbackHours: number;
  /** Stop before starting another partition when this says so (the invocation's time is short). */
  shouldStop?: () => boolean;
  /** Erased users: a part read before `pulse erase` rewrote it must not bring their rows back. */
  tombstones?: Tombstones;
}

export interface CompactSummary {
  partitions: number;
  filesRead: number;
  rowsWritten: number;
  /** Partitions another writer changed during the run: left as they are for the next run. */
  changed: number;
  stoppedEarly: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * Compacts one partition; returns what it read and wrote (nothing when it holds no part file), or
 * `changed` when another writer got there between the list and the PUT.
 */
export async function compactPartition(
  store: ArchiveStore,
  prefix: string,
  compacted: string,
  tombstones?: Pick<Tombstones, 'current'>,
): Promise<{ filesRead: number; rowsWritten: number } | 'changed' | undefined> {
  // Listed first: a partition already compacted, with no part since, is not read again (each run
  // visits every bucket of the last two days).
  const listed = await store.list(prefix);
  const parts = listed.filter((o) => o.key !== compacted).map((o) => o.key);
  if (parts.length === 0) return undefined;
  const previous = listed.find((o) => o.key === compacted);
  if (previous && !previous.etag) throw new Error(`S3 listed ${compacted} without an ETag`);
  try {
    const read = await store.readPartitionEvents(
      prefix,
      listed.map((o) => o.key),
    );
    // The erased users as of now, after the reads, however long they took: a part read before
    // `pulse erase` rewrote it must not carry the user into the file written here.
    const erased = await tombstones?.current();
    const records = erased ? read.records.filter((r) => !erased.has(r.event.userId)) : read.records;
    await store.putEvents(
      compacted,
      records,
      previous?.etag ? { ifMatch: previous.etag } : { ifNoneMatch: '*' },
    );
    await store.delete(parts);
    return { filesRead: listed.length, rowsWritten: records.length };
  } catch (err) {
    if (err instanceof ArchiveObjectChanged) return 'changed';
    throw err;
  }
}

export async function compactClosedHours(o: CompactOptions): Promise<CompactSummary> {
  const summary: CompactSummary = {
    partitions: 0,
    filesRead: 0,
    rowsWritten: 0,
    changed: 0,
    stoppedEarly: false,
  };
  const newestClosed = Math.floor((o.nowMs - o.graceMs) / HOUR_MS) * HOUR_MS - HOUR_MS;
  for (let hour = newestClosed; hour > newestClosed - o.lookbackHours * HOUR_MS; hour -= HOUR_MS) {
    const { dt, hr } = partitionOf(hour, '');
    for (let ub = 0; ub < ARCHIVE_USER_BUCKETS; ub += 1) {
      if (o.shouldStop?.()) {
        summary.stoppedEarly = true;
        return summary;
      }
      const partition = { ub, dt, hr };
      const done = await compactPartition(
        o.store,
        partitionPrefix('events', partition),
        compactedKey('events', partition),
        o.tombstones,
      );
      if (!done) continue;
      if (done === 'changed') {
        summary.changed += 1;
        o.logger.warn('archive partition changed during compaction, left for the next run', { ub, dt, hr });
        continue;
      }
      summary.partitions += 1;
      summary.filesRead += done.filesRead;
      summary.rowsWritten += done.rowsWritten;
      o.logger.info('archive partition compacted', { ub, dt, hr, ...done });
    }
  }
  return summary;
}
