/**
 * Per-user idempotency, shared by every function that keeps user state: a sequence watermark
 * (re-delivered records are at or below it) and a bounded list of recent eventIds (a producer
 * retry puts the same event on the stream again as a new record).
 */
import type { ValidRecord } from './kinesis.js';
import { isAfter } from './sequence.js';

export interface IdempotencyState {
  lastSequenceNumber?: string;
  /** Most recent last. */
  recentEventIds: string[];
}

/**
 * Returns the records that take effect for the first time, in order, and moves `state`'s
 * watermark and recent eventIds past every record (keeping at most `limit` eventIds).
 */
export function firstDeliveries<R extends ValidRecord>(
  state: IdempotencyState,
  records: readonly R[],
  limit: number,
): { fresh: R[]; duplicates: number } {
  const seen = new Set(state.recentEventIds);
  const fresh: R[] = [];
  for (const record of records) {
    if (!isAfter(record.sequenceNumber, state.lastSequenceNumber)) continue;
    state.lastSequenceNumber = record.sequenceNumber;
    if (seen.has(record.event.eventId)) continue;
    seen.add(record.event.eventId);
    state.recentEventIds.push(record.event.eventId);
    fresh.push(record);
  }
  if (state.recentEventIds.length > limit) state.recentEventIds = state.recentEventIds.slice(-limit);
  return { fresh, duplicates: records.length - fresh.length };
}
