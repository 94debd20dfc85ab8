/**
 * Erasure tombstones: once `pulse erase` has forgotten a user, nothing of theirs may be written
 * again — not by a record still on the stream (up to its retention), a parked entry replayed later,
 * or a re-drive. Every write path (the three functions, `pulse replay`, the archive writer) asks
 * this module which records to drop.
 *
 * A tombstone is an item of the `erasures` table (services/resources.json) keyed by
 * `userHash` = HMAC-SHA256(key, userId), hex. The key is a per-environment secret in Secrets
 * Manager (`pulse-<env>-erasure-key`), so the table alone cannot be turned back into user ids by
 * hashing a list of candidates. The same item is the erasure's audit record (cli/src/erase.ts).
 * A tombstone is active while `tombstoneUntil` (epoch ms) is in the future.
 *
 * Cost per event: tombstones are few, so each function holds the active set in memory, loaded at
 * cold start and re-read once `refreshMs` has passed (one Scan of a tiny table). While the set is
 * empty — nearly always — no record is even hashed; otherwise one HMAC per distinct user per batch.
 * A set older than `refreshMs` is never used: if it cannot be re-read the batch fails and Lambda
 * retries it, so `pulse erase`, which waits one refresh interval plus the longest invocation after
 * writing the tombstone, knows every write that starts later sees it.
 */
import { createHmac } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from './errors.js';
import type { DecodedBatch } from './kinesis.js';
import type { Logger } from './logger.js';

/** How often a function re-reads the tombstone set unless TOMBSTONE_REFRESH_SECONDS says otherwise. */
export const DEFAULT_REFRESH_SECONDS = 30;

/** The keyed hash a tombstone and an audit record are stored under. */
export function userHash(key: string, userId: string): string {
  return createHmac('sha256', key).update(userId, 'utf8').digest('hex');
}

/** The tombstone set could not be read or the key could not be fetched; the batch is retried. */
export class TombstonesUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TombstonesUnavailableError';
  }
}

type Db = Pick<DynamoDBDocumentClient, 'send'>;
type Secrets = Pick<SecretsManagerClient, 'send'>;

/** The erasure key from Secrets Manager (a SecretString of at least 32 characters). */
export function secretKey(secrets: Secrets, secretId: string): () => Promise<string> {
  return async () => {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    const key = out.SecretString ?? '';
    if (key.length < 32)
      throw new TombstonesUnavailableError(`erasure key ${secretId} is shorter than 32 characters`);
    return key;
  };
}

export interface TombstoneOptions {
  db: Db;
  tableName: string;
  /** Fetches the HMAC key; called once, the first time a tombstone is active. */
  key: () => Promise<string>;
  refreshMs: number;
  now?: () => number;
}

/** The active tombstones at one moment: answers "is this user erased?". */
export interface TombstoneView {
  readonly size: number;
  has(userId: string): boolean;
}

const EMPTY: TombstoneView = { size: 0, has: () => false };

export class Tombstones {
  private view: TombstoneView = EMPTY;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading?: Promise<TombstoneView>;
  private key?: Promise<string>;

  constructor(private readonly o: TombstoneOptions) {}

