/** DynamoDB plumbing every function shares: the document client and batched reads. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk } from './batch.js';
import { clientConfig } from './clients.js';

export function createDocumentClient(): DynamoDBDocumentClient {
  // Optional attributes (a user with no open session, say) are simply left out of the item.
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

const MAX_BATCH_ATTEMPTS = 5;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential back-off with jitter for keys or items DynamoDB left unprocessed. */
export function unprocessedBackoffMs(attempt: number): number {
  return Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/**
 * Reads many items by key (strongly consistent), 100 keys per BatchGetItem, retrying what
 * DynamoDB leaves unprocessed with back-off. Missing items are simply absent from the result.
 */
export async function batchGetItems(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (const group of chunk(keys, 100)) {
    let pending: Record<string, unknown>[] | undefined = group;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS)
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 0) await sleep(unprocessedBackoffMs(attempt));
      const out: BatchGetCommandOutput = await db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
}
