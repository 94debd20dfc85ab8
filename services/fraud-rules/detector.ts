/**
 * One Lambda batch: decode, keep only purchases (everything else is skipped cheaply; invalid
 * records are counted but left to session-updater, which owns the invalid-records queue), group by
 * user, load all users' rule state in batched reads, evaluate in memory, then per user:
 *
 *   record alerts (PENDING, outbox) -> write the state (version condition) -> publish -> mark SENT
 *
 * Fraud state never depends on SNS: once the alerts are durably recorded the state is written, so
 * every purchase enters the rules whatever SNS does. A crash before the state write re-derives the
 * same alert ids on retry. A publish failure leaves the alert PENDING for the scheduled sweep
 * (outbox.ts) and does not fail the batch; after the first systemic one the batch stops calling SNS
 * (it is down; the sweep will catch up). An alert SNS refuses for itself (alerts.ts) stays PENDING
 * with its refusal counted, or is parked as FAILED at the limit; the batch goes on with the rest. What happens when a user's alerts or state cannot be written is
 * the failure layer's policy (shared/failure/partitioned.ts).
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { BatchResponse } from '../shared/batch.js';
import type { Deadline } from '../shared/deadline.js';
import { ConcurrentUpdateError } from '../shared/errors.js';
import { isPurchase } from '../shared/event.js';
import { type FailureLedger, userKey } from '../shared/failure/ledger.js';
import { batchRange, processPartitioned } from '../shared/failure/partitioned.js';
import { type DecodeOptions, decodeBatch, type ValidRecord } from '../shared/kinesis.js';
import type { Logger } from '../shared/logger.js';
import { dropErased, type Tombstones } from '../shared/tombstones.js';
import { ALERT_PARKED_MESSAGE, type AlertLog, AlertRejectedError, PublishFailedError } from './alerts.js';
import {
  type Alert,
  type EvaluateResult,
  evaluatePurchases,
  type FraudRules,
  type FraudState,
} from './rules.js';
import type { FraudStateStore } from './store.js';

const MAX_CONFLICT_ATTEMPTS = 3;

export interface DetectorDeps {
  store: FraudStateStore;
  alerts: AlertLog;
  rules: FraudRules;
  logger: Logger;
  /** The failure ledger (absent in the re-drive itself and unit tests of other paths: every failure waits). */
  ledger?: FailureLedger;
  /** A shard's parents (a reshard), so a user set aside there stays set aside here. */
  ancestors?: (streamArn: string, shardId: string) => Promise<string[]>;
  /** MAX_EVENT_AHEAD_SECONDS and friends; the shared default when absent. */
  decode?: DecodeOptions;
  /** When set, no user starts with less than its margin left (see shared/deadline.ts). */
  deadline?: Deadline;
  /** Erased users, whose records are dropped (services/shared/tombstones.ts). */
  tombstones?: Tombstones;
}

export interface BatchSummary {
  records: number;
  invalid: number;
  skipped: number;
  purchases: number;
  users: number;
  /** Set-aside users whose purchases were added to their ledger entry for the re-drive. */
  parkedUsers: number;
  evaluated: number;
  duplicates: number;
  alertsPublished: number;
  alertsAlreadySent: number;
  /** Recorded but not published in this batch (SNS failing, or claimed elsewhere): the sweep's. */
  alertsPending: number;
  /** Of alertsPending: refused by SNS for themselves (their attempts are counted on the item). */
  alertsRejected: number;
  /** Refused for the last allowed time and parked as FAILED (an operator looks at these). */
  alertsFailed: number;
  suppressed: number;
  failedUsers: number;
}

