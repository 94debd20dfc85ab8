/**
 * Compaction: each closed hour of each user bucket becomes one file, `compacted.parquet`, holding
 * every event of the partition once (by userId and eventId, the first on the stream winning). Steps, each
 * safe to repeat after a crash:
 *   1. read every file of the partition (the old compacted file included) and de-duplicate;
 *   2. PUT compacted.parquet (atomic: readers see the old or the new file);
 *   3. delete exactly the part files read in step 1.
 * Between 2 and 3 a row can be in two files; readers de-duplicate by userId and eventId (the saved queries,
 * replay), and the next run removes the parts. A part written during a run is not in step 1's list,
 * so it is neither lost nor deleted. Two runs on one partition could each delete parts the
 * other's file lacks: the schedule fires once an hour and a run ends within the function's
 * timeout, so scheduled runs never overlap, and `pulse archive compact` is documented as not to be
 * run while one is active.
 * Invalid records are not compacted: they are few, and each is kept as it arrived.
 */
import {
  ARCHIVE_USER_BUCKETS,
  compactedKey,
  partitionOf,
  partitionPrefix,
} from '../shared/archive/layout.js';
import type { ArchiveStore } from '../shared/archive/store.js';
import type { Logger } from '../shared/logger.js';
import type { Tombstones, TombstoneView } from '../shared/tombstones.js';

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
  stoppedEarly: boolean;
}

const HOUR_MS = 3_600_000;

/** Compacts one partition; returns what it read and wrote (nothing when it holds no part file). */
export async function compactPartition(
  store: ArchiveStore,
  prefix: string,
  compacted: string,
  erased?: TombstoneView,
) {
  // Listed first: a partition already compacted, with no part since, is not read again (each run
  // visits every bucket of the last two days).
  const keys = (await store.list(prefix)).map((o) => o.key);
  const parts = keys.filter((k) => k !== compacted);
  if (parts.length === 0) return undefined;
  const read = await store.readPartitionEvents(prefix, keys);
  const records = erased ? read.records.filter((r) => !erased.has(r.event.userId)) : read.records;
  await store.putEvents(compacted, records);
  await store.delete(parts);
  return { filesRead: keys.length, rowsWritten: records.length };
}

export async function compactClosedHours(o: CompactOptions): Promise<CompactSummary> {
  const summary: CompactSummary = { partitions: 0, filesRead: 0, rowsWritten: 0, stoppedEarly: false };
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
        await o.tombstones?.current(),
      );
      if (!done) continue;
      summary.partitions += 1;
      summary.filesRead += done.filesRead;
      summary.rowsWritten += done.rowsWritten;
      o.logger.info('archive partition compacted', { ub, dt, hr, ...done });
    }
  }
  return summary;
}
