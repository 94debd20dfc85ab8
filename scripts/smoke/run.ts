/**
 * The smoke check of a deployed pipeline: a seeded test user's session and one large purchase go
 * on the stream through the producer library, then each function must show its output — the
 * session item (session-updater), the alert on the alert topic (fraud-rules, read through a
 * temporary SQS subscription) and the metric datapoints (metrics-emitter). The same code runs
 * against AWS (`make smoke ENV=<env>`, names from `terraform output -json`) and against the local
 * stack in `make test` (test/e2e/smoke.test.ts), so it cannot drift from what is deployed.
 */
import { randomBytes } from 'node:crypto';
import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { alertIdOf, RULE_NAMES } from '../../services/fraud-rules/rules.js';
import { publishBatch } from '../../services/producer/index.js';
import { createDocumentClient } from '../../services/shared/dynamo.js';
import type { PulseEvent } from '../../services/shared/event.js';

export interface SmokeClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  cloudwatch: CloudWatchClient;
}

/** Every name the check needs: from `terraform output -json`, or from the local stack. */
export interface SmokeTargets {
  environment: string;
  streamName: string;
  alertsTopicArn: string;
  /** resources.json table key → physical name (sessions, fraud-state, alerts are used). */
  tableNames: Record<string, string>;
  metricsNamespace: string;
}

export interface SmokeOptions {
  /** How long to wait for all three functions (ms). */
  timeoutMs?: number;
  pollMs?: number;
  /** Amount of the large purchase; above every environment's largePurchase threshold by default. */
  largeAmount?: number;
  /** Test user id (default: a fresh smoke-<time>-<random>). */
  userId?: string;
  log?: (line: string) => void;
  now?: () => number;
}

export type FunctionKey = 'session-updater' | 'fraud-rules' | 'metrics-emitter';

export interface FunctionResult {
  fn: FunctionKey;
  ok: boolean;
  /** From the put to the first sight of the function's output (ms). */
  lagMs?: number;
  detail: string;
}

export interface SmokeResult {
  userId: string;
  ok: boolean;
  results: FunctionResult[];
  /** Whatever could not be removed afterwards (test user items, temporary queue). */
  cleanupErrors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seeded traffic of one smoke run: a short session and one large purchase, all by one user. */
export function smokeEvents(userId: string, startMs: number, largeAmount: number): PulseEvent[] {
  const id = (n: number) => `${userId}-e${n}`;
  return [
    { eventId: id(1), userId, eventType: 'page_view', timestamp: startMs, data: { path: '/' } },
    {
      eventId: id(2),
      userId,
      eventType: 'product_view',
      timestamp: startMs + 1_000,
      data: { productId: 'smoke-p1' },
    },
    {
      eventId: id(3),
      userId,
      eventType: 'add_to_cart',
      timestamp: startMs + 2_000,
      data: { productId: 'smoke-p1' },
    },
    {
      eventId: id(4),
      userId,
      eventType: 'purchase',
      timestamp: startMs + 3_000,
      data: { amount: largeAmount, currency: 'USD', orderId: `${userId}-o1`, country: 'US' },
    },
  ];
}

interface AlertSeen {
  alertId?: string;
}

/** A queue subscribed to the alert topic for the duration of the run only. */
async function temporarySubscription(
  clients: SmokeClients,
  targets: SmokeTargets,
  suffix: string,
): Promise<{ queueUrl: string; subscriptionArn: string }> {
  const name = `pulse-${targets.environment}-smoke-${suffix}`;
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`no URL for queue ${name}`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = Attributes?.QueueArn;
  if (!queueArn) throw new Error(`no ARN for queue ${name}`);
  // Only this topic may send to the queue.
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AlertTopicOnly',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': targets.alertsTopicArn } },
      },
    ],
  };
  await clients.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
  );
  const { SubscriptionArn } = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: targets.alertsTopicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      ReturnSubscriptionArn: true,
    }),
  );
  if (!SubscriptionArn) throw new Error('SNS returned no subscription ARN');
  return { queueUrl: QueueUrl, subscriptionArn: SubscriptionArn };
}

