/**
 * Every place Pulse keeps a user's data, each able to count what it holds of one user (survey)
 * and to remove it (remove): both return the same unit, so "removed N, then found 0" is the
 * proof. Counts only — the removed data itself is never returned, logged or stored.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ObjectVersion,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  ARCHIVE_KINDS,
  type ArchiveKind,
  userBucketPrefix,
} from '../../../services/shared/archive/layout.js';
import { decodeEvents, decodeInvalid } from '../../../services/shared/archive/parquet.js';
import { ArchiveStore, unlessGone } from '../../../services/shared/archive/store.js';
import { chunk, mapWithConcurrency } from '../../../services/shared/batch.js';
import { userKey } from '../../../services/shared/failure/ledger.js';
import { usersNamedBy } from '../../../services/shared/tombstones.js';
import type { Target } from '../target.js';

export const PLACES = [
  'sessions',
  'fraud-state',
  'alerts',
  'failure-ledger',
  'invalid-records-queue',
  'archive',
  'archive-versions',
] as const;
export type Place = (typeof PLACES)[number];

/** Per place: items (rows, messages) of the user. `unchecked`: messages another reader held. */
export interface PlaceCount {
  place: Place;
  count: number;
  /** Archive files (or non-current versions) rewritten or deleted. */
  files?: number;
  /** Messages that were in flight elsewhere and could not be looked at (queue only). */
  unchecked?: number;
}

type Item = Record<string, unknown>;
const CONCURRENCY = 8;

