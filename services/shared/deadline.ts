/**
 * The invocation's remaining time, so a handler stops starting new work before Lambda times it
 * out. A timeout fails the whole batch: Lambda retries all of it, widening every duplicate window
 * (a segment emitted but not yet under its watermark, an alert published but not yet marked).
 * Stopping early and reporting the first unstarted record as failed (batchItemFailures) makes
 * Lambda retry from exactly there instead.
 */
import type { Context } from 'aws-lambda';

export interface Deadline {
  /** Milliseconds left before the invocation times out. */
  remainingMs(): number;
  /** No new unit of work (a user, a segment) starts with less than this left. */
  marginMs: number;
}

/** The least time a started unit may need: a few SDK attempts with their 2 s connect timeouts. */
export const MIN_MARGIN_MS = 5_000;

/**
 * The margin for an invocation that had `totalMs` at its start: max(5 s, 10 % of it). One unit of
 * work is a handful of requests; 10 % scales with longer timeouts, whose batches are larger.
 */
export function marginFor(totalMs: number): number {
  return Math.max(MIN_MARGIN_MS, Math.round(totalMs * 0.1));
}

export function lambdaDeadline(context: Pick<Context, 'getRemainingTimeInMillis'>): Deadline {
  return {
    remainingMs: () => context.getRemainingTimeInMillis(),
    marginMs: marginFor(context.getRemainingTimeInMillis()),
  };
}

/** True when there is too little time left to start another unit of work. */
export function timeIsShort(deadline: Deadline | undefined): boolean {
  return deadline !== undefined && deadline.remainingMs() < deadline.marginMs;
}
