/**
 * The alert log: the alerts table is an outbox. An alert is recorded (conditional put on its
 * deterministic id, status PENDING, and the `outbox` attribute that puts it in the sparse
 * `pending` index) before the user's rule state is written, and delivered after: claim ->
 * publish -> mark SENT. Whoever delivers — the batch that raised it, the scheduled sweep or a
 * replay — goes through the same claim, a conditional update writing a fresh claim id, so two
 * deliverers never publish the same alert at the same time.
 *
 * A claim is a lease of `leaseMs`, and no wall clock judges it, so a clock that is minutes off
 * changes nothing. The holder measures it on its own monotonic clock from just before it sent the
 * claim: it publishes only if a whole Publish (the SNS client's attempts and timeouts) still fits
 * before the lease ends, aborts the Publish at that point regardless, and marks SENT only on the
 * condition that its claim id is still there. Another deliverer takes a claim over only after it
 * has itself seen that same claim id, unchanged, at least one lease earlier by its own monotonic
 * clock (a "sighting", kept in memory: the next sweep in the same process takes it over).
 *
 * SNS errors are classified. Systemic ones (throttling, server faults, timeouts and network errors,
 * KMS, authorization, a missing topic: anything not known to concern one message) leave the alert
 * PENDING and make the caller stop calling SNS. A client fault about the message itself
 * (InvalidParameter and the like, not naming the topic) is that alert's own: it is counted on the
 * item, the caller moves on to the next alert, and after MAX_PUBLISH_REJECTIONS the alert is
 * parked as FAILED (out of the pending index), so one alert can never block those behind it.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../shared/errors.js';
import type { FraudRulesConfig } from './config.js';
import { buildMessage } from './messages.js';
import { MARK_SENT_RESERVE_MS, PUBLISH_BUDGET_MS } from './publish-budget.js';
import type { Alert } from './rules.js';

export type AlertStatus = 'PENDING' | 'SENT' | 'FAILED';
/** `skipped`: already SENT, or another deliverer holds a live claim on it. */
export type DeliveryOutcome = 'published' | 'skipped';

/** The sparse index of undelivered alerts: only PENDING items carry its hash key. */
export const PENDING_INDEX = 'pending';
export const OUTBOX_ATTRIBUTE = 'outbox';
export const OUTBOX_PENDING = 'PENDING';
/** Default claim lease; config.ts refuses one too short for a Publish and the mark after it. */
export const DEFAULT_LEASE_MS = 120_000;

export { MARK_SENT_RESERVE_MS, PUBLISH_BUDGET_MS } from './publish-budget.js';

/** Added to a lease before a sighted claim is taken over: the two monotonic clocks' rates may differ slightly. */
export const TAKEOVER_MARGIN_MS = 1_000;

/** Sightings kept per AlertLog; beyond it the oldest is forgotten (it is only seen again later). */
const MAX_SIGHTINGS = 10_000;

/** SNS refused or never answered: the alert stays PENDING for the sweep. */
export class PublishFailedError extends Error {
  constructor(
    readonly alertId: string,
    options: { cause: unknown },
  ) {
    super(`publishing alert ${alertId} failed`, options);
    this.name = 'PublishFailedError';
  }
}

/**
 * SNS refused this alert for itself: SNS works, the next alert can go. `parked`: that was the
 * MAX_PUBLISH_REJECTIONS-th refusal and the alert is now FAILED; otherwise it stays PENDING.
 */
export class AlertRejectedError extends Error {
  constructor(
    readonly alertId: string,
    readonly attempts: number,
    readonly parked: boolean,
    options: { cause: unknown },
  ) {
    super(
      `SNS refused alert ${alertId} (${attempts} of ${MAX_PUBLISH_REJECTIONS} attempts${parked ? ', parked as FAILED' : ''})`,
      options,
    );
    this.name = 'AlertRejectedError';
  }
}

/**
 * The alert was published, but by the time its SENT mark arrived another deliverer had taken the
 * claim over (the holder was paused past its lease between Publish and the mark). That deliverer
 * may publish it again: the one duplicate a standard SNS topic cannot prevent.
 */
export class ClaimLostError extends Error {
  constructor(readonly alertId: string) {
    super(
      `alert ${alertId} was published, but its claim passed to another deliverer before it was marked SENT`,
    );
    this.name = 'ClaimLostError';
  }
}

