/**
 * Per-shard sequence watermarks (pk = `<functionName>#<shardId>`): the last sequence number whose
 * metrics are in CloudWatch, and short hashes of the most recent eventIds emitted from the shard,
 * so a producer retry (same eventId, new record) is not counted twice. Writes carry an
 * optimistic-lock condition on `version`, so a writer that read a stale watermark cannot move it.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, isConditionalCheckFailed } from '../shared/errors.js';

export interface Watermark {
  lastSequenceNumber: string;
  /** 0 when no watermark exists yet. */
  version: number;
  /** eventIdHash of the most recently emitted events, oldest first. */
  recentEventIds: string[];
}

export const NO_WATERMARK: Watermark = { lastSequenceNumber: '', version: 0, recentEventIds: [] };

/**
 * 66 bits of SHA-1 in 11 base64url characters: a third of a UUID's size in the item, and a false
 * match among 5,000 recent ids is about one in 10^16.
 */
export function eventIdHash(eventId: string): string {
  return createHash('sha1').update(eventId).digest('base64url').slice(0, 11);
}

export function watermarkKey(functionName: string, shardId: string): string {
  return `${functionName}#${shardId}`;
}

export class WatermarkStore {
  constructor(
    private readonly options: {
      db: Pick<DynamoDBDocumentClient, 'send'>;
      tableName: string;
      now?: () => number;
    },
  ) {}

  async read(pk: string): Promise<Watermark> {
    const { db, tableName } = this.options;
    const out = await db.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }));
    if (!out.Item) return NO_WATERMARK;
    return {
      lastSequenceNumber: String(out.Item.lastSequenceNumber),
      version: Number(out.Item.version),
      recentEventIds: Array.isArray(out.Item.recentEventIds) ? (out.Item.recentEventIds as string[]) : [],
    };
  }

  /**
   * Moves the watermark to `sequenceNumber` if it is still at `expected.version`, remembering
   * `recentEventIds` (already trimmed by the caller); returns the new watermark. Throws
   * ConcurrentUpdateError when another writer moved it first.
   */
  async advance(
    pk: string,
    sequenceNumber: string,
    expected: Watermark,
    recentEventIds: string[] = expected.recentEventIds,
  ): Promise<Watermark> {
    const { db, tableName } = this.options;
    const version = expected.version + 1;
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk,
            lastSequenceNumber: sequenceNumber,
            version,
            recentEventIds,
            updatedAt: (this.options.now ?? Date.now)(),
          },
          ConditionExpression: expected.version === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
          ExpressionAttributeValues: expected.version === 0 ? undefined : { ':expected': expected.version },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err))
        throw new ConcurrentUpdateError(`${tableName}/${pk}`, { cause: err });
      throw err;
    }
    return { lastSequenceNumber: sequenceNumber, version, recentEventIds };
  }
}
