/**
 * One Lambda batch: decode, keep only purchases (everything else is skipped cheaply; invalid
 * records are counted but left to session-updater, which owns the invalid-records queue), group by
 * user, load all users' rule state in batched reads, evaluate in memory, then per user:
 *
 *   record alerts (PENDING) -> publish -> mark SENT -> write the state (version condition)
 *
 * The state is written last so a crash anywhere before it re-derives the same alert ids on retry
 * and the alert log decides what still needs publishing. A user whose alerts or state cannot be
 * written is reported by the sequence number of their first purchase in the batch.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { type BatchResponse, batchResponse, groupByUser, mapWithConcurrency } from '../shared/batch.js';
import { type Deadline, timeIsShort } from '../shared/deadline.js';
import { ConcurrentUpdateError } from '../shared/errors.js';
import { isPurchase } from '../shared/event.js';
import { decodeBatch, type ValidRecord } from '../shared/kinesis.js';
import type { Logger } from '../shared/logger.js';
import type { AlertLog } from './alerts.js';
import { type EvaluateResult, evaluatePurchases, type FraudRules, type FraudState } from './rules.js';
import type { FraudStateStore } from './store.js';

const MAX_CONFLICT_ATTEMPTS = 3;
const USER_CONCURRENCY = 16;

export interface DetectorDeps {
  store: FraudStateStore;
  alerts: AlertLog;
  rules: FraudRules;
  logger: Logger;
  /** When set, no user starts with less than its margin left (see shared/deadline.ts). */
  deadline?: Deadline;
}

export interface BatchSummary {
  records: number;
  invalid: number;
  skipped: number;
  purchases: number;
  users: number;
  evaluated: number;
  duplicates: number;
  alertsPublished: number;
  alertsAlreadySent: number;
  suppressed: number;
  failedUsers: number;
}

export async function detectFraud(
  event: KinesisStreamEvent,
  deps: DetectorDeps,
): Promise<{ response: BatchResponse; summary: BatchSummary }> {
  const { valid, invalid } = decodeBatch(event.Records);
  const purchases = valid.filter((record) => isPurchase(record.event));
  const groups = groupByUser(purchases);
  const summary: BatchSummary = {
    records: event.Records.length,
    invalid: invalid.length,
    skipped: valid.length - purchases.length,
    purchases: purchases.length,
    users: groups.size,
    evaluated: 0,
    duplicates: 0,
    alertsPublished: 0,
    alertsAlreadySent: 0,
    suppressed: 0,
    failedUsers: 0,
  };
  deps.logger.debug('records skipped', { invalid: summary.invalid, notPurchases: summary.skipped });
  if (groups.size === 0) return { response: batchResponse([]), summary };

  const firstSequenceOf = (records: ValidRecord[]) => (records[0] as ValidRecord).sequenceNumber;
  let states: Map<string, FraudState>;
  try {
    states = await deps.store.loadUsers([...groups.keys()]);
  } catch (err) {
    deps.logger.error('rule state could not be read', { users: groups.size, error: err });
    summary.failedUsers = groups.size;
    return { response: batchResponse([...groups.values()].map(firstSequenceOf)), summary };
  }

  const failed: string[] = [];
  let deferred = 0;
  await mapWithConcurrency([...groups], USER_CONCURRENCY, async ([userId, records]) => {
    if (timeIsShort(deps.deadline)) {
      // Lambda retries from the earliest reported record; users finished meanwhile are skipped there.
      deferred += 1;
      failed.push(firstSequenceOf(records));
      return;
    }
    try {
      await processUser(states.get(userId) as FraudState, records, deps, summary);
    } catch (err) {
      summary.failedUsers += 1;
      failed.push(firstSequenceOf(records));
      deps.logger.error('user evaluation failed', { userId, error: err });
    }
  });
  if (deferred > 0) deps.logger.warn('running out of time: users left for the retry', { deferred });
  return { response: batchResponse(failed), summary };
}

function tally(summary: BatchSummary, result: EvaluateResult): void {
  summary.evaluated += result.evaluated;
  summary.duplicates += result.duplicates;
  summary.suppressed += result.suppressed;
}

/**
 * Delivers a user's alerts in order, then writes their state. On a lost optimistic-lock race the
 * state is re-read and the records re-evaluated: what the other writer applied is skipped, and
 * alerts it already sent are recognised by id.
 */
async function processUser(
  initial: FraudState,
  records: ValidRecord[],
  deps: DetectorDeps,
  summary: BatchSummary,
): Promise<void> {
  let state = initial;
  for (let attempt = 1; ; attempt++) {
    const result = evaluatePurchases(state, records, deps.rules);
    if (!result.changed) {
      tally(summary, result); // Every record was applied before: a re-delivery, nothing to do.
      return;
    }
    for (const alert of result.alerts) {
      const outcome = await deps.alerts.deliver(alert);
      if (outcome === 'published') {
        summary.alertsPublished += 1;
        deps.logger.info('alert published', {
          alertId: alert.alertId,
          userId: alert.userId,
          severity: alert.severity,
        });
      } else {
        summary.alertsAlreadySent += 1;
      }
    }
    try {
      await deps.store.saveUser(result.state);
      tally(summary, result);
      return;
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError) || attempt >= MAX_CONFLICT_ATTEMPTS) throw err;
      deps.logger.warn('concurrent rule-state update, re-reading', { userId: state.userId, attempt });
      state = await deps.store.loadUser(state.userId);
    }
  }
}
