/**
 * One environment as the CLI sees it: physical names (pulse-<env>-<key>, from
 * services/resources.json like Terraform and the local stack) and SDK clients. Deployed
 * environments use the SDK's standard credentials, region and AWS_ENDPOINT_URL[_<SERVICE>];
 * `local` also finds the local stack's endpoints in .local/stack.json when they are not exported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Endpoints, endpointsFromEnv, LOCAL_REGION, makeClients } from '../../lib/aws.js';
import {
  type DeployedFunction,
  FUNCTIONS,
  type FunctionName,
  loadResources,
  onFailureQueueName,
  physicalName,
} from '../../lib/config.js';
import { localPaths } from '../../lib/paths.js';
import { snsClientConfig } from '../../services/shared/clients.js';
import { checkAwsSetup } from './aws-setup.js';
import type { EnvName } from './environments.js';

type Sender = { send(command: unknown): Promise<unknown> };

export interface Names {
  stream: string;
  table(key: string): string;
  secret(key: string): string;
  /** Local only: deployed bucket names carry the account id; read them from the function's environment. */
  bucket(key: string): string;
  queue(key: string): string;
  topic(key: string): string;
  function(fn: DeployedFunction): string;
  onFailureQueue(fn: FunctionName): string;
}

export interface Target {
  env: EnvName;
  names: Names;
  /** Typed loosely (`send` only) so unit tests can hand in fakes. */
  kinesis: Pick<KinesisClient, 'send'>;
  db: Pick<DynamoDBDocumentClient, 'send'>;
  sqs: Pick<SQSClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
  secrets: Pick<SecretsManagerClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
  queueUrl(name: string): Promise<string>;
  topicArn(key: string): Promise<string>;
  /** Local only: the runner's state folder (checkpoints/<fn>.json). */
  localStateDir?: string;
  close(): void;
}

export function namesFor(env: string): Names {
  const spec = loadResources();
  return {
    stream: physicalName(env, spec.stream.name),
    table: (key) => physicalName(env, key),
    secret: (key) => physicalName(env, key),
    bucket: (key) => physicalName(env, key),
    queue: (key) => physicalName(env, key),
    topic: (key) => physicalName(env, key),
    function: (fn) => physicalName(env, fn),
    onFailureQueue: (fn) => onFailureQueueName(env, fn),
  };
}

export function isFunctionName(value: string): value is FunctionName {
  return (FUNCTIONS as readonly string[]).includes(value);
}

/** Endpoints of the local stack: exported variables first, else what `make local-up` recorded. */
export function localEndpoints(env: Record<string, string | undefined>): Endpoints {
  const exported = endpointsFromEnv(env as NodeJS.ProcessEnv);
  if (exported) return exported;
  const { stackFile } = localPaths(env.PULSE_STATE_DIR);
  if (existsSync(stackFile)) {
    const state = JSON.parse(readFileSync(stackFile, 'utf8')) as { endpoints?: Endpoints };
    if (state.endpoints) return state.endpoints;
  }
  throw new Error(
    'no local stack: run `make local-up` (or export AWS_ENDPOINT_URL, see `npx tsx scripts/local/stack.ts env`)',
  );
}

/** Lookups by name, cached: a queue URL or topic ARN is asked for once per run. */
function resolvers(sqs: Sender, sns: Sender, names: Names) {
  const queues = new Map<string, Promise<string>>();
  const topics = new Map<string, Promise<string>>();
  return {
    queueUrl(name: string): Promise<string> {
      let url = queues.get(name);
      if (!url) {
        url = (sqs.send(new GetQueueUrlCommand({ QueueName: name })) as Promise<{ QueueUrl?: string }>).then(
          (out) => {
            if (!out.QueueUrl) throw new Error(`queue ${name} not found`);
            return out.QueueUrl;
          },
        );
        queues.set(name, url);
      }
      return url;
    },
    topicArn(key: string): Promise<string> {
      let arn = topics.get(key);
      if (!arn) {
        const wanted = names.topic(key);
        arn = (async () => {
          let token: string | undefined;
          do {
            const out = (await sns.send(new ListTopicsCommand({ NextToken: token }))) as {
              Topics?: Array<{ TopicArn?: string }>;
              NextToken?: string;
            };
            const hit = out.Topics?.find((t) => t.TopicArn?.endsWith(`:${wanted}`));
            if (hit?.TopicArn) return hit.TopicArn;
            token = out.NextToken;
          } while (token);
          throw new Error(`topic ${wanted} not found`);
        })();
        topics.set(key, arn);
      }
      return arn;
    },
  };
}

export async function connect(env: EnvName, processEnv: Record<string, string | undefined>): Promise<Target> {
  const names = namesFor(env);
  if (env === 'local') {
    const endpoints = localEndpoints(processEnv);
    const clients = makeClients(endpoints, { maxAttempts: 3 });
    const lambda = new LambdaClient({
      region: processEnv.AWS_REGION ?? LOCAL_REGION,
      endpoint: endpoints.default,
    });
    const secrets = new SecretsManagerClient({
      region: processEnv.AWS_REGION ?? LOCAL_REGION,
      endpoint: endpoints.default,
    });
    return {
      env,
      names,
      kinesis: clients.kinesis,
      db: DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      sqs: clients.sqs,
      sns: clients.sns,
      cloudwatch: clients.cloudwatch,
      lambda,
      secrets,
      s3: clients.s3,
      ...resolvers(clients.sqs, clients.sns, names),
      localStateDir: localPaths(processEnv.PULSE_STATE_DIR).stateDir,
      close() {
        clients.destroy();
        lambda.destroy();
        secrets.destroy();
      },
    };
  }
  const base = { maxAttempts: 5, retryMode: 'adaptive' as const };
  const dynamodb = new DynamoDBClient(base);
  const clients = {
    kinesis: new KinesisClient(base),
    sqs: new SQSClient(base),
    // Replay publishes alerts through it: the SNS variant's attempts and timeouts fit in a claim's lease.
    sns: new SNSClient(snsClientConfig),
    cloudwatch: new CloudWatchClient(base),
    lambda: new LambdaClient(base),
    secrets: new SecretsManagerClient(base),
    s3: new S3Client(base),
  };
  try {
    await checkAwsSetup(env, {
      region: () => dynamodb.config.region(),
      credentials: () => dynamodb.config.credentials(),
    });
  } catch (err) {
    dynamodb.destroy();
    for (const c of Object.values(clients)) c.destroy();
    throw err;
  }
  return {
    env,
    names,
    ...clients,
    db: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    ...resolvers(clients.sqs, clients.sns, names),
    close() {
      dynamodb.destroy();
      for (const c of Object.values(clients)) c.destroy();
    },
  };
}

export const stateFile = (dir: string, fn: FunctionName) => join(dir, 'checkpoints', `${fn}.json`);