export async function detectFraud(
  event: KinesisStreamEvent,
  deps: DetectorDeps,
): Promise<{ response: BatchResponse; summary: BatchSummary }> {
  const { valid, invalid } = await dropErased(
    deps.tombstones,
    decodeBatch(event.Records, deps.decode),
    deps.logger,
  );
  const purchases = valid.filter((record) => isPurchase(record.event));
  const summary: BatchSummary = {
    records: event.Records.length,
    invalid: invalid.length,
    skipped: valid.length - purchases.length,
    purchases: purchases.length,
    users: 0,
    parkedUsers: 0,
    evaluated: 0,
    duplicates: 0,
    alertsPublished: 0,
    alertsAlreadySent: 0,
    alertsPending: 0,
    alertsRejected: 0,
    alertsFailed: 0,
    suppressed: 0,
    failedUsers: 0,
  };
  deps.logger.debug('records skipped', { invalid: summary.invalid, notPurchases: summary.skipped });
  let states = new Map<string, FraudState>();
  const sns: SnsBreaker = { failing: false };
  const { response, outcome } = await processPartitioned<ValidRecord>({
    ledger: deps.ledger,
    batch: batchRange(event.Records),
    records: purchases,
    keyOf: (r) => userKey(r.event.userId),
    ancestors: deps.ancestors,
    deadline: deps.deadline,
    logger: deps.logger,
    async prepare(partitions) {
      try {
        states = await deps.store.loadUsers(
          partitions.map((p) => (p.records[0] as ValidRecord).event.userId),
        );
      } catch (err) {
        summary.failedUsers = partitions.length;
        throw err;
      }
    },
    async apply({ records }) {
      const userId = (records[0] as ValidRecord).event.userId;
      try {
        await processUser(states.get(userId) as FraudState, records, deps, summary, sns);
      } catch (err) {
        summary.failedUsers += 1;
        deps.logger.error('user evaluation failed', { userId, error: err });
        throw err;
      }
    },
  });
  summary.users = outcome.partitions - outcome.held;
  summary.parkedUsers = outcome.held;
  if (outcome.deferred > 0)
    deps.logger.warn('running out of time: users left for the retry', { deferred: outcome.deferred });
  return { response, summary };
}

function tally(summary: BatchSummary, result: EvaluateResult): void {
  summary.evaluated += result.evaluated;
  summary.duplicates += result.duplicates;
  summary.suppressed += result.suppressed;
}

/** Shared by a batch's users: once SNS failed, the rest of the batch leaves alerts to the sweep. */
interface SnsBreaker {
  failing: boolean;
}

/**
 * Records a user's alerts, writes their state, then delivers the alerts in order. On a lost
 * optimistic-lock race (or an SDK retry of a state write that landed) the state is re-read and
 * the records re-evaluated: what was applied already is skipped; alerts recorded on the way are
 * still delivered.
 */
async function processUser(
  initial: FraudState,
  records: ValidRecord[],
  deps: DetectorDeps,
  summary: BatchSummary,
  sns: SnsBreaker,
): Promise<void> {
  let state = initial;
  const recorded = new Map<string, Alert>();
  for (let attempt = 1; ; attempt++) {
    const result = evaluatePurchases(state, records, deps.rules);
    if (!result.changed) {
      tally(summary, result); // Every record was applied before: a re-delivery, nothing to write.
      break;
    }
    for (const alert of result.alerts) {
      if (recorded.has(alert.alertId)) continue;
      const status = await deps.alerts.record(alert);
      if (status === 'SENT') summary.alertsAlreadySent += 1;
      // FAILED: parked (and logged) when SNS last refused it; a re-delivery does not retry it.
      else if (status === 'PENDING') recorded.set(alert.alertId, alert);
    }
    try {
      await deps.store.saveUser(result.state);
      tally(summary, result);
      break;
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError) || attempt >= MAX_CONFLICT_ATTEMPTS) throw err;
      deps.logger.warn('concurrent rule-state update, re-reading', { userId: state.userId, attempt });
      state = await deps.store.loadUser(state.userId);
    }
  }
  for (const alert of recorded.values()) await deliver(alert, deps, summary, sns);
}

/** Publishing never fails the batch: the state is committed and the alert is durably PENDING. */
async function deliver(alert: Alert, deps: DetectorDeps, summary: BatchSummary, sns: SnsBreaker) {
  if (sns.failing) {
    summary.alertsPending += 1;
    return;
  }
  const context = { alertId: alert.alertId, userId: alert.userId, severity: alert.severity };
  try {
    if ((await deps.alerts.deliver(alert)) === 'published') {
      summary.alertsPublished += 1;
      deps.logger.info('alert published', context);
    } else summary.alertsPending += 1;
  } catch (err) {
    if (err instanceof AlertRejectedError) {
      // SNS works; only this alert is refused, so the breaker stays closed for the others.
      if (err.parked) {
        summary.alertsFailed += 1;
        deps.logger.error(ALERT_PARKED_MESSAGE, {
          ...context,
          attempts: err.attempts,
          error: err,
        });
      } else {
        summary.alertsPending += 1;
        summary.alertsRejected += 1;
        deps.logger.warn('alert refused by SNS, left PENDING', {
          ...context,
          attempts: err.attempts,
          error: err,
        });
      }
      return;
    }
    summary.alertsPending += 1;
    if (err instanceof PublishFailedError) sns.failing = true;
    deps.logger.warn('alert left PENDING for the sweep', { ...context, error: err });
  }
}
