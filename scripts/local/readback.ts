/** Reads what the pipeline wrote, for the demo report and the end-to-end tests. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../../lib/aws.js';
import { getMetricData } from '../../lib/get-metric-data.js';
import { createDocumentClient } from '../../services/shared/dynamo.js';
import { microsToNumber, toMicros } from '../../services/shared/money.js';

export async function scanTable(clients: Clients, table: string): Promise<Record<string, unknown>[]> {
  const doc = createDocumentClient(clients.dynamodb);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface QueueMessage {
  body: string;
  json?: unknown;
}

/** Receives (and deletes) every message available now; waits up to waitSeconds for the first. */
export async function drainQueue(
  clients: Clients,
  queueUrl: string,
  waitSeconds = 0,
): Promise<QueueMessage[]> {
  const out: QueueMessage[] = [];
  for (;;) {
    const { Messages } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: out.length === 0 ? waitSeconds : 0,
      }),
    );
    if (!Messages || Messages.length === 0) return out;
    for (const m of Messages) {
      let json: unknown;
      try {
        json = JSON.parse(m.Body ?? '');
      } catch {
        json = undefined;
      }
      out.push({ body: m.Body ?? '', json });
    }
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** An SNS notification as delivered to an SQS subscriber (raw delivery off). */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  /** The alert's Chatbot document as JSON text (published with the String structure). */
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/**
 * Sum of a metric with exactly these dimensions over a time range (GetMetricData, which matches
 * dimensions exactly, as CloudWatch does; moto's GetMetricStatistics also matches supersets).
 */
export async function metricSum(
  clients: Clients,
  options: { namespace: string; metric: string; dimensions: Record<string, string>; start: Date; end: Date },
): Promise<{ sum: number; minutes: number }> {
  const points = await getMetricData(clients.cloudwatch, {
    StartTime: options.start,
    EndTime: options.end,
    MetricDataQueries: [
      {
        Id: 'm',
        MetricStat: {
          Metric: {
            Namespace: options.namespace,
            MetricName: options.metric,
            Dimensions: Object.entries(options.dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: 60,
          Stat: 'Sum',
        },
      },
    ],
  });
  const values = points.get('m') ?? [];
  // Each minute's value is an exact decimal of at most 6 places rounded once to a double: summed
  // back as micros, the total is exact, not a float sum that drifts with the number of minutes.
  const sum = values.reduce((total, point) => total + BigInt(toMicros(point.value)), 0n);
  return { sum: microsToNumber(sum), minutes: values.length };
}

export interface SessionSummary {
  users: number;
  sessionsOpened: number;
  closedSessionItems: number;
  current: Map<string, Record<string, unknown>>;
}

export async function readSessions(clients: Clients, table: string): Promise<SessionSummary> {
  const items = await scanTable(clients, table);
  const current = new Map<string, Record<string, unknown>>();
  let closed = 0;
  let opened = 0;
  for (const item of items) {
    if (item.sk === 'CURRENT') {
      current.set(item.userId as string, item);
      opened += Number(item.sessionCount ?? 0);
    } else if (String(item.sk).startsWith('SESSION#')) closed += 1;
  }
  return { users: current.size, sessionsOpened: opened, closedSessionItems: closed, current };
}
