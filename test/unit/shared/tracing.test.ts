import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLogger } from '../../../services/shared/logger.js';
import { traceClients, tracingActive } from '../../../services/shared/tracing.js';

// The middleware aws-xray-sdk-core adds to a traced SDK v3 client.
const XRAY = 'XRaySDKInstrumentation';
const traced = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().some((m) => m.startsWith(XRAY));
const LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_LAMBDA_FUNCTION_NAME: 'pulse-test' };

function clients() {
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  const sqs = new SQSClient(config);
  return { db, sqs };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { logger: createLogger('pulse-test', 'DEBUG', (l) => lines.push(JSON.parse(l))), lines };
}

describe('X-Ray tracing of the SDK clients', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('is active only when TRACING_MODE is Active (the Terraform tracing_mode value)', () => {
    expect(tracingActive({ TRACING_MODE: 'Active' })).toBe(true);
    expect(tracingActive({ TRACING_MODE: 'PassThrough' })).toBe(false);
    expect(tracingActive({})).toBe(false);
  });

  it('leaves the clients untouched when tracing is not active', async () => {
    Object.assign(process.env, LAMBDA);
    const { db, sqs } = clients();
    const { logger, lines } = capture();
    await traceClients('pulse-test', [db, sqs], logger, { TRACING_MODE: 'PassThrough' });
    expect(traced(db)).toBe(false);
    expect(traced(sqs)).toBe(false);
    expect(lines).toEqual([]);
  });

  it('adds X-Ray subsegments to every client, the document client through its DynamoDB client, when tracing is active', async () => {
    Object.assign(process.env, LAMBDA);
    const base = new DynamoDBClient({ region: 'us-east-1' });
    const db = DynamoDBDocumentClient.from(base);
    const { sqs } = clients();
    const { logger, lines } = capture();
    await traceClients('pulse-test', [db, sqs], logger, { TRACING_MODE: 'Active' });
    expect(traced(base)).toBe(true);
    expect(traced(sqs)).toBe(true);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'SDK clients traced with X-Ray',
        clients: 2,
        enabled: true,
      }),
    ]);
  });

  it('logs an error instead of failing the function when the tracer cannot be set up', async () => {
    Object.assign(process.env, LAMBDA);
    const { sqs } = clients();
    const { logger, lines } = capture();
    // Powertools warns on console before the X-Ray SDK throws; the test needs only our log line.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    // Not an SDK client: the X-Ray SDK throws when it patches it.
    await expect(
      traceClients('pulse-test', [sqs, {}], logger, { TRACING_MODE: 'Active' }),
    ).resolves.toBeUndefined();
    warn.mockRestore();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'X-Ray tracing could not be set up; running untraced',
        error: expect.objectContaining({ name: 'TypeError' }),
      }),
    ]);
  });
});
