/**
 * The alert lifecycle. An alert is first recorded in the alerts table (conditional put on its
 * deterministic id, status PENDING), then published to SNS, then marked SENT. A retry after any
 * failure re-derives the same alert id: a SENT alert is not published again, a PENDING one is.
 * The only duplicate possible is when the function dies after `Publish` and before the mark.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../shared/errors.js';
import { buildMessage } from './messages.js';
import type { Alert } from './rules.js';

export type AlertStatus = 'PENDING' | 'SENT';
export type DeliveryOutcome = 'published' | 'already-sent';

export interface AlertLogOptions {
  db: Pick<DynamoDBDocumentClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  tableName: string;
  topicArn: string;
  environment: string;
  ttlDays: number;
  cooldownMinutes: number;
  now?: () => number;
}

export class AlertLog {
  private readonly now: () => number;

  constructor(private readonly options: AlertLogOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Records, publishes and marks one alert; safe to call again for the same alert. */
  async deliver(alert: Alert): Promise<DeliveryOutcome> {
    const status = await this.record(alert);
    if (status === 'SENT') return 'already-sent';
    const messageId = await this.publish(alert);
    await this.markSent(alert.alertId, messageId);
    return 'published';
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
            environment,
            createdAt: new Date(now).toISOString(),
            expiresAt: Math.floor(now / 1000) + ttlDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(alertId)',
        }),
      );
      return 'PENDING';
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { alertId: alert.alertId }, ConsistentRead: true }),
    );
    // A missing item (expired by TTL in between) is treated as not yet sent.
    return out.Item?.status === 'SENT' ? 'SENT' : 'PENDING';
  }

  async publish(alert: Alert): Promise<string | undefined> {
    const { sns, topicArn, environment, cooldownMinutes } = this.options;
    const { subject, message, attributes } = buildMessage(alert, environment, cooldownMinutes);
    const out = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: attributes,
      }),
    );
    return out.MessageId;
  }

  async markSent(alertId: string, messageId: string | undefined): Promise<void> {
    const { db, tableName } = this.options;
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { alertId },
        UpdateExpression: 'SET #status = :sent, sentAt = :sentAt, messageId = :messageId',
        ConditionExpression: 'attribute_exists(alertId)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':sent': 'SENT',
          ':sentAt': new Date(this.now()).toISOString(),
          ':messageId': messageId ?? 'unknown',
        },
      }),
    );
  }
}
