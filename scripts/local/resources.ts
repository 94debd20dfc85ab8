/**
 * "Deploy locally": the stream, tables (keys and TTL from resources.json), queues (invalid
 * records, one on-failure queue per function), the alert topic and, for the demo and tests, an
 * SQS queue subscribed to that topic. Same physical names as Terraform. Idempotent.
 */

import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type KeySchemaElement,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../../lib/aws.js';
import {
  DEPLOYED_FUNCTIONS,
  type DeployedFunction,
  type FunctionSpec,
  loadFunction,
  loadResources,
  onFailureQueueName,
  physicalName,
  type TableSpec,
} from '../../lib/config.js';
import { sleep } from './processes.js';

export const LOCAL_ENVIRONMENT = 'local';

export interface LocalResources {
  environment: string;
  streamName: string;
  streamArn: string;
  /** resources.json key → physical table name. */
  tables: Record<string, string>;
  /** resources.json key → queue URL. */
  queues: Record<string, string>;
  /** resources.json key → topic ARN. */
  topics: Record<string, string>;
  /** resources.json key → secret name (optional: stacks created before secrets existed). */
  secrets?: Record<string, string>;
  /** resources.json key → bucket name. */
  buckets: Record<string, string>;
  onFailureQueues: Record<DeployedFunction, string>;
  /** An SQS queue subscribed to the alerts topic (SNS envelopes, message attributes included). */
  alertTapQueue: string;
  metricsNamespace: string;
}

function isCode(err: unknown, name: string): boolean {
  return (err as { name?: string }).name === name;
}

async function createStream(clients: Clients, name: string, shards: number): Promise<string> {
  try {
    await clients.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (err) {
    if (!isCode(err, 'ResourceInUseException')) throw err;
  }
  for (let i = 0; i < 200; i += 1) {
    const { StreamDescriptionSummary: s } = await clients.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (s?.StreamStatus === 'ACTIVE' && s.StreamARN) return s.StreamARN;
    await sleep(100);
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

const keySchema = (hashKey: string, rangeKey?: string): KeySchemaElement[] => [
  { AttributeName: hashKey, KeyType: 'HASH' },
  ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' as const }] : []),
];

async function createTable(clients: Clients, name: string, spec: TableSpec) {
  const keys = keySchema(spec.hashKey, spec.rangeKey);
  const indexes = spec.globalSecondaryIndexes ?? [];
  // Every key attribute is a string (resources.json promises it), declared once.
  const attributes = new Set([
    ...keys.map((k) => k.AttributeName as string),
    ...indexes.flatMap((i) => [i.hashKey, ...(i.rangeKey ? [i.rangeKey] : [])]),
  ]);
  try {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keys,
        AttributeDefinitions: [...attributes].map((a) => ({ AttributeName: a, AttributeType: 'S' })),
        GlobalSecondaryIndexes:
          indexes.length === 0
            ? undefined
            : indexes.map((i) => ({
                IndexName: i.name,
                KeySchema: keySchema(i.hashKey, i.rangeKey),
                Projection: { ProjectionType: 'ALL' },
              })),
      }),
    );
  } catch (err) {
    if (!isCode(err, 'ResourceInUseException')) throw err;
  }
  for (let i = 0; i < 100; i += 1) {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await sleep(100);
  }
  if (spec.ttlAttribute) {
    try {
      await clients.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        }),
      );
    } catch (err) {
      // Already enabled on a re-run.
      if (!isCode(err, 'ValidationException')) throw err;
    }
  }
}

async function createQueue(
  clients: Clients,
  name: string,
  spec: { maxMessageBytes?: number } = {},
): Promise<string> {
  // Without it SQS (and moto) default to 256 KiB, and the sender sizes messages to resources.json.
  const Attributes =
    spec.maxMessageBytes === undefined ? undefined : { MaximumMessageSize: String(spec.maxMessageBytes) };
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }));
  if (!QueueUrl) throw new Error(`no URL for queue ${name}`);
  return QueueUrl;
}

/** A random secret (as Terraform generates it), kept if it already exists. */
async function createSecret(clients: Clients, name: string): Promise<string> {
  const { region, endpoint } = clients.dynamodb.config;
  const secrets = new SecretsManagerClient({
    region,
    endpoint: endpoint ? await endpoint() : undefined,
    credentials: clients.dynamodb.config.credentials,
  });
  try {
    await secrets.send(
      new CreateSecretCommand({ Name: name, SecretString: randomBytes(32).toString('hex') }),
    );
  } catch (err) {
    if (!isCode(err, 'ResourceExistsException')) throw err;
  } finally {
    secrets.destroy();
  }
  return name;
}

