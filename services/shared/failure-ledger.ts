/**
 * The failure ledger: what a function could not apply, so `pulse replay` can apply exactly that
 * after Lambda gave up on a batch (on-failure destination) and later records moved on.
 *
 * Table `replay-ledger` (services/resources.json), pk = `<function>#<shardId>`, sk = the entry key:
 * a userId (session-updater, fraud-rules: state is per user) or `segment#<first>` (metrics-emitter:
 * state is per shard). An entry says "records of this key on this shard from `first` through
 * `last` have not taken effect".
 *
 * Lifecycle, per batch (one shard per batch):
 * - A key fails (the function reports a batch item failure for it): entry written with `first` =
 *   its first failed record, `last` = the batch's last record — or, when Lambda is retrying an
 *   existing entry, that entry updated in place.
 * - Lambda retries from the earliest failure, so a retry batch starts at or before the entry's
 *   `first`: the entry is *retrying*. If the key succeeds now, the entry is deleted.
 * - A batch that starts after the entry's `first` means Lambda moved on: the records went to the
 *   on-failure destination. Per-user functions then *park* the user: the user's later records are
 *   not applied either, only added to the entry (`last` moves), so replay applies the user's records
 *   in stream order and the state equals what in-order processing gives. Per-shard metrics need no
 *   order: later records are emitted and the entry keeps marking exactly the skipped range.
 *
 * Replay (cli/src/replay) applies an entry's records through the function's own code and
 * removes the entry. Per-user state keeps its watermark below a parked user's records (nothing of
 * theirs was applied), so replay goes through the normal watermark + eventId check and cannot
 * apply a record twice; the entry is removed only if `last` did not move meanwhile.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './errors.js';
import type { Logger } from './logger.js';
import { compareSequence } from './sequence.js';

export interface LedgerEntry {
  pk: string;
  /** userId, or `segment#<first sequence number>` for per-shard state. */
  sk: string;
  shardId: string;
  first: string;
  last: string;
  /** ISO time of the first failure. */
  failedAt: string;
  /** A replay's claim (cli/src/replay), so two replays never apply one entry twice. */
  claim?: string;
  claimUntil?: number;
}

export const ledgerKey = (fn: string, shardId: string) => `${fn}#${shardId}`;
export const SEGMENT_PREFIX = 'segment#';
/** session-updater's key for invalid records it could not send to the invalid-records queue. */
export const INVALID_RECORDS_KEY = '#invalid-records';

type Db = Pick<DynamoDBDocumentClient, 'send'>;

export interface FailureLedgerOptions {
  db: Db;
  tableName: string;
  /** The logical function name (session-updater, ...), the same in every environment. */
  functionName: string;
  now?: () => number;
}

export class FailureLedger {
  constructor(readonly options: FailureLedgerOptions) {}

