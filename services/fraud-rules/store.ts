/**
 * DynamoDB access for per-user rule state: one item per user, read in batches and written with an
 * optimistic-lock condition on `version`, so a write computed from stale state never lands.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../shared/dynamo.js';
import { ConcurrentUpdateError, isConditionalCheckFailed } from '../shared/errors.js';
import { idempotencyFromItem } from '../shared/idempotency.js';
import { itemBytes } from '../shared/item-size.js';
import type { Sleep } from '../shared/retry.js';
import { type FraudState, newFraudState, type RecentPurchase } from './rules.js';
import { trimStateToBudget } from './state-size.js';

export interface FraudStateStoreOptions {
  db: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  /** The item expires this long after its last write (a user with no purchases is forgotten). */
  ttlDays: number;
  now?: () => number;
  /** Back-off between attempts at unprocessed keys; injectable so tests run fast. */
  sleep?: Sleep;
}

export class FraudStateStore {
  private readonly now: () => number;

  constructor(private readonly options: FraudStateStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Reads many users' state, 100 keys per request; users without an item get a fresh state. */
  async loadUsers(userIds: readonly string[]): Promise<Map<string, FraudState>> {
    const { db, tableName } = this.options;
    const states = new Map<string, FraudState>();
    const keys = userIds.map((userId) => ({ userId }));
    for (const item of await batchGetItems(db, tableName, keys, this.options.sleep)) {
      states.set(item.userId as string, fromItem(item));
    }
    for (const userId of userIds) if (!states.has(userId)) states.set(userId, newFraudState(userId));
    return states;
  }

  async loadUser(userId: string): Promise<FraudState> {
    return (await this.loadUsers([userId])).get(userId) as FraudState;
  }

  /**
   * Writes a user's state if nobody else wrote it since `state.version` was read, trimmed to the
   * item byte budget first so a write can never fail for size.
   */
  async saveUser(state: FraudState): Promise<void> {
    const { db, tableName, ttlDays } = this.options;
    const now = this.now();
    const item = stateItem(
      trimStateToBudget(state, (s) => itemBytes(stateItem(s, now, ttlDays))),
      now,
      ttlDays,
    );
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
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

/** The item `saveUser` writes for `state` (its size is what the byte budget bounds). */
export function stateItem(state: FraudState, now: number, ttlDays: number): Record<string, unknown> {
  return {
    ...state,
    version: state.version + 1,
    updatedAt: new Date(now).toISOString(),
    expiresAt: Math.floor(now / 1000) + ttlDays * 86_400,
  };
}

function fromItem(item: Record<string, unknown>): FraudState {
  const { updatedAt: _updatedAt, expiresAt: _expiresAt, recentEventIds: _ids, ...rest } = item;
  const state = rest as unknown as FraudState;
  return {
    ...state,
    ...idempotencyFromItem(item),
    // Purchases kept before exact money carry a bare `amount` and no currency: they still count
    // for purchase velocity, and in no currency's spend.
    recentPurchases: (state.recentPurchases ?? []).map((p) => {
      if (p.amountMicros !== undefined) return p;
      const { amount: _legacy, ...rest } = p as RecentPurchase & { amount?: number };
      return { ...rest, amountMicros: 0, currency: '' };
    }),
    lastAlertAt: state.lastAlertAt ?? {},
  };
}