/** Alerts for the user among the messages now in the queue (SNS envelopes; other users' are dropped). */
async function receiveAlerts(clients: SmokeClients, queueUrl: string, userId: string): Promise<AlertSeen[]> {
  const seen: AlertSeen[] = [];
  const { Messages } = await clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  if (!Messages || Messages.length === 0) return seen;
  for (const m of Messages) {
    try {
      const envelope = JSON.parse(m.Body ?? '{}') as { Message?: string };
      const doc = JSON.parse(envelope.Message ?? '{}') as {
        metadata?: { additionalContext?: { userId?: string; alertId?: string } };
      };
      const ctx = doc.metadata?.additionalContext;
      if (ctx?.userId === userId) seen.push({ alertId: ctx.alertId });
    } catch {
      // not an alert document: someone else's message on the topic
    }
  }
  await clients.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }),
  );
  return seen;
}

/** Sum of `Events` of the environment over the window (every event type, all functions' traffic). */
async function eventsSum(
  clients: SmokeClients,
  targets: SmokeTargets,
  start: Date,
  end: Date,
): Promise<number> {
  let sum = 0;
  let token: string | undefined;
  do {
    const out = await clients.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        NextToken: token,
        MetricDataQueries: [
          {
            Id: 'events',
            MetricStat: {
              Metric: {
                Namespace: targets.metricsNamespace,
                MetricName: 'Events',
                Dimensions: [{ Name: 'Environment', Value: targets.environment }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    for (const r of out.MetricDataResults ?? []) for (const v of r.Values ?? []) sum += v;
    token = out.NextToken;
  } while (token);
  return sum;
}

function table(targets: SmokeTargets, key: string): string {
  const name = targets.tableNames[key];
  if (!name)
    throw new Error(`no table "${key}" in the targets (have: ${Object.keys(targets.tableNames).join(', ')})`);
  return name;
}

/** Removes everything the run wrote for its test user: sessions, rule state, alerts. */
async function cleanUp(
  clients: SmokeClients,
  targets: SmokeTargets,
  userId: string,
  alertIds: string[],
): Promise<string[]> {
  const errors: string[] = [];
  const doc = createDocumentClient(clients.dynamodb);
  try {
    const sessions = table(targets, 'sessions');
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new QueryCommand({
          TableName: sessions,
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
          ProjectionExpression: 'userId, sk',
          ExclusiveStartKey: start,
        }),
      );
      const keys = (out.Items ?? []).map((i) => ({ userId: i.userId, sk: i.sk }));
      for (let i = 0; i < keys.length; i += 25) {
        await doc.send(
          new BatchWriteCommand({
            RequestItems: { [sessions]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) },
          }),
        );
      }
      start = out.LastEvaluatedKey;
    } while (start);
  } catch (err) {
    errors.push(`sessions of ${userId}: ${(err as Error).message}`);
  }
  try {
    await doc.send(new DeleteCommand({ TableName: table(targets, 'fraud-state'), Key: { userId } }));
  } catch (err) {
    errors.push(`fraud-state of ${userId}: ${(err as Error).message}`);
  }
  for (const alertId of alertIds) {
    try {
      await doc.send(new DeleteCommand({ TableName: table(targets, 'alerts'), Key: { alertId } }));
    } catch (err) {
      errors.push(`alert ${alertId}: ${(err as Error).message}`);
    }
  }
  return errors;
}

export async function runSmoke(
  clients: SmokeClients,
  targets: SmokeTargets,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const pollMs = options.pollMs ?? 2_000;
  const suffix = `${now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const userId = options.userId ?? `smoke-${suffix}`;
  const doc = createDocumentClient(clients.dynamodb);
  const cleanupErrors: string[] = [];

  const sub = await temporarySubscription(clients, targets, suffix);
  log(`temporary alert subscription: ${sub.queueUrl}`);
  const alertIds = new Set<string>();
  const results = new Map<FunctionKey, FunctionResult>();
  const putAt = now();
  const events = smokeEvents(userId, putAt - 5_000, options.largeAmount ?? 100_000);
  try {
    const baseline = await eventsSum(
      clients,
      targets,
      new Date(putAt - 10 * 60_000),
      new Date(putAt + 60_000),
    );
    const put = await publishBatch(events, { kinesis: clients.kinesis, stream: targets.streamName });
    if (put.failed.length > 0) {
      throw new Error(`producer could not put ${put.failed.length} event(s): ${put.failed[0]?.errorCode}`);
    }
    log(`put ${events.length} events for ${userId} on ${targets.streamName}`);

    const deadline = putAt + timeoutMs;
    while (results.size < 3 && now() < deadline) {
      if (!results.has('session-updater')) {
        const { Item } = await doc.send(
          new GetCommand({ TableName: table(targets, 'sessions'), Key: { userId, sk: 'CURRENT' } }),
        );
        if (Item) {
          results.set('session-updater', {
            fn: 'session-updater',
            ok: true,
            lagMs: now() - putAt,
            detail: `session item of ${userId}`,
          });
        }
      }
      if (!results.has('fraud-rules')) {
        const alerts = await receiveAlerts(clients, sub.queueUrl, userId);
        for (const a of alerts) if (a.alertId) alertIds.add(a.alertId);
        if (alerts.length > 0) {
          results.set('fraud-rules', {
            fn: 'fraud-rules',
            ok: true,
            lagMs: now() - putAt,
            detail: `alert ${[...alertIds].join(', ') || '(no id)'} on the alert topic`,
          });
        }
      }
      if (!results.has('metrics-emitter')) {
        const sum = await eventsSum(
          clients,
          targets,
          new Date(putAt - 10 * 60_000),
          new Date(now() + 60_000),
        );
        if (sum - baseline >= events.length) {
          results.set('metrics-emitter', {
            fn: 'metrics-emitter',
            ok: true,
            lagMs: now() - putAt,
            detail: `Events datapoints +${sum - baseline} (Environment=${targets.environment})`,
          });
        }
      }
      if (results.size < 3) await sleep(pollMs);
    }
  } finally {
    try {
      await clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: sub.subscriptionArn }));
    } catch (err) {
      cleanupErrors.push(`unsubscribe ${sub.subscriptionArn}: ${(err as Error).message}`);
    }
    try {
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: sub.queueUrl }));
    } catch (err) {
      cleanupErrors.push(`delete queue ${sub.queueUrl}: ${(err as Error).message}`);
    }
    // Every alert any rule could have raised for these events, seen or not (a second rule's alert
    // can arrive after the check passed): alert ids are deterministic per rule, user and event.
    const candidates = events.flatMap((e) => RULE_NAMES.map((rule) => alertIdOf(rule, e.userId, e.eventId)));
    cleanupErrors.push(
      ...(await cleanUp(clients, targets, userId, [...new Set([...alertIds, ...candidates])])),
    );
  }

  const waited = `nothing within ${Math.round(timeoutMs / 1000)} s`;
  const ordered: FunctionResult[] = (['session-updater', 'fraud-rules', 'metrics-emitter'] as const).map(
    (fn) =>
      results.get(fn) ?? {
        fn,
        ok: false,
        detail:
          fn === 'session-updater'
            ? `${waited}: no session item`
            : fn === 'fraud-rules'
              ? `${waited}: no alert (is the largePurchase threshold above ${options.largeAmount ?? 100_000}?)`
              : `${waited}: no Events datapoints`,
      },
  );
  return { userId, ok: ordered.every((r) => r.ok), results: ordered, cleanupErrors };
}

export function formatSmoke(result: SmokeResult): string {
  const lines = result.results.map(
    (r) =>
      `${r.ok ? 'PASS' : 'FAIL'}  ${r.fn.padEnd(16)} ${r.lagMs === undefined ? '        -' : `${(r.lagMs / 1000).toFixed(1).padStart(7)} s`}  ${r.detail}`,
  );
  const passed = result.results.filter((r) => r.ok).length;
  lines.push(
    `smoke: ${passed} passed, ${result.results.length - passed} failed (test user ${result.userId})`,
  );
  for (const e of result.cleanupErrors) lines.push(`cleanup: ${e}`);
  return lines.join('\n');
}
