/** DynamoDB plumbing every function shares: the document client and batched reads and writes. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { chunk, mapWithConcurrency } from './batch.js';
import { clientConfig } from './clients.js';
import { backoffMs, sleep as defaultSleep, type Sleep } from './retry.js';

/** The document client over `client` (by default one with the shared client config). */
export function createDocumentClient(
  client: DynamoDBClient = new DynamoDBClient(clientConfig),
): DynamoDBDocumentClient {
  // Optional attributes (a user with no open session, say) are simply left out of the item.
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const MAX_BATCH_ATTEMPTS = 5;
/**
 * Batch requests of one call in flight at once: a batch of 1,000 users is 10 reads and 40 writes
 * of closed sessions, which one after another cost 50 round trips before the user writes start.
 */
const BATCH_REQUEST_CONCURRENCY = 8;
const unprocessedBackoffMs = (attempt: number) => backoffMs(attempt, 50, 1_000);

/**
 * Reads many items by key, 100 keys per BatchGetItem, retrying what DynamoDB leaves unprocessed
 * with back-off. Missing items are simply absent from the result. Strongly consistent unless
 * `consistent` is false (half the read units; only for a caller whose writes reject stale state).
 */
export async function batchGetItems(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  sleep: Sleep = defaultSleep,
  consistent = true,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  await mapWithConcurrency(chunk(keys, 100), BATCH_REQUEST_CONCURRENCY, async (group) => {
    let pending: Record<string, unknown>[] | undefined = group;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS)
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 0) await sleep(unprocessedBackoffMs(attempt));
      const out: BatchGetCommandOutput = await db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistent } } }),
      );
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  });
  return items;
}

/**
 * Puts many items, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed with back-off.
 * Unconditional, so only for idempotent writes (items keyed by their own content). Returns the
 * items still unwritten after the last attempt.
 */
export async function batchPutItems(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  items: readonly Record<string, unknown>[],
  sleep: Sleep = defaultSleep,
): Promise<Record<string, unknown>[]> {
  const unwritten: Record<string, unknown>[] = [];
  await mapWithConcurrency(chunk(items, 25), BATCH_REQUEST_CONCURRENCY, async (group) => {
    let pending: Record<string, unknown>[] | undefined = group.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS) {
        unwritten.push(
          ...pending.map((r) => (r as { PutRequest: { Item: Record<string, unknown> } }).PutRequest.Item),
        );
        break;
      }
      if (attempt > 0) await sleep(unprocessedBackoffMs(attempt));
      const out: BatchWriteCommandOutput = await db.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
    }
  });
  return unwritten;
}
