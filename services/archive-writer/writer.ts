/**
 * One batch → one Parquet file per partition it touches. Every record of a Lambda batch comes from
 * one shard, so (shard, first, last sequence number) names the batch: a retry of the batch writes
 * the same keys and overwrites its own files. Invalid records go to invalid/ with their reason.
 *
 * After the files, one index object records which partitions the batch wrote (layout.ts), so a
 * shard's sequence range can be found again without knowing its users or event times.
 *
 * A failed PUT fails the whole invocation (thrown, not reported per record): Lambda then retries
 * the identical batch, whose keys are the same, so nothing is doubled. Files already written stay
 * and are overwritten with the same rows.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { type ArchivePartition, partitionOf, partitionPrefix, partKey } from '../shared/archive/layout.js';
import type { ArchiveStore } from '../shared/archive/store.js';
import type { BatchResponse } from '../shared/batch.js';
import { type DecodeOptions, decodeBatch, shardIdOf } from '../shared/kinesis.js';
import type { Logger } from '../shared/logger.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';

export interface ArchiveBatchOptions {
  store: ArchiveStore;
  logger: Logger;
  decode: DecodeOptions;
  /** Erased users, whose records are not archived (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
  /** Concurrent PUTs (default 8). */
  concurrency?: number;
}

export interface ArchiveBatchSummary {
  records: number;
  valid: number;
  invalid: number;
  files: number;
}

export class ArchiveWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveWriteError';
  }
}

function groupBy<T>(items: readonly T[], partition: (item: T) => ArchivePartition) {
  const groups = new Map<string, { partition: ArchivePartition; items: T[] }>();
  for (const item of items) {
    const p = partition(item);
    const id = `${p.ub}/${p.dt}/${p.hr}`;
    const group = groups.get(id);
    if (group) group.items.push(item);
    else groups.set(id, { partition: p, items: [item] });
  }
  return [...groups.values()];
}

async function runAll(tasks: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next] as () => Promise<void>;
      next += 1;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
}

export async function archiveBatch(
  event: KinesisStreamEvent,
  o: ArchiveBatchOptions,
): Promise<{ response: BatchResponse; summary: ArchiveBatchSummary }> {
  const records = event.Records;
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) {
    return { response: { batchItemFailures: [] }, summary: { records: 0, valid: 0, invalid: 0, files: 0 } };
  }
  const shardId = shardIdOf(first);
  const firstSeq = first.kinesis.sequenceNumber;
  const lastSeq = last.kinesis.sequenceNumber;
  const { valid, invalid } = await dropErased(o.tombstones, decodeBatch(records, o.decode), o.logger);
  const tasks: Array<() => Promise<void>> = [];
  const partitions: string[] = [];
  for (const g of groupBy(valid, (r) => partitionOf(r.event.timestamp, r.event.userId))) {
    const key = partKey('events', g.partition, shardId, firstSeq, lastSeq);
    partitions.push(partitionPrefix('events', g.partition));
    tasks.push(() => o.store.putEvents(key, g.items));
  }
  for (const g of groupBy(invalid, (r) => partitionOf(r.arrivalMs, r.partitionKey))) {
    const key = partKey('invalid', g.partition, shardId, firstSeq, lastSeq);
    partitions.push(partitionPrefix('invalid', g.partition));
    tasks.push(() => o.store.putInvalid(key, g.items));
  }
  try {
    await runAll(tasks, o.concurrency ?? 8);
    // Last: an index entry promises that the files it points to are there.
    await o.store.putIndex({ shardId, firstSequence: firstSeq, lastSequence: lastSeq, partitions });
  } catch (err) {
    o.logger.error('archive write failed', { shardId, firstSeq, lastSeq, error: (err as Error).message });
    throw new ArchiveWriteError(`archiving ${shardId} ${firstSeq}..${lastSeq} failed`, { cause: err });
  }
  return {
    response: { batchItemFailures: [] },
    summary: { records: records.length, valid: valid.length, invalid: invalid.length, files: tasks.length },
  };
}
