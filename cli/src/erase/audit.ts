/**
 * The erasure's record in the `erasures` table: the tombstone the functions read and the audit
 * trail, in one item keyed by the keyed hash of the user id (services/shared/tombstones.ts). It
 * holds when the request arrived, when it completed, and how many items were removed where —
 * never the user id and never the removed data.
 *
 * How long: the tombstone (tombstoneUntil) must outlive every copy of the user's records that a
 * function could still read — the stream's retention, plus the longest SQS retention (14 days) for
 * an on-failure message that sends a re-drive back to the stream, plus a day. The audit record
 * (expiresAt, the table's TTL) is kept AUDIT_RETENTION_DAYS to answer for the erasure later.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Target } from '../target.js';
import type { PlaceCount } from './places.js';

export const AUDIT_RETENTION_DAYS = 3 * 365;
/** SQS's longest retention: an on-failure message can send a re-drive to the stream this late. */
export const REDRIVE_WINDOW_DAYS = 14;
const DAY_MS = 86_400_000;

export type ErasureStatus = 'PENDING' | 'COMPLETED' | 'INCOMPLETE';

export interface ErasureRecord {
  userHash: string;
  status: ErasureStatus;
  /** ISO time the (latest) request arrived and the tombstone was written. */
  requestedAt: string;
  completedAt?: string;
  /** How many times this user's erasure was requested. */
  requests: number;
  /** Epoch ms: the functions drop the user's records until then. */
  tombstoneUntil: number;
  /** Epoch seconds: the table's TTL removes the audit record then. */
  expiresAt: number;
  /** Items removed, per place (counts only). */
  removed?: Record<string, number>;
  /** Items found after removing (all zero for COMPLETED). */
  left?: Record<string, number>;
}

/** The HMAC key from the environment's erasure-key secret. */
export async function erasureKey(target: Target): Promise<string> {
  const out = await target.secrets.send(
    new GetSecretValueCommand({ SecretId: target.names.secret('erasure-key') }),
  );
  if (!out.SecretString) throw new Error(`secret ${target.names.secret('erasure-key')} has no value`);
  return out.SecretString;
}

/** How long the tombstone must last, from the stream's retention period. */
export function tombstoneMs(streamRetentionHours: number): number {
  return streamRetentionHours * 3_600_000 + (REDRIVE_WINDOW_DAYS + 1) * DAY_MS;
}

/**
 * Writes (or renews) the tombstone: PENDING, requested now. A repeated request keeps the
 * erasure's history (requests counts up) and never shortens an earlier tombstone.
 */
export async function beginErasure(
  target: Target,
  hash: string,
  now: number,
  tombstoneFor: number,
): Promise<void> {
  const previous = await readErasure(target, hash);
  const until = Math.max(now + tombstoneFor, previous?.tombstoneUntil ?? 0);
  await target.db.send(
    new UpdateCommand({
      TableName: target.names.table('erasures'),
      Key: { userHash: hash },
      UpdateExpression:
        'SET #status = :pending, requestedAt = :at, tombstoneUntil = :until, expiresAt = :expires ADD requests :one REMOVE completedAt, removed, #left',
      ExpressionAttributeNames: { '#status': 'status', '#left': 'left' },
      ExpressionAttributeValues: {
        ':pending': 'PENDING',
        ':at': new Date(now).toISOString(),
        ':until': until,
        ':expires': Math.floor((now + AUDIT_RETENTION_DAYS * DAY_MS) / 1000),
        ':one': 1,
      },
    }),
  );
}

const counts = (places: PlaceCount[]) => Object.fromEntries(places.map((p) => [p.place, p.count]));

/** Records the outcome: COMPLETED when nothing was left, else INCOMPLETE with what was found. */
export async function finishErasure(
  target: Target,
  hash: string,
  now: number,
  removed: PlaceCount[],
  left: PlaceCount[],
): Promise<ErasureStatus> {
  const status: ErasureStatus = left.every((p) => p.count === 0 && !p.unchecked) ? 'COMPLETED' : 'INCOMPLETE';
  await target.db.send(
    new UpdateCommand({
      TableName: target.names.table('erasures'),
      Key: { userHash: hash },
      UpdateExpression: 'SET #status = :status, completedAt = :at, removed = :removed, #left = :left',
      ExpressionAttributeNames: { '#status': 'status', '#left': 'left' },
      ExpressionAttributeValues: {
        ':status': status,
        ':at': new Date(now).toISOString(),
        ':removed': counts(removed),
        ':left': Object.fromEntries(left.map((p) => [p.place, p.count + (p.unchecked ?? 0)])),
      },
    }),
  );
  return status;
}

export async function readErasure(target: Target, hash: string): Promise<ErasureRecord | undefined> {
  const { Item } = await target.db.send(
    new GetCommand({
      TableName: target.names.table('erasures'),
      Key: { userHash: hash },
      ConsistentRead: true,
    }),
  );
  return Item as ErasureRecord | undefined;
}

/** Every erasure on record, newest request first. */
export async function listErasures(target: Target): Promise<ErasureRecord[]> {
  const out: ErasureRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await target.db.send(
      new ScanCommand({ TableName: target.names.table('erasures'), ExclusiveStartKey: start }),
    );
    out.push(...((page.Items ?? []) as ErasureRecord[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}
