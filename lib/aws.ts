/**
 * SDK clients for the pulse command, scripts and tests. Endpoints come from the standard
 * AWS_ENDPOINT_URL[_<SERVICE>] variables (set by the local stack, or by the user for LocalStack). Request handlers are the
 * SDK's own options objects, except for Kinesis: its default handler is HTTP/2, built from the
 * same options too, and SubscribeToShard over HTTP/2 receives no events from kinesis-local (the
 * runner integration test times out). Kinesis therefore gets the HTTP/1.1 handler by class, the
 * only reason for the @smithy/node-http-handler devDependency.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface Endpoints {
  /** Everything but Kinesis (moto, or LocalStack). */
  default: string;
  kinesis: string;
}

export const LOCAL_REGION = 'us-east-1';

/** Endpoints as the environment names them, for clients built in this process. */
export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoints | undefined {
  const def = env.AWS_ENDPOINT_URL;
  const kinesis = env.AWS_ENDPOINT_URL_KINESIS ?? def;
  if (!def || !kinesis) return undefined;
  return { default: def, kinesis };
}

/** The environment variables that point the SDK (in any process) at the given endpoints. */
export function endpointEnv(endpoints: Endpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoints.default,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_REGION: process.env.AWS_REGION ?? LOCAL_REGION,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  };
}

function handler(requestTimeout = 30_000) {
  const agent = { keepAlive: true, maxSockets: 64 };
  return {
    connectionTimeout: 3_000,
    requestTimeout,
    httpAgent: agent,
    // kinesis-local's TLS port uses a self-signed certificate; only local endpoints are ever https here.
    httpsAgent: { ...agent, rejectUnauthorized: false },
  };
}

export interface Clients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  cloudwatch: CloudWatchClient;
  s3: S3Client;
  destroy(): void;
}

export function makeClients(endpoints: Endpoints, options: { maxAttempts?: number } = {}): Clients {
  const base = {
    region: process.env.AWS_REGION ?? LOCAL_REGION,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
    maxAttempts: options.maxAttempts ?? 5,
  };
  const clients = {
    // No request timeout on Kinesis: SubscribeToShard responses stay open for minutes.
    kinesis: new KinesisClient({
      ...base,
      endpoint: endpoints.kinesis,
      requestHandler: new NodeHttpHandler(handler(0)),
    }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.default, requestHandler: handler() }),
    sqs: new SQSClient({ ...base, endpoint: endpoints.default, requestHandler: handler() }),
    sns: new SNSClient({ ...base, endpoint: endpoints.default, requestHandler: handler() }),
    cloudwatch: new CloudWatchClient({ ...base, endpoint: endpoints.default, requestHandler: handler() }),
    // moto serves S3 on its one port: path-style, the bucket cannot be a host name there.
    s3: new S3Client({
      ...base,
      endpoint: endpoints.default,
      forcePathStyle: true,
      requestHandler: handler(),
    }),
  };
  return {
    ...clients,
    destroy() {
      for (const c of Object.values(clients)) c.destroy();
    },
  };
}
