/**
 * BASELINE, not production code: the seed design's fraud check, per record.
 *
 * Our reading of the seed: the check runs for every record (it does not skip non-purchases before
 * touching state), so every record costs a GetItem of the user's fraud state; a purchase appends
 * itself to the user's purchase history with a PutItem of the whole item; a purchase above 1,000
 * is published to SNS at once, one Publish per alert, with no alert log (a retry publishes again).
 * `readEveryRecord: false` is the kinder reading (only purchases read state); the benchmark
 * reports both.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { isPurchase } from '../../../services/shared/event.js';
import { decodeSeedRecord } from './decode.js';
import type { SeedDb } from './session-updater.js';

export const SEED_LARGE_PURCHASE = 1_000;

export interface SeedFraudState {
  userId: string;
  purchases: Array<{ eventId: string; amount: number; timestamp: number }>;
}

export interface SeedFraudDeps {
  db: SeedDb;
  sns: Pick<SNSClient, 'send'>;
  tableName: string;
  topicArn: string;
  readEveryRecord: boolean;
}

export async function seedDetectFraud(
  event: KinesisStreamEvent,
  deps: SeedFraudDeps,
): Promise<{ processed: number; alerts: number }> {
  let processed = 0;
  let alerts = 0;
  for (const record of event.Records) {
    const parsed = decodeSeedRecord(record);
    if (!parsed) continue;
    processed += 1;
    const purchase = isPurchase(parsed);
    if (!purchase && !deps.readEveryRecord) continue;
    const out = await deps.db.send(
      new GetCommand({ TableName: deps.tableName, Key: { userId: parsed.userId } }),
    );
    if (!isPurchase(parsed)) continue;
    const state = (out.Item as SeedFraudState | undefined) ?? { userId: parsed.userId, purchases: [] };
    state.purchases.push({
      eventId: parsed.eventId,
      amount: parsed.data.amount,
      timestamp: parsed.timestamp,
    });
    await deps.db.send(new PutCommand({ TableName: deps.tableName, Item: state }));
    if (parsed.data.amount > SEED_LARGE_PURCHASE) {
      await deps.sns.send(
        new PublishCommand({
          TopicArn: deps.topicArn,
          Subject: `Fraud alert: large purchase by ${parsed.userId}`,
          Message: JSON.stringify({ rule: 'largePurchase', event: parsed }),
        }),
      );
      alerts += 1;
    }
  }
  return { processed, alerts };
}
