/**
 * The failure layer: one place that decides what happens when a batch's records cannot be
 * applied, around a pure domain apply (the way Powertools' batch processor wraps a record
 * handler). Each function calls `processPartitioned` once per shard batch.
 *
 * Policy, per partition (a user, session-updater's invalid records, or a metrics segment):
 * - Applied: any `failing` entry of the key is removed (a `parked` entry only once the re-drive
 *   caught up with it: the hand-over).
 * - A transient failure (classify.ts), a failed ledger read, a failed batch read (`prepare`), a
 *   failed ledger write, or too little time left: the shard waits. The partition's first record
 *   is reported as a batch item failure, so Lambda retries from the earliest one; nothing is set
 *   aside and nothing is skipped.
 * - Any other failure is counted on the key's entry (`failing`); the shard waits. When the same
 *   record failed `parkAfter` times, or the error can never succeed (`deterministic`), the key is
 *   set aside (`parked`) and the shard goes on without it.
 * - A parked key's later records are not applied: its entry's `last` is extended, so the
 *   scheduled re-drive (redrive.ts) applies them in order. The same holds on a child shard while
 *   an ancestor shard still has the key's entry (a reshard during the set-aside).
 * - An entry still `failing` whose first record is before this batch means Lambda moved past it
 *   (retries or record age ran out): its key is set aside too, so those records are re-driven.
 *
 * So each record either takes effect, or its shard waits, or it has a durable entry.
 */
import { type BatchResponse, batchResponse, mapWithConcurrency } from '../batch.js';
import { type Deadline, timeIsShort } from '../deadline.js';
import type { Logger } from '../logger.js';
import { compareSequence } from '../sequence.js';
import { classify } from './classify.js';
import { caughtUp, type FailureLedger, type LedgerEntry, SEGMENT_PREFIX } from './ledger.js';

export interface Positioned {
  sequenceNumber: string;
}

export interface Partition<R extends Positioned> {
  /** A namespaced ledger key (ledger.ts: userKey, internalKey, segmentKey). */
  key: string;
  /** In sequence order. */
  records: R[];
}

/** Shard, stream and first/last sequence numbers of one Lambda Kinesis batch. */
export interface BatchRange {
  shardId: string;
  streamArn: string;
  first: string;
  last: string;
}

/** Default number of failures of the same record before its key is set aside. */
export const DEFAULT_PARK_AFTER = 3;

export interface PartitionedOptions<R extends Positioned> {
  /** Absent (unit tests of other paths, the re-drive itself): every failure makes the shard wait. */
  ledger?: FailureLedger;
  batch: BatchRange | undefined;
  records: readonly R[];
  /** Per-key partitions (users): each record's key. */
  keyOf?: (record: R) => string;
  /**
   * Range partitions (metrics segments), cut in order from the records no parked range holds.
   * Its failure (a state read) makes the shard wait.
   */
  partition?: (records: readonly R[]) => Promise<Partition<R>[]> | Partition<R>[];
  /** Batch-wide work before any apply (batched reads); its failure makes the shard wait. */
  prepare?: (partitions: Partition<R>[]) => Promise<void>;
  /** Applies one partition; throws when it did not take effect. */
  apply: (partition: Partition<R>) => Promise<void>;
  /** After a range partition was durably set aside (metrics: the watermark moves over it). */
  onSetAside?: (partition: Partition<R>) => Promise<void>;
  /** The shards a shard was split or merged from (a reshard), for keys parked there. */
  ancestors?: (streamArn: string, shardId: string) => Promise<string[]>;
  deadline?: Deadline;
  logger: Logger;
  parkAfter?: number;
  /** Partitions in flight; 1 applies them in order and stops at the first that waits. */
  concurrency?: number;
}

export interface PartitionedOutcome {
  partitions: number;
  applied: number;
  /** Parked keys whose records were added to their entry instead of applied. */
  held: number;
  /** Keys set aside by this batch. */
  setAside: number;
  /** Partitions the shard waits for (transient failures, counted failures, ledger trouble). */
  waiting: number;
  /** Partitions not started for lack of time (the shard waits for them too). */
  deferred: number;
}

export interface PartitionedResult {
  response: BatchResponse;
  outcome: PartitionedOutcome;
}

/**
 * Ancestor shards found without entries, per ledger (one per execution environment). Lambda reads
 * a child only after its parents are finished, and nothing adds entries to a finished shard, so an
 * ancestor found empty stays empty and is not queried again.
 */