async function scanAll(
  target: Target,
  params: ConstructorParameters<typeof ScanCommand>[0],
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await target.db.send(
      new ScanCommand({ ...params, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function deleteKeys(target: Target, tableName: string, keys: Item[]): Promise<number> {
  await mapWithConcurrency(keys, CONCURRENCY, (Key) =>
    target.db.send(new DeleteCommand({ TableName: tableName, Key })),
  );
  return keys.length;
}

/** Keys of the user's sessions: CURRENT and every closed session. */
async function sessionKeys(target: Target, userId: string): Promise<Item[]> {
  const keys: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await target.db.send(
      new QueryCommand({
        TableName: target.names.table('sessions'),
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        ProjectionExpression: 'userId, sk',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    keys.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return keys;
}

async function fraudKeys(target: Target, userId: string): Promise<Item[]> {
  const { Item } = await target.db.send(
    new GetCommand({ TableName: target.names.table('fraud-state'), Key: { userId }, ConsistentRead: true }),
  );
  return Item ? [{ userId }] : [];
}

/** Alerts are keyed by alert id: a filtered Scan finds the user's. */
function alertKeys(target: Target, userId: string): Promise<Item[]> {
  return scanAll(target, {
    TableName: target.names.table('alerts'),
    FilterExpression: 'userId = :u',
    ExpressionAttributeValues: { ':u': userId },
    ProjectionExpression: 'alertId',
  });
}

/**
 * Failure-ledger entries of the user (sk = `u#<userId>`, one per function and shard: failing or
 * set aside). The ledger is normally empty, so a Scan is cheap. Segment and internal entries hold
 * positions only, no user. Once the entry is gone the re-drive has nothing of the user to apply.
 */
function ledgerKeys(target: Target, userId: string): Promise<Item[]> {
  return scanAll(target, {
    TableName: target.names.table('replay-ledger'),
    FilterExpression: 'sk = :u',
    ExpressionAttributeValues: { ':u': userKey(userId) },
    ProjectionExpression: 'pk, sk',
  });
}

/** How long received messages stay hidden while the queue is walked: longer than any walk here. */
const HOLD_SECONDS = 300;

/**
 * Walks the invalid-records queue. SQS messages cannot be edited: every message is received and
 * held invisible until the walk ends (so none is seen twice), the ones naming the user are deleted
 * when `remove`, and every other one is made visible again. Messages another reader holds cannot
 * be looked at; they are reported as `unchecked`.
 */
async function walkQueue(target: Target, userId: string, remove: boolean): Promise<PlaceCount> {
  const url = await target.queueUrl(target.names.queue('invalid-records'));
  const before = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const unchecked = Number(before.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  const matching: Message[] = [];
  const others: Message[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await target.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: HOLD_SECONDS,
          // Long polling asks every server, so an empty answer means the queue has nothing visible.
          WaitTimeSeconds: 1,
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) (namesUser(m, userId) ? matching : others).push(m);
    }
    if (remove) {
      for (const group of chunk(matching, 10)) {
        const out = await target.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: group.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        if (out.Failed && out.Failed.length > 0)
          throw new Error(`${out.Failed.length} invalid-records message(s) could not be deleted`);
      }
    }
  } finally {
    const release = remove ? others : [...others, ...matching];
    for (const group of chunk(release, 10)) {
      await target.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: group.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return { place: 'invalid-records-queue', count: matching.length, unchecked };
}

/** Whether an invalid-records message (services/shared/invalid-records.ts) names the user. */
export function namesUser(message: Pick<Message, 'Body'>, userId: string): boolean {
  let body: { partitionKey?: unknown; rawData?: unknown };
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return (message.Body ?? '').includes(JSON.stringify(userId));
  }
  const key = typeof body.partitionKey === 'string' ? body.partitionKey : undefined;
  return usersNamedBy(typeof body.rawData === 'string' ? body.rawData : '', key).includes(userId);
}

/** Where one user's archived rows can be: their user bucket of events/, and all of invalid/. */
function archivePrefixes(userId: string): Array<[ArchiveKind, string]> {
  // Invalid records are filed under their partition key, but their body may name another user;
  // they are few, so every invalid file is read.
  return ARCHIVE_KINDS.map((kind) => [kind, kind === 'events' ? userBucketPrefix(kind, userId) : `${kind}/`]);
}

const eventKeep = (userId: string) => (r: { event: { userId: string } }) => r.event.userId !== userId;
const invalidKeep = (userId: string) => (r: { rawData: string; partitionKey: string }) =>
  !usersNamedBy(r.rawData, r.partitionKey).includes(userId);

/**
 * The archive's current files: events live under the user's bucket prefix only (layout.ts puts
 * the user bucket first), so only those are read. A file holding the user is rewritten in place
 * without their rows (one PUT), or deleted when nothing is left; every other row stays as it was.
 */
async function walkArchive(store: ArchiveStore, userId: string, remove: boolean): Promise<PlaceCount> {
  let count = 0;
  let files = 0;
  for (const [kind, prefix] of archivePrefixes(userId)) {
    const objects = await store.list(prefix);
    await mapWithConcurrency(objects, CONCURRENCY, async ({ key }) => {
      let n: number;
      if (kind === 'events') {
        const keep = eventKeep(userId);
        n = remove
          ? await store.rewriteEvents(key, keep)
          : (await unlessGone(store.readEvents(key))).filter((r) => !keep(r)).length;
      } else {
        const keep = invalidKeep(userId);
        n = remove
          ? await store.rewriteInvalid(key, keep)
          : (await unlessGone(store.readInvalid(key))).filter((r) => !keep(r)).length;
      }
      count += n;
      if (n > 0) files += 1;
    });
  }
  return { place: 'archive', count, files };
}

/**
 * The bucket is versioned, so a rewrite leaves the user's rows in the file's previous version and
 * compaction leaves them in its deleted parts' versions. Every non-current version under the
 * user's prefixes is read; one holding the user is deleted for good (DeleteObject with its
 * VersionId), the others — other users' history — stay.
 */
async function walkVersions(
  target: Target,
  bucket: string,
  userId: string,
  remove: boolean,
): Promise<PlaceCount> {
  let count = 0;
  let files = 0;
  for (const [kind, prefix] of archivePrefixes(userId)) {
    const versions: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await target.s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      versions.push(...(page.Versions ?? []).filter((v) => v.IsLatest === false));
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    await mapWithConcurrency(versions, CONCURRENCY, async ({ Key, VersionId }) => {
      if (!Key?.endsWith('.parquet')) return;
      const { Body } = await target.s3.send(new GetObjectCommand({ Bucket: bucket, Key, VersionId }));
      const bytes = await Body?.transformToByteArray();
      if (!bytes) return;
      const n =
        kind === 'events'
          ? (await decodeEvents(bytes)).filter((r) => !eventKeep(userId)(r)).length
          : (await decodeInvalid(bytes)).filter((r) => !invalidKeep(userId)(r)).length;
      if (n === 0) return;
      if (remove) await target.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId }));
      count += n;
      files += 1;
    });
  }
  return { place: 'archive-versions', count, files };
}

/** What one user has in every place; `remove` deletes it on the way. */
export async function walkPlaces(
  target: Target,
  userId: string,
  options: { remove: boolean; archiveBucket?: string },
): Promise<PlaceCount[]> {
  const { remove } = options;
  const tables: Array<[Place, string, () => Promise<Item[]>]> = [
    ['sessions', 'sessions', () => sessionKeys(target, userId)],
    ['fraud-state', 'fraud-state', () => fraudKeys(target, userId)],
    ['alerts', 'alerts', () => alertKeys(target, userId)],
    ['failure-ledger', 'replay-ledger', () => ledgerKeys(target, userId)],
  ];
  const out: PlaceCount[] = [];
  for (const [place, table, keys] of tables) {
    const found = await keys();
    out.push({
      place,
      count: remove ? await deleteKeys(target, target.names.table(table), found) : found.length,
    });
  }
  out.push(await walkQueue(target, userId, remove));
  if (options.archiveBucket) {
    const store = new ArchiveStore({ s3: target.s3 as never, bucket: options.archiveBucket });
    out.push(await walkArchive(store, userId, remove));
    out.push(await walkVersions(target, options.archiveBucket, userId, remove));
  }
  return out;
}
