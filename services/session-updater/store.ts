/**
 * DynamoDB access for sessions. One item per user holds the open session (sk = CURRENT); closed
 * sessions are items of their own (sk = SESSION#<start>#<id>) with a TTL. The CURRENT item is
 * written with an optimistic-lock condition on `version`, so a write computed from stale state
 * can never land.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, batchPutItems } from '../shared/dynamo.js';
import { ConcurrentUpdateError, isConditionalCheckFailed } from '../shared/errors.js';
import { idempotencyFromItem } from '../shared/idempotency.js';
import type { Sleep } from '../shared/retry.js';
import { newUserState, type Session, type UserState } from './sessions.js';

export const CURRENT_SK = 'CURRENT';

export interface SessionStoreOptions {
  db: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  closedSessionTtlDays: number;
  /** Processing time, the TTL's earliest start; injectable so tests fix it. */
  now?: () => number;
  /** Back-off between attempts at unprocessed keys/items; injectable so tests run fast. */
  sleep?: Sleep;
}

export function closedSessionKey(session: Session): string {
  return `SESSION#${new Date(session.firstActivity).toISOString()}#${session.sessionId}`;
}

/**
 * Epoch seconds at which DynamoDB may delete a closed session: TTL days after its last activity,
 * but never before TTL days after it was written. Counting from event time alone would write a
 * back-filled history (events days or months old) already expired, and it would vanish at once.
 */
export function closedSessionExpiry(session: Session, nowMs: number, ttlDays: number): number {
  return Math.floor(Math.max(session.lastActivity, nowMs) / 1000) + ttlDays * 86_400;
}

export class SessionStore {
  constructor(private readonly options: SessionStoreOptions) {}

  /**
   * Reads the CURRENT items of many users, 100 keys per request; missing users get a fresh state.
   * Eventually consistent by default (half the read units): a stale item carries an old `version`
   * (or none), so its write fails the condition in saveUser and the user is re-read strongly.
   */
  async loadUsers(userIds: readonly string[], consistent = false): Promise<Map<string, UserState>> {
    const { db, tableName } = this.options;
    const states = new Map<string, UserState>();
    const keys = userIds.map((userId) => ({ userId, sk: CURRENT_SK }));
    for (const item of await batchGetItems(db, tableName, keys, this.options.sleep, consistent)) {
      states.set(item.userId as string, fromItem(item));
    }
    for (const userId of userIds) if (!states.has(userId)) states.set(userId, newUserState(userId));
    return states;
  }

  /**
   * Writes closed sessions (idempotent: the key is derived from the session itself). Returns the
   * userIds whose sessions could not be written after retries.
   */
  async saveClosedSessions(
    sessions: ReadonlyArray<{ userId: string; session: Session }>,
  ): Promise<Set<string>> {
    const { db, tableName, closedSessionTtlDays } = this.options;
    const items = sessions.map(({ userId, session }) => ({
      userId,
      sk: closedSessionKey(session),
      ...session,
      expiresAt: closedSessionExpiry(session, (this.options.now ?? Date.now)(), closedSessionTtlDays),
    }));
    const unwritten = await batchPutItems(db, tableName, items, this.options.sleep);
    return new Set(unwritten.map((item) => item.userId as string));
  }

  /**
   * Writes a user's CURRENT item if nobody else wrote it since `state.version` was read. No size
   * check here: the cold-start check (config.ts) proves the largest item the settings allow fits.
   */
  async saveUser(state: UserState): Promise<void> {
    const { db, tableName } = this.options;
    const { version } = state;
    const item = currentItem(state, Date.now());
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: version === 0 ? 'attribute_not_exists(userId)' : 'version = :expected',
          ExpressionAttributeValues: version === 0 ? undefined : { ':expected': version },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err))
        throw new ConcurrentUpdateError(`${tableName}/${state.userId}`, { cause: err });
      throw err;
    }
  }

  /** Reads one user's CURRENT item strongly (after a concurrent update or a stale read). */
  async loadUser(userId: string): Promise<UserState> {
    return (await this.loadUsers([userId], true)).get(userId) as UserState;
  }
}

/** The CURRENT item as written: the state at its next version. */
export function currentItem(state: UserState, now: number): Record<string, unknown> {
  const { version, lastSequenceNumber: _legacy, ...rest } = state;
  return { ...rest, sk: CURRENT_SK, version: version + 1, updatedAt: now };
}

function fromItem(item: Record<string, unknown>): UserState {
  const { sk: _sk, updatedAt: _updatedAt, recentEventIds: _ids, ...rest } = item;
  const state = { ...(rest as unknown as UserState), ...idempotencyFromItem(item) };
  // Items written before per-currency totals carry a mixed-currency `totalSpent`: it cannot be
  // split by currency, so it is dropped and spend counts from here on.
  state.totals = withSpent(state.totals);
  if (state.session) state.session = withSpent(state.session);
  return state;
}

function withSpent<T extends { spent?: unknown; totalSpent?: unknown }>(aggregates: T): T {
  const { totalSpent: _legacy, ...rest } = aggregates;
  return { ...rest, spent: aggregates.spent ?? {} } as T;
}