const emptyAncestors = new WeakMap<FailureLedger, Set<string>>();

const firstOf = <R extends Positioned>(p: Partition<R>) => (p.records[0] as R).sequenceNumber;
const lastOf = <R extends Positioned>(p: Partition<R>) =>
  (p.records[p.records.length - 1] as R).sequenceNumber;
const within = (seq: string, e: Pick<LedgerEntry, 'first' | 'last'>) =>
  compareSequence(seq, e.first) >= 0 && compareSequence(seq, e.last) <= 0;

function groupBy<R>(records: readonly R[], keyOf: (r: R) => string): Partition<R & Positioned>[] {
  const groups = new Map<string, R[]>();
  for (const r of records) {
    const key = keyOf(r);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups].map(([key, rs]) => ({ key, records: rs as (R & Positioned)[] }));
}

export async function processPartitioned<R extends Positioned>(
  o: PartitionedOptions<R>,
): Promise<PartitionedResult> {
  const { ledger, batch, logger } = o;
  const parkAfter = o.parkAfter ?? ledger?.options.parkAfter ?? DEFAULT_PARK_AFTER;
  const waits: string[] = [];
  const outcome: PartitionedOutcome = {
    partitions: 0,
    applied: 0,
    held: 0,
    setAside: 0,
    waiting: 0,
    deferred: 0,
  };
  const result = () => ({ response: batchResponse(waits), outcome });
  if (o.records.length === 0) return result();
  const batchFirst = batch?.first ?? (o.records[0] as R).sequenceNumber;
  const shardWaits = (message: string, err?: unknown) => {
    logger.error(message, { shardId: batch?.shardId, error: err });
    waits.push(batchFirst);
    outcome.waiting += 1;
    return result();
  };

  // The ledger as this batch sees it, and keys still parked on an ancestor shard.
  const byKey = new Map<string, LedgerEntry>();
  const parkedAbove = new Map<string, string[]>();
  if (ledger && batch) {
    try {
      for (const e of await ledger.entries(batch.shardId)) byKey.set(e.sk, e);
      const ancestors = o.ancestors ? await o.ancestors(batch.streamArn, batch.shardId) : [];
      const empty = emptyAncestors.get(ledger) ?? new Set<string>();
      emptyAncestors.set(ledger, empty);
      for (const shard of ancestors) {
        if (empty.has(shard)) continue;
        const entries = await ledger.entries(shard);
        if (entries.length === 0) empty.add(shard);
        for (const e of entries) parkedAbove.set(e.sk, [...(parkedAbove.get(e.sk) ?? []), shard]);
      }
    } catch (err) {
      return shardWaits('failure ledger could not be read; the shard waits', err);
    }
  }

  // Records inside a parked range (metrics segments) are the entry's, not this batch's.
  const parkedRanges = [...byKey.values()].filter(
    (e) => e.sk.startsWith(SEGMENT_PREFIX) && e.status === 'parked',
  );
  const free =
    parkedRanges.length === 0
      ? o.records
      : o.records.filter((r) => !parkedRanges.some((e) => within(r.sequenceNumber, e)));
  outcome.held += o.records.length > free.length ? 1 : 0;

  let partitions: Partition<R>[];
  try {
    partitions = o.keyOf ? groupBy(free, o.keyOf) : o.partition ? await o.partition(free) : [];
  } catch (err) {
    return shardWaits('batch state could not be read; the shard waits', err);
  }
  outcome.partitions = partitions.length;

  const wait = (p: Partition<R>) => {
    waits.push(firstOf(p));
    outcome.waiting += 1;
  };

  /** Records a non-transient failure; true when the key is now set aside. */
  const recordFailure = async (p: Partition<R>, err: unknown, forcePark: boolean): Promise<boolean> => {
    if (!ledger || !batch) return false;
    const cls = classify(err);
    const at = {
      sk: p.key,
      shardId: batch.shardId,
      streamArn: batch.streamArn,
      first: firstOf(p),
      last: lastOf(p),
    };
    const entry = await ledger.recordFailure(
      byKey.get(p.key),
      at,
      err,
      (attempts) => forcePark || cls === 'deterministic' || attempts >= parkAfter,
      parkedAbove.get(p.key),
    );
    byKey.set(p.key, entry);
    return entry.status === 'parked';
  };

  // Parked keys: their records go to the entry, not to the domain.
  const toApply: Partition<R>[] = [];
  for (const p of partitions) {
    const e = byKey.get(p.key);
    const above = parkedAbove.get(p.key);
    const movedPast = e?.status === 'failing' && compareSequence(e.first, batchFirst) < 0;
    const parked = e?.status === 'parked' && !caughtUp(e);
    if (!parked && !above && !movedPast) {
      toApply.push(p);
      continue;
    }
    outcome.held += 1;
    try {
      if (e && !movedPast) await ledger!.extend(e, lastOf(p));
      else await recordFailure(p, new Error(above ? 'parked on an ancestor shard' : 'retries ran out'), true);
    } catch (err) {
      logger.warn('parked key could not be extended in the failure ledger; the shard waits', {
        key: p.key,
        error: err,
      });
      wait(p);
    }
  }
  if (outcome.held > 0)
    logger.warn('records of set-aside keys held for the re-drive', { held: outcome.held });

  if (toApply.length > 0 && timeIsShort(o.deadline)) {
    for (const p of toApply) wait(p);
    outcome.deferred = toApply.length;
    logger.warn('too little time left to start; the shard waits', { partitions: toApply.length });
    return result();
  }
  if (o.prepare && toApply.length > 0) {
    try {
      await o.prepare(toApply);
    } catch (err) {
      logger.error('batch state could not be read; the shard waits', { shardId: batch?.shardId, error: err });
      for (const p of toApply) wait(p);
      return result();
    }
  }

  const sequential = (o.concurrency ?? 16) <= 1;
  let stopped = false;
  await mapWithConcurrency(toApply, o.concurrency ?? 16, async (p) => {
    if (stopped) return;
    if (timeIsShort(o.deadline)) {
      wait(p);
      outcome.deferred += 1;
      if (sequential) stopped = true;
      return;
    }
    const e = byKey.get(p.key);
    try {
      await o.apply(p);
    } catch (err) {
      const cls = classify(err);
      let parked = false;
      if (cls !== 'transient') {
        try {
          parked = await recordFailure(p, err, false);
        } catch (writeErr) {
          logger.error('failure could not be recorded in the failure ledger; the shard waits', {
            key: p.key,
            error: writeErr,
          });
        }
      }
      if (parked) {
        outcome.setAside += 1;
        logger.error('key set aside for the re-drive', { key: p.key, class: cls, error: err });
        if (o.onSetAside) {
          try {
            await o.onSetAside(p);
          } catch (hookErr) {
            logger.warn('set-aside follow-up failed', { key: p.key, error: hookErr });
          }
        }
        return;
      }
      logger.warn('partition failed; the shard waits', { key: p.key, class: cls, error: err });
      wait(p);
      if (sequential) stopped = true;
      return;
    }
    outcome.applied += 1;
    if (!e || !ledger) return;
    // Applied: a failing entry is resolved, a caught-up parked one handed over. If it cannot be
    // removed the shard waits: the retry finds the records applied and removes it then.
    try {
      if (!(await ledger.remove(e))) throw new Error('entry changed since it was read');
      byKey.delete(p.key);
    } catch (err) {
      logger.warn('failure-ledger entry not removed; the shard waits', { key: p.key, error: err });
      wait(p);
      if (sequential) stopped = true;
    }
  });

  // Range keys: a failing entry whose range this batch covered and applied is resolved.
  if (ledger && batch && waits.length === 0) {
    for (const e of byKey.values()) {
      if (!e.sk.startsWith(SEGMENT_PREFIX) || e.status !== 'failing' || !within(e.first, batch)) continue;
      try {
        await ledger.remove(e);
      } catch (err) {
        logger.warn('failure-ledger entry not removed; the shard waits', { key: e.sk, error: err });
        waits.push(batchFirst);
        outcome.waiting += 1;
      }
    }
  }
  return result();
}

/** Shard, stream and first/last sequence numbers of a Lambda Kinesis batch (always one shard). */
export function batchRange(
  records: ReadonlyArray<{ eventID: string; eventSourceARN?: string; kinesis: { sequenceNumber: string } }>,
): BatchRange | undefined {
  const head = records[0];
  const tail = records[records.length - 1];
  if (!head || !tail) return undefined;
  const colon = head.eventID.lastIndexOf(':');
  return {
    shardId: colon > 0 ? head.eventID.slice(0, colon) : head.eventID,
    streamArn: head.eventSourceARN ?? '',
    first: head.kinesis.sequenceNumber,
    last: tail.kinesis.sequenceNumber,
  };
}
