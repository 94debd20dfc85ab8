/**
 * Batch plumbing shared by the functions: grouping by user in sequence order, bounded
 * parallelism across users, and the partial batch response Lambda reads.
 */
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import type { ValidRecord } from './kinesis.js';
import { compareSequence } from './sequence.js';

export type BatchResponse = KinesisStreamBatchResponse;

/** Groups records by userId, each group in sequence order (Lambda delivers them in order). */
export function groupByUser(records: readonly ValidRecord[]): Map<string, ValidRecord[]> {
  const groups = new Map<string, ValidRecord[]>();
  for (const record of records) {
    const group = groups.get(record.event.userId);
    if (group) group.push(record);
    else groups.set(record.event.userId, [record]);
  }
  return groups;
}

/**
 * The response for a batch in which the given sequence numbers failed. Lambda resumes from the
 * lowest one reported, so only that one is sent: everything before it succeeded, everything
 * after it is re-delivered and skipped idempotently where it already took effect.
 */
export function batchResponse(failedSequenceNumbers: Iterable<string>): BatchResponse {
  let earliest: string | undefined;
  for (const seq of failedSequenceNumbers) {
    if (earliest === undefined || compareSequence(seq, earliest) < 0) earliest = seq;
  }
  return { batchItemFailures: earliest === undefined ? [] : [{ itemIdentifier: earliest }] };
}

/**
 * Splits items, in order, into requests of at most `maxCount` items and `maxBytes` in all (the
 * PutRecords and SendMessageBatch limits). An item over `maxBytes` goes alone: callers refuse or
 * shrink such items before, and an empty request is never made.
 */
export function packRequests<T extends { bytes: number }>(
  items: readonly T[],
  maxCount: number,
  maxBytes: number,
): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    if (current.length === maxCount || (current.length > 0 && total + item.bytes > maxBytes)) {
      requests.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += item.bytes;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** Runs `task` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
