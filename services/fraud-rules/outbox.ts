/**
 * Automatic republishing of PENDING alerts: the scheduled sweep (function.json `schedule`, input
 * `{ "pulse": "republish-pending" }`) and the operator's `pulse alerts republish` (which invokes
 * the function with that input, adding its own age and limit) both run `republishPending`. It reads the sparse `pending` index oldest first and delivers each alert
 * through the same claim the batch path uses (claim -> publish -> SENT), so it never races the
 * batch that raised an alert or another sweep into a second Publish. A systemic SNS failure stops
 * the run (SNS is down: the rest waits for the next run); an alert SNS refuses for itself is
 * skipped, so the alerts behind it keep flowing, and parked as FAILED at the limit (alerts.ts).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../shared/logger.js';
import {
  ALERT_PARKED_MESSAGE,
  type AlertLog,
  AlertRejectedError,
  OUTBOX_ATTRIBUTE,
  OUTBOX_PENDING,
  PENDING_INDEX,
  PublishFailedError,
} from './alerts.js';
import type { Alert } from './rules.js';

/** The scheduled event's input, as declared in function.json. */
export const REPUBLISH_INPUT = { pulse: 'republish-pending' } as const;

/** What `pulse alerts republish` adds to the schedule's input: `--older-than` and `--limit`. */
export interface RepublishRequest {
  pulse: typeof REPUBLISH_INPUT.pulse;
  minAgeMs?: number;
  maxAlerts?: number;
}

export function isRepublishRequest(event: unknown): event is RepublishRequest {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { pulse?: unknown }).pulse === REPUBLISH_INPUT.pulse
  );
}

/** A republish invocation carried an age or limit that is not a whole number in range. */
export class RepublishRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepublishRequestError';
  }
}

/** The request's own age and limit, checked: a bad one fails the invocation naming it. */
export function requestLimits(request: RepublishRequest): Pick<RepublishOptions, 'minAgeMs' | 'maxAlerts'> {
  const out: Pick<RepublishOptions, 'minAgeMs' | 'maxAlerts'> = {};
  for (const key of ['minAgeMs', 'maxAlerts'] as const) {
    const value = request[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < (key === 'maxAlerts' ? 1 : 0))
      throw new RepublishRequestError(
        `republish request: ${key} must be an integer >= ${key === 'maxAlerts' ? 1 : 0}, got ${JSON.stringify(value)}`,
      );
    out[key] = value;
  }
  return out;
}

export interface RepublishOptions {
  logger: Logger;
  /**
   * Only alerts recorded at least this long ago: younger ones belong to the batch that raised
   * them, which delivers them within its own run. Default: the claim lease.
   */
  minAgeMs?: number;
  /** Stop after this many alerts (one run's work stays bounded). */
  maxAlerts?: number;
  /** Asked before each alert; true stops the run (Lambda's remaining time). */
  shouldStop?: () => boolean;
}

export interface RepublishSummary {
  found: number;
  published: number;
  /** Already SENT by now, or claimed by another deliverer. */
  skipped: number;
  failed: number;
  /** Of `failed`: refused by SNS for themselves this run, still PENDING (attempts counted). */
  rejected: number;
  /** Of `failed`: refused for the last allowed time and parked as FAILED this run. */
  parked: number;
  /** True when SNS still failed: the rest waits for the next run. */
  snsFailing: boolean;
}

const PAGE = 100;

/** A run that found nothing; also what `pulse alerts republish --json` prints when it has nothing to do. */
export function emptySummary(): RepublishSummary {
  return { found: 0, published: 0, skipped: 0, failed: 0, rejected: 0, parked: 0, snsFailing: false };
}

/** Delivers PENDING alerts, oldest first; see the module comment. */
export async function republishPending(
  alerts: AlertLog,
  options: RepublishOptions,
): Promise<RepublishSummary> {
  const { db, tableName } = alerts.options;
  const cutoff = new Date(alerts.now() - (options.minAgeMs ?? alerts.leaseMs)).toISOString();
  const maxAlerts = options.maxAlerts ?? 1_000;
  const summary = emptySummary();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: '#outbox = :pending AND createdAt <= :cutoff',
        ExpressionAttributeNames: { '#outbox': OUTBOX_ATTRIBUTE },
        ExpressionAttributeValues: { ':pending': OUTBOX_PENDING, ':cutoff': cutoff },
        Limit: Math.min(PAGE, maxAlerts - summary.found),
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      if (options.shouldStop?.()) return summary;
      summary.found += 1;
      try {
        // The index may lag the table; the claim reads the table, so a just-SENT alert is skipped.
        const outcome = await alerts.deliver(alertOf(item));
        summary[outcome === 'published' ? 'published' : 'skipped'] += 1;
      } catch (err) {
        summary.failed += 1;
        if (err instanceof AlertRejectedError) {
          // SNS works; only this alert is refused. The next one goes on.
          if (err.parked) {
            summary.parked += 1;
            options.logger.error(ALERT_PARKED_MESSAGE, {
              alertId: item.alertId,
              attempts: err.attempts,
              error: err,
            });
          } else {
            summary.rejected += 1;
            options.logger.warn('pending alert refused by SNS', {
              alertId: item.alertId,
              attempts: err.attempts,
              error: err,
            });
          }
          continue;
        }
        options.logger.warn('pending alert not republished', { alertId: item.alertId, error: err });
        if (err instanceof PublishFailedError) {
          summary.snsFailing = true;
          return summary;
        }
      }
    }
    start = page.LastEvaluatedKey;
  } while (start && summary.found < maxAlerts);
  return summary;
}

/** The alert as it was recorded (the item is the alert plus bookkeeping attributes). */
function alertOf(item: Record<string, unknown>): Alert {
  return item as unknown as Alert;
}