/** Versioned, as in Terraform (an overwrite or delete keeps the previous version). */
async function createBucket(clients: Clients, name: string): Promise<void> {
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    if (!isCode(err, 'BucketAlreadyOwnedByYou') && !isCode(err, 'BucketAlreadyExists')) throw err;
  }
  await clients.s3.send(
    new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
  );
}

export async function createResources(
  clients: Clients,
  options: { environment?: string; shards?: number } = {},
): Promise<LocalResources> {
  const environment = options.environment ?? LOCAL_ENVIRONMENT;
  const spec = loadResources();
  const name = (key: string) => physicalName(environment, key);
  const streamName = name(spec.stream.name);
  const [streamArn] = await Promise.all([
    createStream(clients, streamName, options.shards ?? 2),
    ...Object.entries(spec.tables).map(([key, t]) => createTable(clients, name(key), t)),
  ]);
  const queues: Record<string, string> = {};
  for (const [key, queue] of Object.entries(spec.queues))
    queues[key] = await createQueue(clients, name(key), queue);
  const onFailureQueues = {} as Record<DeployedFunction, string>;
  for (const fn of DEPLOYED_FUNCTIONS)
    onFailureQueues[fn] = await createQueue(clients, onFailureQueueName(environment, fn));
  const topics: Record<string, string> = {};
  for (const key of Object.keys(spec.topics)) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: name(key) }));
    if (!TopicArn) throw new Error(`no ARN for topic ${name(key)}`);
    topics[key] = TopicArn;
  }
  const secrets: Record<string, string> = {};
  for (const key of Object.keys(spec.secrets ?? {})) secrets[key] = await createSecret(clients, name(key));
  const buckets: Record<string, string> = {};
  for (const key of Object.keys(spec.buckets ?? {})) {
    buckets[key] = name(key);
    await createBucket(clients, buckets[key]);
  }
  const alertTapQueue = await createQueue(clients, name('alerts-tap'));
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: alertTapQueue, AttributeNames: ['QueueArn'] }),
  );
  if (topics.alerts && Attributes?.QueueArn) {
    await clients.sns.send(
      new SubscribeCommand({ TopicArn: topics.alerts, Protocol: 'sqs', Endpoint: Attributes.QueueArn }),
    );
  }
  return {
    environment,
    streamName,
    streamArn,
    tables: Object.fromEntries(Object.keys(spec.tables).map((k) => [k, name(k)])),
    queues,
    topics,
    secrets,
    buckets,
    onFailureQueues,
    alertTapQueue,
    metricsNamespace: spec.metrics.namespace,
  };
}

/** The function's environment as Terraform sets it: function.json + ENVIRONMENT + one variable per resource. */
export function functionEnvironment(
  fn: FunctionSpec | DeployedFunction,
  res: LocalResources,
): Record<string, string> {
  const spec = typeof fn === 'string' ? loadFunction(fn) : fn;
  const env: Record<string, string> = { ...spec.environment, ENVIRONMENT: res.environment };
  for (const [variable, ref] of Object.entries(spec.resources.tables)) {
    const table = res.tables[ref.table];
    if (!table) throw new Error(`${spec.name}: ${variable} names unknown table ${ref.table}`);
    env[variable] = table;
  }
  for (const [variable, ref] of Object.entries(spec.resources.queues)) {
    const queue = res.queues[ref.queue];
    if (!queue) throw new Error(`${spec.name}: ${variable} names unknown queue ${ref.queue}`);
    env[variable] = queue;
  }
  for (const [variable, ref] of Object.entries(spec.resources.topics)) {
    const topic = res.topics[ref.topic];
    if (!topic) throw new Error(`${spec.name}: ${variable} names unknown topic ${ref.topic}`);
    env[variable] = topic;
  }
  for (const [variable, ref] of Object.entries(spec.resources.secrets ?? {})) {
    const secret = res.secrets?.[ref.secret];
    if (!secret)
      throw new Error(`${spec.name}: ${variable} names unknown secret ${ref.secret} (re-run make local-up)`);
    env[variable] = secret;
  }
  for (const [variable, ref] of Object.entries(spec.resources.buckets ?? {})) {
    const bucket = res.buckets[ref.bucket];
    if (!bucket) throw new Error(`${spec.name}: ${variable} names unknown bucket ${ref.bucket}`);
    env[variable] = bucket;
  }
  if (spec.resources.putMetricData) env.METRICS_NAMESPACE = res.metricsNamespace;
  return env;
}
