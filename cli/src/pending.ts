/**
 * PENDING alerts: through the alerts table's sparse `pending` index when services/resources.json
 * declares it (the fraud outbox: only undelivered alerts carry its hash key, value PENDING), else
 * a filtered Scan, so the CLI also works against an environment deployed before the index.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { loadResources } from '../../lib/config.js';
import type { Target } from './target.js';

export interface PendingIndex {
  name: string;
  hashKey: string;
  rangeKey?: string;
}

export function pendingIndex(): PendingIndex | undefined {
  const table = loadResources().tables.alerts as { globalSecondaryIndexes?: PendingIndex[] } | undefined;
  return table?.globalSecondaryIndexes?.find((i) => i.name === 'pending');
}

/** PENDING alerts, oldest first; `count` only counts (Select COUNT, nothing transferred). */
export async function listPending(
  target: Target,
  options: { limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const index = pendingIndex();
  const items: Record<string, unknown>[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let start: Record<string, unknown> | undefined;
  do {
    const page = index
      ? await target.db.send(
          new QueryCommand({
            TableName: target.names.table('alerts'),
            IndexName: index.name,
            KeyConditionExpression: '#h = :pending',
            ExpressionAttributeNames: { '#h': index.hashKey },
            ExpressionAttributeValues: { ':pending': 'PENDING' },
            ExclusiveStartKey: start,
          }),
        )
      : await target.db.send(
          new ScanCommand({
            TableName: target.names.table('alerts'),
            FilterExpression: '#s = :pending',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':pending': 'PENDING' },
            ExclusiveStartKey: start,
          }),
        );
    // The index may lag the table by a moment; the status on the item decides.
    items.push(...(page.Items ?? []).filter((i) => i.status === 'PENDING'));
    start = page.LastEvaluatedKey;
  } while (start && items.length < limit);
  items.sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')));
  return items.slice(0, limit);
}

export async function countPending(target: Target): Promise<number> {
  return (await listPending(target)).length;
}

/**
 * FAILED alerts (SNS refused them MAX_PUBLISH_REJECTIONS times), oldest first. Parking removes an
 * alert from the sparse `pending` index and no other index is keyed on the status, so this is a
 * paginated Scan with a filter: the alerts table is small (alerts only) and TTL'd, so a Scan
 * stays cheap, and an operator runs it by hand after the alerts-failed alarm.
 */
export async function listFailed(
  target: Target,
  options: { limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await target.db.send(
      new ScanCommand({
        TableName: target.names.table('alerts'),
        FilterExpression: '#s = :failed',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':failed': 'FAILED' },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && items.length < limit);
  items.sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')));
  return items.slice(0, limit);
}
