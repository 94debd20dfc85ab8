/**
 * The failure ledger: the durable record of what a function set aside (table `replay-ledger`,
 * services/resources.json). pk = `<function>#<shardId>`; sk is a namespaced key, so no userId can
 * ever equal an internal key: `u#<userId>` (a user), `i#<name>` (an internal partition, e.g.
 * session-updater's invalid records), `s#<first>` (a metrics segment of the shard).
 *
 * An entry says "the records of this key on this shard from `first` through `last` have not taken
 * effect, except those through `appliedThrough`". It is one of:
 * - `failing`: the key failed with an error that is not known to be transient; `attempts` counts
 *   the failures on `first`. The shard waits (Lambda retries); nothing is set aside yet.
 * - `parked`: set aside by the function's own decision (the same record failed `parkAfter` times,
 *   or an error that can never succeed). The live function no longer applies the key's records; it
 *   only extends `last`. The scheduled re-drive (redrive.ts) applies them in order, moving
 *   `appliedThrough`, and removes the entry once it is caught up.
 *
 * Every read is strongly consistent: a stale read could apply a parked user's later record before
 * their earlier ones.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConfigError, isConditionalCheckFailed } from '../errors.js';
import { compareSequence } from '../sequence.js';

export type EntryStatus = 'failing' | 'parked';

export interface LedgerEntry {
  pk: string;
  sk: string;
  /** The logical function name (session-updater, ...). */
  fn: string;
  shardId: string;
  /** The stream the range is on, so the entry alone says where to read it. */
  streamArn: string;
  first: string;
  last: string;
  status: EntryStatus;
  /** Non-transient failures counted on `first`. */
  attempts: number;
  /** The last failure, for people (truncated). */
  error?: string;
  /** ISO time of the first failure. */
  since: string;
  /** ISO time the key was set aside. */
  parkedAt?: string;
  /** The last record of the range the re-drive applied (always a record of this key). */
  appliedThrough?: string;
  /** Epoch ms before which the scheduled re-drive does not try this entry again. */
  nextAttemptAt?: number;
  /** Re-drive attempts that failed, for the back-off. */
  redrives?: number;
  /** The stream no longer holds the range's first unapplied record (retention). */
  expired?: boolean;
  /** Ancestor shards whose entry for the same key must be re-driven first (a reshard). */
  after?: string[];
  /** A re-driver's claim, so two re-drivers never emit one metrics segment twice. */
  claim?: string;
  claimUntil?: number;
}

export const USER_PREFIX = 'u#';
export const INTERNAL_PREFIX = 'i#';
export const SEGMENT_PREFIX = 's#';
export const userKey = (userId: string) => `${USER_PREFIX}${userId}`;
export const internalKey = (name: string) => `${INTERNAL_PREFIX}${name}`;
export const segmentKey = (first: string) => `${SEGMENT_PREFIX}${first}`;
/** session-updater's partition of invalid records (sent to the invalid-records queue). */
export const INVALID_RECORDS_KEY = internalKey('invalid-records');
export const ledgerPk = (fn: string, shardId: string) => `${fn}#${shardId}`;

/** The userId of a user key, or undefined for an internal or segment key. */
export function userIdOf(sk: string): string | undefined {
  return sk.startsWith(USER_PREFIX) ? sk.slice(USER_PREFIX.length) : undefined;
}

/** The re-drive applied everything through `last`: the live function may take the key back. */
export const caughtUp = (e: Pick<LedgerEntry, 'appliedThrough' | 'last'>) => e.appliedThrough === e.last;

type Db = Pick<DynamoDBDocumentClient, 'send'>;

export interface FailureLedgerOptions {
  db: Db;
  tableName: string;
  functionName: string;
  /** Failures of the same record before its key is set aside (default in partitioned.ts). */
  parkAfter?: number;
  now?: () => number;
}

const MAX_ERROR_CHARS = 500;
export const errorText = (err: unknown) =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_ERROR_CHARS);

const later = (a: string, b: string) => (compareSequence(a, b) >= 0 ? a : b);
const earlier = (a: string, b: string) => (compareSequence(a, b) <= 0 ? a : b);

export class FailureLedger {
  constructor(readonly options: FailureLedgerOptions) {}

