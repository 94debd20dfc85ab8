/**
 * DynamoDB access for per-user rule state: one item per user, read in batches and written with an
 * optimistic-lock condition on `version`, so a write computed from stale state never lands.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { chunk } from '../shared/batch.js';
import { ConcurrentUpdateError, isConditionalCheckFailed } from '../shared/errors.js';
import { type FraudState, newFraudState } from './rules.js';

const MAX_BATCH_ATTEMPTS = 5;

export interface FraudStateStoreOptions {
  db: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  /** The item expires this long after its last write (a user with no purchases is forgotten). */
  ttlDays: number;
  now?: () => number;
  /** Back-off between attempts at unprocessed keys; injectable so tests run fast. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoffMs = (attempt: number): number => Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);

export class FraudStateStore {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: FraudStateStoreOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /** Reads many users' state, 100 keys per request; users without an item get a fresh state. */
  async loadUsers(userIds: readonly string[]): Promise<Map<string, FraudState>> {
    const { db, tableName } = this.options;
    const states = new Map<string, FraudState>();
    for (const ids of chunk(userIds, 100)) {
      let keys: Record<string, unknown>[] | undefined = ids.map((userId) => ({ userId }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS)
          throw new Error(`BatchGetItem left ${keys.length} keys unprocessed`);
        if (attempt > 0) await this.sleep(backoffMs(attempt));
        const out: BatchGetCommandOutput = await db.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[tableName] ?? [])
          states.set(item.userId as string, fromItem(item));
        keys = out.UnprocessedKeys?.[tableName]?.Keys;
      }
    }
    for (const userId of userIds) if (!states.has(userId)) states.set(userId, newFraudState(userId));
    return states;
  }

  async loadUser(userId: string): Promise<FraudState> {
    return (await this.loadUsers([userId])).get(userId) as FraudState;
  }

  /** Writes a user's state if nobody else wrote it since `state.version` was read. */
  async saveUser(state: FraudState): Promise<void> {
    const { db, tableName, ttlDays } = this.options;
    const now = this.now();
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...state,
            version: state.version + 1,
            updatedAt: new Date(now).toISOString(),
            expiresAt: Math.floor(now / 1000) + ttlDays * 86_400,
          },
          ConditionExpression: state.version === 0 ? 'attribute_not_exists(userId)' : 'version = :expected',
          ExpressionAttributeValues: state.version === 0 ? undefined : { ':expected': state.version },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err))
        throw new ConcurrentUpdateError(`${tableName}/${state.userId}`, { cause: err });
      throw err;
    }
  }
}

function fromItem(item: Record<string, unknown>): FraudState {
  const { updatedAt: _updatedAt, expiresAt: _expiresAt, ...rest } = item;
  const state = rest as unknown as FraudState;
  return {
    ...state,
    recentEventIds: state.recentEventIds ?? [],
    recentPurchases: state.recentPurchases ?? [],
    lastAlertAt: state.lastAlertAt ?? {},
  };
}