/** What a claim writes; every path that ends a claim removes all of it (`leaseUntil`: older code's). */
const CLAIM_ATTRIBUTES = 'claimId, claimedAt, leaseMs, leaseUntil';

/** Refusals of one alert before it is parked: enough to ride out a transient misclassification. */
export const MAX_PUBLISH_REJECTIONS = 5;

/**
 * The ERROR message logged when an alert is parked as FAILED. The observability module's metric
 * filter matches this exact text (test/terraform/wiring.test.ts compares them), so it lives here once.
 */
export const ALERT_PARKED_MESSAGE = 'alert parked as FAILED: SNS refused it repeatedly';

/** Client faults SNS returns for what a request carries, e.g. a message or attribute it will not take. */
const MESSAGE_FAULTS = new Set([
  'InvalidParameterException',
  'InvalidParameterValueException',
  'ValidationException',
]);

/**
 * True when SNS refused the message itself, not the topic or the service: a client fault of a
 * message kind whose text does not name the topic ("Invalid parameter: TopicArn" would refuse
 * every alert). Anything else — throttling, 5xx, timeouts and network errors (no `$fault`), KMS,
 * AuthorizationError, NotFound — is systemic.
 */
export function isRefusedForItself(err: unknown): boolean {
  const e = err as { name?: unknown; $fault?: unknown; message?: unknown };
  return (
    e?.$fault === 'client' &&
    typeof e.name === 'string' &&
    MESSAGE_FAULTS.has(e.name) &&
    !/topic/i.test(String(e.message ?? ''))
  );
}

export interface AlertLogOptions {
  db: Pick<DynamoDBDocumentClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  tableName: string;
  topicArn: string;
  environment: string;
  ttlDays: number;
  cooldownMinutes: number;
  leaseMs?: number;
  /** Wall clock: createdAt, sentAt and the like. Never used to judge a lease. */
  now?: () => number;
  /** This deliverer's monotonic clock (ms), the only clock that judges a lease. */
  monotonic?: () => number;
  /** The longest one Publish can take with the `sns` client's settings. */
  publishBudgetMs?: number;
  /** An AbortSignal that fires after `ms` (tests drive it from a fake clock). */
  abortAfter?: (ms: number) => AbortSignal;
}

/**
 * The alert log as the fraud-rules config describes it. The handler, `pulse alerts republish` and
 * replay all build it here, so the lease, cooldown and TTL a CLI claim uses can never drift from
 * the function's.
 */
export function alertLogFrom(
  config: FraudRulesConfig,
  clients: Pick<AlertLogOptions, 'db' | 'sns' | 'now' | 'monotonic'>,
): AlertLog {
  return new AlertLog({
    ...clients,
    tableName: config.alertsTableName,
    topicArn: config.alertTopicArn,
    environment: config.environment,
    ttlDays: config.alertTtlDays,
    cooldownMinutes: config.rules.cooldownMinutes,
    leaseMs: config.alertLeaseSeconds * 1000,
  });
}

export class AlertLog {
  readonly now: () => number;
  readonly monotonic: () => number;
  readonly leaseMs: number;
  readonly publishBudgetMs: number;
  private readonly abortAfter: (ms: number) => AbortSignal;
  /** alertId -> a claim id seen on it, and when (monotonic), unchanged since. */
  private readonly sightings = new Map<string, { claimId: string; at: number }>();

  constructor(readonly options: AlertLogOptions) {
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.publishBudgetMs = options.publishBudgetMs ?? PUBLISH_BUDGET_MS;
    this.abortAfter = options.abortAfter ?? ((ms) => AbortSignal.timeout(Math.max(0, Math.floor(ms))));
  }