  /** Every entry of one shard (normally none: one cheap Query per batch). */
  async entries(shardId: string): Promise<LedgerEntry[]> {
    const { db, tableName, functionName } = this.options;
    const out: LedgerEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ledgerKey(functionName, shardId) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...((page.Items ?? []) as LedgerEntry[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** The ledger as one batch sees it: [first, last] are the batch's first and last sequence numbers. */
  async forBatch(shardId: string, first: string, last: string): Promise<BatchLedger> {
    return new BatchLedger(this, shardId, first, last, await this.entries(shardId));
  }
}

export class BatchLedger {
  private readonly byKey = new Map<string, LedgerEntry>();

  constructor(
    private readonly ledger: FailureLedger,
    readonly shardId: string,
    readonly batchFirst: string,
    readonly batchLast: string,
    entries: LedgerEntry[],
  ) {
    for (const e of entries) this.byKey.set(e.sk, e);
  }

  private get o() {
    return this.ledger.options;
  }

  /** Lambda moved past this key's first failed record: its records wait for replay, in order. */
  isParked(key: string): boolean {
    const e = this.byKey.get(key);
    return e !== undefined && compareSequence(e.first, this.batchFirst) < 0;
  }

  /** Entries this batch re-attempts (their first record is in it). */
  retrying(prefix = ''): LedgerEntry[] {
    return [...this.byKey.values()].filter(
      (e) =>
        e.sk.startsWith(prefix) &&
        compareSequence(e.first, this.batchFirst) >= 0 &&
        compareSequence(e.first, this.batchLast) <= 0,
    );
  }

  /**
   * Adds a parked key's records to its entry. Conditional on the entry being as read: if a replay
   * removed or moved it meanwhile this throws, and the caller reports the key as failed so Lambda
   * retries the batch against the ledger as it now is.
   */
  async park(key: string, lastSequenceNumber: string): Promise<void> {
    const e = this.byKey.get(key)!;
    if (compareSequence(lastSequenceNumber, e.last) <= 0) return; // a re-delivery: already in the entry
    await this.o.db.send(
      new UpdateCommand({
        TableName: this.o.tableName,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'SET #last = :last',
        ConditionExpression: '#last = :read',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':last': lastSequenceNumber, ':read': e.last },
      }),
    );
    e.last = lastSequenceNumber;
  }

  /**
   * Records that `key` failed from `firstFailed` on. A retrying entry keeps its `first` (what was
   * skipped starts there) and its `last` grows to this batch's end.
   */
  async failed(key: string, firstFailed: string): Promise<void> {
    const existing = this.byKey.get(key);
    const entry: LedgerEntry = {
      pk: ledgerKey(this.o.functionName, this.shardId),
      sk: key,
      shardId: this.shardId,
      first: existing && compareSequence(existing.first, firstFailed) < 0 ? existing.first : firstFailed,
      last: existing && compareSequence(existing.last, this.batchLast) > 0 ? existing.last : this.batchLast,
      failedAt: existing?.failedAt ?? new Date((this.o.now ?? Date.now)()).toISOString(),
    };
    await this.o.db.send(new PutCommand({ TableName: this.o.tableName, Item: entry }));
    this.byKey.set(key, entry);
  }

  /**
   * A per-shard segment failed at `firstFailed`: the retrying segment entry (if any) moves its
   * `first` there — one item updated in place, so there is never a moment with two overlapping
   * entries — else a new entry starts.
   */
  async segmentFailed(firstFailed: string): Promise<void> {
    const [retrying] = this.retrying(SEGMENT_PREFIX);
    if (!retrying) return this.failed(`${SEGMENT_PREFIX}${firstFailed}`, firstFailed);
    // Never earlier: what precedes the entry's first record was emitted before it was written.
    if (compareSequence(firstFailed, retrying.first) < 0) firstFailed = retrying.first;
    await this.o.db.send(
      new UpdateCommand({
        TableName: this.o.tableName,
        Key: { pk: retrying.pk, sk: retrying.sk },
        UpdateExpression: 'SET #first = :first, #last = :last',
        ExpressionAttributeNames: { '#first': 'first', '#last': 'last' },
        ExpressionAttributeValues: {
          ':first': firstFailed,
          ':last': compareSequence(retrying.last, this.batchLast) > 0 ? retrying.last : this.batchLast,
        },
      }),
    );
    retrying.first = firstFailed;
  }

  /** The key succeeded in a batch that re-attempted its entry: nothing is skipped any more. */
  async succeeded(key: string): Promise<void> {
    const e = this.byKey.get(key);
    if (!e || this.isParked(key)) return;
    await deleteEntry(this.o, e);
    this.byKey.delete(key);
  }

  /** Every retrying segment entry succeeded (the whole shard batch was emitted). */
  async segmentsSucceeded(): Promise<void> {
    for (const e of this.retrying(SEGMENT_PREFIX)) {
      await deleteEntry(this.o, e);
      this.byKey.delete(e.sk);
    }
  }
}

/** Deletes an entry unless its range moved since it was read (a parked record was added). */
export async function deleteEntry(
  o: { db: Db; tableName: string },
  e: Pick<LedgerEntry, 'pk' | 'sk' | 'first' | 'last'>,
): Promise<boolean> {
  try {
    await o.db.send(
      new DeleteCommand({
        TableName: o.tableName,
        Key: { pk: e.pk, sk: e.sk },
        ConditionExpression: '#first = :first AND #last = :last',
        ExpressionAttributeNames: { '#first': 'first', '#last': 'last' },
        ExpressionAttributeValues: { ':first': e.first, ':last': e.last },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/** The ledger a handler uses: only when the function's environment names the table. */
export function ledgerFromEnv(
  env: Record<string, string | undefined>,
  db: Db,
  functionName: string,
): FailureLedger | undefined {
  const tableName = env.REPLAY_LEDGER_TABLE?.trim();
  return tableName ? new FailureLedger({ db, tableName, functionName }) : undefined;
}

/** Ledger writes on the failure path must not hide the failure being reported. */
export async function quietly(logger: Logger, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    logger.error(`failure ledger: ${what}`, { error: err });
  }
}

/**
 * The per-user functions' use of the ledger for one batch: parked users' records are added to
 * their entries instead of applied, the rest are applied as usual and their outcome recorded.
 */
export interface UserGate<R> {
  /** The groups to apply now (parked users taken out). */
  groups: Map<string, R[]>;
  /** Sequence numbers to report as failed: parked users whose entry could not be extended, or
   *  the batch's first record when the ledger could not be read (Lambda retries the batch). */
  failed: string[];
  parkedUsers: number;
  /** After a user's records failed (reported as a batch item failure). */
  userFailed(userId: string, firstSequenceNumber: string): Promise<void>;
  /**
   * After a user's records were applied. False when the user's retrying entry could not be
   * deleted: the caller reports the user as failed, because a stale entry would park the user on
   * the next batch with no on-failure message to replay it. Lambda's retry then finds the records
   * at the watermark (nothing applied twice) and deletes the entry; if Lambda gives up instead,
   * the range is in the on-failure queue and replay resolves it.
   */
  userSucceeded(userId: string): Promise<boolean>;
}

export async function gateUsers<R extends { sequenceNumber: string }>(
  ledger: FailureLedger | undefined,
  batch: { shardId: string; first: string; last: string } | undefined,
  groups: Map<string, R[]>,
  logger: Logger,
): Promise<UserGate<R>> {
  const open: UserGate<R> = {
    groups,
    failed: [],
    parkedUsers: 0,
    userFailed: async () => undefined,
    userSucceeded: async () => true,
  };
  if (!ledger || !batch) return open;
  let view: BatchLedger;
  try {
    view = await ledger.forBatch(batch.shardId, batch.first, batch.last);
  } catch (err) {
    logger.error('failure ledger could not be read; retrying the batch', {
      shardId: batch.shardId,
      error: err,
    });
    return { ...open, groups: new Map(), failed: [batch.first] };
  }
  const apply = new Map<string, R[]>();
  const failed: string[] = [];
  let parkedUsers = 0;
  for (const [userId, records] of groups) {
    if (!view.isParked(userId)) {
      apply.set(userId, records);
      continue;
    }
    parkedUsers += 1;
    try {
      await view.park(userId, records[records.length - 1]!.sequenceNumber);
    } catch (err) {
      logger.warn('parked user could not be added to the failure ledger; retrying', { userId, error: err });
      failed.push(records[0]!.sequenceNumber);
    }
  }
  if (parkedUsers > 0) logger.warn('records of parked users held for pulse replay', { parkedUsers });
  return {
    groups: apply,
    failed,
    parkedUsers,
    userFailed: (userId, first) => quietly(logger, 'failure not recorded', () => view.failed(userId, first)),
    userSucceeded: async (userId) => {
      try {
        await view.succeeded(userId);
        return true;
      } catch (err) {
        logger.warn('failure-ledger entry not cleared; reporting the user for a retry', {
          userId,
          error: err,
        });
        return false;
      }
    },
  };
}

/** Shard and first/last sequence numbers of a Lambda Kinesis batch (always one shard). */
export function batchRange(
  records: ReadonlyArray<{ eventID: string; kinesis: { sequenceNumber: string } }>,
): { shardId: string; first: string; last: string } | undefined {
  const head = records[0];
  const tail = records[records.length - 1];
  if (!head || !tail) return undefined;
  const colon = head.eventID.lastIndexOf(':');
  return {
    shardId: colon > 0 ? head.eventID.slice(0, colon) : head.eventID,
    first: head.kinesis.sequenceNumber,
    last: tail.kinesis.sequenceNumber,
  };
}