  get functionName(): string {
    return this.options.functionName;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Every entry of one shard (normally none: one small Query per batch). */
  async entries(shardId: string): Promise<LedgerEntry[]> {
    const { db, tableName, functionName } = this.options;
    const out: LedgerEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ledgerPk(functionName, shardId) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...((page.Items ?? []) as LedgerEntry[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Every entry of this function, whatever its shard (the re-drive and the CLI; normally tiny). */
  async all(): Promise<LedgerEntry[]> {
    const { db, tableName, functionName } = this.options;
    const prefix = `${functionName}#`;
    const out: LedgerEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of (page.Items ?? []) as LedgerEntry[]) if (item.pk.startsWith(prefix)) out.push(item);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * A key failed on `first` (its records through `last`) with a non-transient error. Counts the
   * failure durably and sets the key aside when `park` is true. An existing entry keeps its
   * earliest `first` and latest `last`; the count restarts when the failing record changed.
   * Conditional on the entry being as read, so a concurrent change is never overwritten.
   */
  async recordFailure(
    existing: LedgerEntry | undefined,
    at: { sk: string; shardId: string; streamArn: string; first: string; last: string },
    err: unknown,
    park: (attempts: number) => boolean,
    after?: string[],
  ): Promise<LedgerEntry> {
    const nowIso = new Date(this.now()).toISOString();
    const first = existing ? earlier(existing.first, at.first) : at.first;
    const attempts = existing && existing.first === first ? existing.attempts + 1 : 1;
    const parked = existing?.status === 'parked' || park(attempts);
    const entry: LedgerEntry = {
      pk: ledgerPk(this.functionName, at.shardId),
      sk: at.sk,
      fn: this.functionName,
      shardId: at.shardId,
      streamArn: at.streamArn,
      first,
      last: existing ? later(existing.last, at.last) : at.last,
      status: parked ? 'parked' : 'failing',
      attempts,
      error: errorText(err),
      since: existing?.since ?? nowIso,
      ...(parked ? { parkedAt: existing?.parkedAt ?? nowIso, nextAttemptAt: this.now() } : {}),
      ...(existing?.appliedThrough ? { appliedThrough: existing.appliedThrough } : {}),
      ...(after?.length ? { after } : existing?.after ? { after: existing.after } : {}),
    };
    await this.options.db.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: entry,
        ...(existing
          ? {
              ConditionExpression: '#last = :last',
              ExpressionAttributeNames: { '#last': 'last' },
              ExpressionAttributeValues: { ':last': existing.last },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    return entry;
  }

  /**
   * A parked key's later records are added to its entry instead of applied. A re-delivery (not
   * past `last`) changes nothing. Conditional on `last` as read.
   */
  async extend(e: LedgerEntry, last: string): Promise<void> {
    if (compareSequence(last, e.last) <= 0) return;
    await this.options.db.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'SET #last = :last',
        ConditionExpression: '#last = :read',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':last': last, ':read': e.last },
      }),
    );
    e.last = last;
  }

  /**
   * Removes an entry whose records all took effect, unless it changed since it was read (more
   * records added, or progress made by someone else). False when the condition failed.
   */
  async remove(e: Pick<LedgerEntry, 'pk' | 'sk' | 'first' | 'last'>): Promise<boolean> {
    try {
      await this.options.db.send(
        new DeleteCommand({
          TableName: this.options.tableName,
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

  /** Durable progress of a re-drive: everything of the key through `through` took effect. */
  async progress(e: LedgerEntry, through: string): Promise<void> {
    await this.options.db.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'SET #through = :through',
        ConditionExpression: 'attribute_exists(pk) AND #first = :first',
        ExpressionAttributeNames: { '#through': 'appliedThrough', '#first': 'first' },
        ExpressionAttributeValues: { ':through': through, ':first': e.first },
      }),
    );
    e.appliedThrough = through;
  }

  /** A segment's emitted part is no longer in the entry: its `first` moves past it. */
  async advanceFirst(e: LedgerEntry, next: string): Promise<void> {
    await this.options.db.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'SET #first = :next',
        ConditionExpression: '#first = :first',
        ExpressionAttributeNames: { '#first': 'first' },
        ExpressionAttributeValues: { ':next': next, ':first': e.first },
      }),
    );
    e.first = next;
  }

  /** After a failed or partial re-drive: when to try again, why, and whether the range expired. */
  async reschedule(
    e: LedgerEntry,
    change: { nextAttemptAt: number; redrives: number; error?: string; expired?: boolean },
  ): Promise<void> {
    const values: Record<string, unknown> = {
      ':next': change.nextAttemptAt,
      ':redrives': change.redrives,
      ':expired': change.expired === true,
    };
    let set = 'SET nextAttemptAt = :next, redrives = :redrives, expired = :expired';
    if (change.error !== undefined) {
      set += ', #error = :error';
      values[':error'] = change.error.slice(0, MAX_ERROR_CHARS);
    }
    await this.options.db.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: set,
        ConditionExpression: 'attribute_exists(pk)',
        ...(change.error !== undefined ? { ExpressionAttributeNames: { '#error': 'error' } } : {}),
        ExpressionAttributeValues: values,
      }),
    );
    Object.assign(e, change);
  }

  /** A lease on an entry (metrics segments are not idempotent); false when someone else holds it. */
  async claim(e: LedgerEntry, id: string, leaseMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.options.db.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { pk: e.pk, sk: e.sk },
          UpdateExpression: 'SET claim = :id, claimUntil = :until',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(claim) OR claimUntil < :now OR claim = :id)',
          ExpressionAttributeValues: { ':id': id, ':until': now + leaseMs, ':now': now },
        }),
      );
      e.claim = id;
      e.claimUntil = now + leaseMs;
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async release(e: LedgerEntry, id: string): Promise<void> {
    try {
      await this.options.db.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { pk: e.pk, sk: e.sk },
          UpdateExpression: 'REMOVE claim, claimUntil',
          ConditionExpression: 'claim = :id',
          ExpressionAttributeValues: { ':id': id },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }
}

/**
 * The ledger a handler uses: only when the function's environment names the table.
 * PARK_AFTER_FAILURES (default 3, 1..100) is how often the same record may fail with an error not
 * known to be transient before its key is set aside.
 */
export function ledgerFromEnv(
  env: Record<string, string | undefined>,
  db: Db,
  functionName: string,
): FailureLedger | undefined {
  const tableName = env.REPLAY_LEDGER_TABLE?.trim();
  if (!tableName) return undefined;
  const raw = env.PARK_AFTER_FAILURES?.trim();
  let parkAfter: number | undefined;
  if (raw) {
    parkAfter = Number(raw);
    if (!Number.isInteger(parkAfter) || parkAfter < 1 || parkAfter > 100)
      throw new ConfigError(
        `PARK_AFTER_FAILURES must be an integer from 1 to 100, got ${JSON.stringify(raw)}`,
      );
  }
  return new FailureLedger({ db, tableName, functionName, ...(parkAfter ? { parkAfter } : {}) });
}