  /** Puts the alert as PENDING unless it exists; returns the status it now has. */
  async record(alert: Alert): Promise<AlertStatus> {
    const { db, tableName, ttlDays, environment } = this.options;
    const now = this.now();
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...alert,
            status: 'PENDING',
            [OUTBOX_ATTRIBUTE]: OUTBOX_PENDING,
            environment,
            createdAt: new Date(now).toISOString(),
            expiresAt: Math.floor(now / 1000) + ttlDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(alertId)',
        }),
      );
      return 'PENDING';
    } catch (err) {
      // Also what an SDK retry of a put that landed sees: the item is ours, read its status.
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { alertId: alert.alertId }, ConsistentRead: true }),
    );
    // A missing item (expired by TTL in between) is treated as not yet sent.
    const status = out.Item?.status;
    return status === 'SENT' || status === 'FAILED' ? status : 'PENDING';
  }

  /**
   * Claim -> publish -> mark SENT for one recorded alert, all within the claim's lease by this
   * deliverer's monotonic clock. `skipped` when the alert is SENT, held by a live claim, or when
   * too little of our lease was left to publish (the claim is released). Throws PublishFailedError
   * when SNS fails systemically or the Publish was cut off at the lease's end (the claim is
   * released so the next sweep retries at once), AlertRejectedError when SNS refused this alert
   * for itself (counted; parked as FAILED at the limit), and ClaimLostError when the claim passed
   * to another deliverer before the mark. A failure to mark SENT propagates and leaves the alert
   * PENDING, to be published again once another deliverer takes the claim over.
   */
  async deliver(alert: Alert): Promise<DeliveryOutcome> {
    const claimId = randomUUID();
    // Before the claim is sent: the lease we measure ends no later than the one others measure.
    const takenAt = this.monotonic();
    if (!(await this.claim(alert.alertId, claimId))) return 'skipped';
    const publishBy = takenAt + this.leaseMs - MARK_SENT_RESERVE_MS;
    const left = publishBy - this.monotonic();
    if (left < this.publishBudgetMs) {
      // Paused since the claim: a Publish might outlive the lease. Whoever comes next takes it.
      await this.release(alert.alertId, claimId).catch(() => undefined);
      return 'skipped';
    }
    let messageId: string | undefined;
    try {
      messageId = await this.publish(alert, this.abortAfter(left));
    } catch (err) {
      if (isRefusedForItself(err)) throw await this.reject(alert.alertId, claimId, err);
      await this.release(alert.alertId, claimId).catch(() => undefined);
      throw new PublishFailedError(alert.alertId, { cause: err });
    }
    await this.markSent(alert.alertId, claimId, messageId);
    return 'published';
  }

  /**
   * Takes the alert if it is PENDING and unclaimed, or claimed by a claim id this deliverer saw
   * there at least one lease ago (its holder's lease has ended, by our clock). Matching our own
   * claim id too makes the update safe under an SDK retry of a claim whose response was lost.
   * When the alert is held, the holder's claim id is read and remembered as a sighting.
   */
  async claim(alertId: string, claimId: string): Promise<boolean> {
    const { db, tableName } = this.options;
    const stale = this.staleClaim(alertId);
    const values: Record<string, unknown> = {
      ':pending': OUTBOX_PENDING,
      ':claim': claimId,
      ':claimedAt': new Date(this.now()).toISOString(),
      ':lease': this.leaseMs,
    };
    if (stale !== undefined) values[':stale'] = stale;
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { alertId },
          UpdateExpression:
            'SET claimId = :claim, claimedAt = :claimedAt, leaseMs = :lease REMOVE leaseUntil',
          ConditionExpression: `#outbox = :pending AND (attribute_not_exists(claimId) OR claimId = :claim${stale === undefined ? '' : ' OR claimId = :stale'})`,
          ExpressionAttributeNames: { '#outbox': OUTBOX_ATTRIBUTE },
          ExpressionAttributeValues: values,
        }),
      );
      this.sightings.delete(alertId);
      return true;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    await this.sight(alertId);
    return false;
  }

  /** The claim id last sighted on the alert if that was at least a lease (and margin) ago. */
  private staleClaim(alertId: string): string | undefined {
    const seen = this.sightings.get(alertId);
    if (seen === undefined) return undefined;
    return this.monotonic() - seen.at >= this.leaseMs + TAKEOVER_MARGIN_MS ? seen.claimId : undefined;
  }

  /** Reads who holds the alert; a new holder starts a new sighting, the same one keeps the first. */
  private async sight(alertId: string): Promise<void> {
    const { db, tableName } = this.options;
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { alertId }, ConsistentRead: true }),
    );
    // Taken after the read returned: the claim we saw was written before this instant.
    const at = this.monotonic();
    const holder = out.Item?.[OUTBOX_ATTRIBUTE] === OUTBOX_PENDING ? out.Item?.claimId : undefined;
    if (typeof holder !== 'string') {
      this.sightings.delete(alertId);
      return;
    }
    if (this.sightings.get(alertId)?.claimId === holder) return;
    this.sightings.delete(alertId);
    this.sightings.set(alertId, { claimId: holder, at });
    if (this.sightings.size > MAX_SIGHTINGS) {
      const oldest = this.sightings.keys().next().value;
      if (oldest !== undefined) this.sightings.delete(oldest);
    }
  }

  /**
   * Counts a refusal on the item and releases our claim; at the limit the alert becomes FAILED
   * and leaves the pending index. Our claim makes the read-then-write count exact.
   */
  private async reject(alertId: string, claimId: string, cause: unknown): Promise<AlertRejectedError> {
    const { db, tableName } = this.options;
    const current = await db.send(
      new GetCommand({ TableName: tableName, Key: { alertId }, ConsistentRead: true }),
    );
    const attempts = Number(current.Item?.publishAttempts ?? 0) + 1;
    const parked = attempts >= MAX_PUBLISH_REJECTIONS;
    const e = cause as { name?: unknown; message?: unknown };
    const values: Record<string, unknown> = {
      ':claim': claimId,
      ':attempts': attempts,
      ':error': `${String(e?.name ?? 'Error')}: ${String(e?.message ?? '')}`.slice(0, 1_000),
    };
    if (parked) {
      values[':failed'] = 'FAILED';
      values[':failedAt'] = new Date(this.now()).toISOString();
    }
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { alertId },
        UpdateExpression: parked
          ? `SET #status = :failed, failedAt = :failedAt, publishAttempts = :attempts, lastError = :error REMOVE #outbox, ${CLAIM_ATTRIBUTES}`
          : `SET publishAttempts = :attempts, lastError = :error REMOVE ${CLAIM_ATTRIBUTES}`,
        ConditionExpression: 'claimId = :claim',
        ExpressionAttributeNames: parked ? { '#status': 'status', '#outbox': OUTBOX_ATTRIBUTE } : undefined,
        ExpressionAttributeValues: values,
      }),
    );
    return new AlertRejectedError(alertId, attempts, parked, { cause });
  }

  private async release(alertId: string, claimId: string): Promise<void> {
    const { db, tableName } = this.options;
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { alertId },
        UpdateExpression: `REMOVE ${CLAIM_ATTRIBUTES}`,
        ConditionExpression: 'claimId = :claim',
        ExpressionAttributeValues: { ':claim': claimId },
      }),
    );
  }

  /** One Publish; `abortSignal` cuts it off (every attempt) at the end of the caller's lease. */
  async publish(alert: Alert, abortSignal?: AbortSignal): Promise<string | undefined> {
    const { sns, topicArn, environment, cooldownMinutes } = this.options;
    const { subject, message, attributes } = buildMessage(alert, environment, cooldownMinutes);
    const out = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: message,
        // No MessageStructure: attributes are sent only with the String structure (messages.ts).
        MessageAttributes: attributes,
      }),
      { abortSignal },
    );
    return out.MessageId;
  }

  /**
   * SENT, and out of the pending index, on the condition that our claim is still there. An SDK
   * retry of a mark that landed finds its own messageId and is fine; anything else means the claim
   * was taken over after our Publish: ClaimLostError.
   */
  async markSent(alertId: string, claimId: string, messageId: string | undefined): Promise<void> {
    const { db, tableName } = this.options;
    const sentAs = messageId ?? 'unknown';
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { alertId },
          UpdateExpression: `SET #status = :sent, sentAt = :sentAt, messageId = :messageId REMOVE #outbox, ${CLAIM_ATTRIBUTES}`,
          ConditionExpression: 'claimId = :claim',
          ExpressionAttributeNames: { '#status': 'status', '#outbox': OUTBOX_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':sent': 'SENT',
            ':sentAt': new Date(this.now()).toISOString(),
            ':messageId': sentAs,
            ':claim': claimId,
          },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const out = await db.send(
        new GetCommand({ TableName: tableName, Key: { alertId }, ConsistentRead: true }),
      );
      if (out.Item?.status === 'SENT' && out.Item.messageId === sentAs) return;
      throw new ClaimLostError(alertId);
    }
  }
}
