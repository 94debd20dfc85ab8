/**
 * The alert log: the alerts table is an outbox. An alert is recorded (conditional put on its
 * deterministic id, status PENDING, and the `outbox` attribute that puts it in the sparse
 * `pending` index) before the user's rule state is written, and delivered after: claim ->
 * publish -> mark SENT. Whoever delivers — the batch that raised it, the scheduled sweep or the
 * operator's CLI — goes through the same claim, a conditional update with a lease, so two
 * deliverers never publish the same alert at the same time, and one that died mid-way is taken
 * over once its lease has passed.
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
import type { Alert } from './rules.js';

export type AlertStatus = 'PENDING' | 'SENT' | 'FAILED';
/** `skipped`: already SENT, or another deliverer holds a live claim on it. */
export type DeliveryOutcome = 'published' | 'skipped';

/** The sparse index of undelivered alerts: only PENDING items carry its hash key. */
export const PENDING_INDEX = 'pending';
export const OUTBOX_ATTRIBUTE = 'outbox';
export const OUTBOX_PENDING = 'PENDING';
/**
 * Default claim lease. A claim holder is done (or dead) well before: Lambda stops the function at
 * its 60 s timeout, and one Publish with the SDK's retries takes at most 4 attempts of 12 s
 * (connect + request timeouts). config.ts refuses a lease shorter than that sum.
 */
export const DEFAULT_LEASE_MS = 120_000;

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
  now?: () => number;
}

/**
 * The alert log as the fraud-rules config describes it. The handler, `pulse alerts republish` and
 * replay all build it here, so the lease, cooldown and TTL a CLI claim uses can never drift from
 * the function's.
 */
export function alertLogFrom(
  config: FraudRulesConfig,
  clients: Pick<AlertLogOptions, 'db' | 'sns' | 'now'>,
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
  readonly leaseMs: number;

  constructor(readonly options: AlertLogOptions) {
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
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
   * Claim -> publish -> mark SENT for one recorded alert. Throws PublishFailedError when SNS
   * fails systemically (the claim is released so the next sweep retries at once), and
   * AlertRejectedError when SNS refused this alert for itself (counted; parked as FAILED at the
   * limit). A failure to mark SENT propagates and leaves the alert PENDING, to be published again
   * after the lease.
   */
  async deliver(alert: Alert): Promise<DeliveryOutcome> {
    const claimId = randomUUID();
    if (!(await this.claim(alert.alertId, claimId))) return 'skipped';
    let messageId: string | undefined;
    try {
      messageId = await this.publish(alert);
    } catch (err) {
      if (isRefusedForItself(err)) throw await this.reject(alert.alertId, claimId, err);
      await this.release(alert.alertId, claimId).catch(() => undefined);
      throw new PublishFailedError(alert.alertId, { cause: err });
    }
    await this.markSent(alert.alertId, messageId);
    return 'published';
  }

  /**
   * Takes the alert for `leaseMs` if it is PENDING and nobody holds a live claim. Matching our own
   * claim id too makes the update safe under an SDK retry of a claim whose response was lost.
   */
  async claim(alertId: string, claimId: string): Promise<boolean> {
    const { db, tableName } = this.options;
    const now = this.now();
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { alertId },
          UpdateExpression: 'SET leaseUntil = :until, claimId = :claim',
          ConditionExpression:
            '#outbox = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR claimId = :claim)',
          ExpressionAttributeNames: { '#outbox': OUTBOX_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':pending': OUTBOX_PENDING,
            ':now': now,
            ':until': now + this.leaseMs,
            ':claim': claimId,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
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
          ? 'SET #status = :failed, failedAt = :failedAt, publishAttempts = :attempts, lastError = :error REMOVE #outbox, leaseUntil, claimId'
          : 'SET publishAttempts = :attempts, lastError = :error REMOVE leaseUntil, claimId',
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
        UpdateExpression: 'REMOVE leaseUntil, claimId',
        ConditionExpression: 'claimId = :claim',
        ExpressionAttributeValues: { ':claim': claimId },
      }),
    );
  }

  async publish(alert: Alert): Promise<string | undefined> {
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
    );
    return out.MessageId;
  }

  /** SENT, and out of the pending index. Idempotent, so an SDK retry of it is harmless. */
  async markSent(alertId: string, messageId: string | undefined): Promise<void> {
    const { db, tableName } = this.options;
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { alertId },
        UpdateExpression:
          'SET #status = :sent, sentAt = :sentAt, messageId = :messageId REMOVE #outbox, leaseUntil, claimId',
        ConditionExpression: 'attribute_exists(alertId)',
        ExpressionAttributeNames: { '#status': 'status', '#outbox': OUTBOX_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':sent': 'SENT',
          ':sentAt': new Date(this.now()).toISOString(),
          ':messageId': messageId ?? 'unknown',
        },
      }),
    );
  }
}