  /** The active set, re-read when older than the refresh interval. Throws TombstonesUnavailableError. */
  async current(): Promise<TombstoneView> {
    const now = (this.o.now ?? Date.now)();
    if (now - this.loadedAt < this.o.refreshMs) return this.view;
    this.loading ??= this.load(now).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(now: number): Promise<TombstoneView> {
    let hashes: Set<string>;
    try {
      hashes = await activeHashes(this.o.db, this.o.tableName, now);
    } catch (err) {
      throw new TombstonesUnavailableError('erasure tombstones could not be read', { cause: err });
    }
    let view = EMPTY;
    if (hashes.size > 0) {
      this.key ??= this.o.key().catch((err) => {
        this.key = undefined;
        throw new TombstonesUnavailableError('erasure key could not be read', { cause: err });
      });
      const key = await this.key;
      const memo = new Map<string, boolean>();
      view = {
        size: hashes.size,
        has(userId) {
          let erased = memo.get(userId);
          if (erased === undefined) {
            erased = hashes.has(userHash(key, userId));
            // Bounded: one invocation's users, not the stream's.
            if (memo.size > 100_000) memo.clear();
            memo.set(userId, erased);
          }
          return erased;
        },
      };
    }
    this.view = view;
    this.loadedAt = now;
    return view;
  }
}

/** The hashes of every tombstone active at `now` (erasures whose tombstoneUntil is later). */
export async function activeHashes(db: Db, tableName: string, now: number): Promise<Set<string>> {
  const out = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'tombstoneUntil > :now',
        ProjectionExpression: 'userHash',
        ExpressionAttributeValues: { ':now': now },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) out.add(String(item.userHash));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** A `"userId": "..."` member anywhere in the text, for data that is not (whole) JSON. */
const USER_ID_MEMBER = /"userId"\s*:\s*("(?:[^"\\]|\\.)*")/g;

/**
 * The user ids a raw record names: its partition key and every `userId` its data carries —
 * parsed when the data is JSON, else found textually (a truncated or malformed body still names
 * its user). An invalid record's key and body can disagree, so both count.
 */
export function usersNamedBy(rawDataBase64: string, partitionKey: string | undefined): string[] {
  const users = new Set<string>(partitionKey === undefined ? [] : [partitionKey]);
  const text = Buffer.from(rawDataBase64, 'base64').toString('utf8');
  for (const match of text.matchAll(USER_ID_MEMBER)) {
    try {
      const id: unknown = JSON.parse(match[1] as string);
      if (typeof id === 'string') users.add(id);
    } catch {
      // A broken escape: not a readable id.
    }
  }
  try {
    const parsed = JSON.parse(text) as { userId?: unknown };
    if (typeof parsed?.userId === 'string') users.add(parsed.userId);
  } catch {
    // Not JSON: what the text search found is all it names.
  }
  return [...users];
}

/**
 * A decoded batch without the records of erased users: valid records by their userId, invalid
 * ones by every user they name. Absent tombstones (unit tests of other paths) drop nothing;
 * an unreadable set throws TombstonesUnavailableError, so the batch is retried, never written.
 */
export async function dropErased<B extends DecodedBatch>(
  tombstones: Tombstones | undefined,
  batch: B,
  logger?: Logger,
): Promise<B & { erased: number }> {
  if (!tombstones || batch.valid.length + batch.invalid.length === 0) return { ...batch, erased: 0 };
  const view = await tombstones.current();
  if (view.size === 0) return { ...batch, erased: 0 };
  const valid = batch.valid.filter((r) => !view.has(r.event.userId));
  const invalid = batch.invalid.filter(
    (r) => !usersNamedBy(r.rawData, r.partitionKey).some((u) => view.has(u)),
  );
  const erased = batch.valid.length - valid.length + batch.invalid.length - invalid.length;
  // No user id in the log: the point is to forget them.
  if (erased > 0) logger?.info('records of erased users dropped', { dropped: erased });
  return { ...batch, valid, invalid, erased };
}

/** The tombstones a handler uses: only when the function's environment names the erasures table. */
export function tombstonesFromEnv(
  env: Record<string, string | undefined>,
  db: Db,
  secrets: () => Secrets,
): Tombstones | undefined {
  const tableName = env.ERASURES_TABLE?.trim();
  if (!tableName) return undefined;
  const secretId = env.ERASURE_KEY_SECRET?.trim();
  const raw = env.TOMBSTONE_REFRESH_SECONDS?.trim();
  const seconds = raw ? Number(raw) : DEFAULT_REFRESH_SECONDS;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300)
    throw new ConfigError(
      `TOMBSTONE_REFRESH_SECONDS must be a number of seconds from 0 to 300, got ${JSON.stringify(raw)}`,
    );
  if (!secretId) throw new ConfigError('ERASURES_TABLE is set but ERASURE_KEY_SECRET is not');
  return new Tombstones({ db, tableName, key: secretKey(secrets(), secretId), refreshMs: seconds * 1000 });
}
