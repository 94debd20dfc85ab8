import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createLogger, RESERVED_FIELDS } from '../../../services/shared/logger.js';
import { aLambdaContext } from '../../helpers/records.js';

type Entry = Record<string, unknown>;

/** Runs `fn` with environment variables set (undefined removes one), restoring them afterwards. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    process.env = saved;
  }
}

/** A logger created the way Lambda starts an on-demand execution environment (so cold_start counts). */
function capture(level = 'DEBUG') {
  const lines: Entry[] = [];
  const logger = withEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }, () =>
    createLogger('pulse-test', level, (line) => lines.push(JSON.parse(line) as Entry)),
  );
  return { logger, lines };
}

describe('logger (Powertools)', () => {
  it('writes one JSON line with the Powertools fields and the context keys', () => {
    const { logger, lines } = capture();
    logger.info('batch processed', { records: 3, failures: 0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 'INFO',
      message: 'batch processed',
      service: 'pulse-test',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      sampling_rate: 0,
      records: 3,
      failures: 0,
    });
  });

  it('adds the Lambda request id, function name and version, and cold start once the handler adds its context', () => {
    const { logger, lines } = capture();
    logger.addContext({
      ...aLambdaContext('pulse-dev-fraud-rules'),
      awsRequestId: 'req-a',
      functionVersion: '7',
    });
    logger.info('first');
    logger.addContext({
      ...aLambdaContext('pulse-dev-fraud-rules'),
      awsRequestId: 'req-b',
      functionVersion: '7',
    });
    logger.info('second');
    expect(lines[0]).toMatchObject({
      function_request_id: 'req-a',
      function_name: 'pulse-dev-fraud-rules',
      function_version: '7',
      function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:pulse-dev-fraud-rules',
      function_memory_size: '256',
      cold_start: true,
    });
    expect(lines[1]).toMatchObject({ function_request_id: 'req-b', cold_start: false });
  });

  it('adds the X-Ray trace id when the invocation carries one, and no field when it does not', () => {
    const { logger, lines } = capture();
    withEnv(
      { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1' },
      () => logger.info('traced'),
    );
    withEnv({ _X_AMZN_TRACE_ID: undefined }, () => logger.info('untraced'));
    expect(lines[0]?.xray_trace_id).toBe('1-5759e988-bd862e3fe1be46a994272793');
    expect(lines[1]).not.toHaveProperty('xray_trace_id');
  });

  it('never lets a context key replace a field the logger owns: the value is kept as context_<key>', () => {
    const { logger, lines } = capture();
    logger.addContext({ ...aLambdaContext('pulse-fn'), awsRequestId: 'req-real' });
    const spoof = Object.fromEntries([...RESERVED_FIELDS].map((k) => [k, `spoofed ${k}`]));
    logger.warn('clash', spoof);
    // One line: no "reserved key dropped" warning from Powertools either.
    expect(lines).toHaveLength(1);
    const entry = lines[0] as Entry;
    expect(entry).toMatchObject({
      level: 'WARN',
      message: 'clash',
      service: 'pulse-test',
      function_request_id: 'req-real',
      function_name: 'pulse-fn',
      function_version: '$LATEST',
      cold_start: true,
    });
    for (const key of RESERVED_FIELDS) {
      expect(entry[key]).not.toBe(`spoofed ${key}`);
      expect(entry[`context_${key}`]).toBe(`spoofed ${key}`);
    }
    expect(RESERVED_FIELDS).toEqual(
      new Set([
        'level',
        'message',
        'timestamp',
        'service',
        'sampling_rate',
        'cold_start',
        'function_arn',
        'function_memory_size',
        'function_name',
        'function_request_id',
        'function_version',
        'xray_trace_id',
        'tenant_id',
      ]),
    );
  });

  it('writes an error with name, message, stack and its cause chain, at any depth of the context', () => {
    const { logger, lines } = capture();
    const root = new Error('socket hang up');
    const middle = new Error('PutItem failed', { cause: root });
    const top = new Error('user update failed', { cause: middle });
    logger.error('user update failed', {
      userId: 'u1',
      detail: { error: top },
      reason: new Error('x', { cause: 'a string' }),
    });
    const entry = lines[0] as Entry & { detail: { error: Entry }; reason: Entry };
    expect(entry.detail.error).toMatchObject({
      name: 'Error',
      message: 'user update failed',
      stack: expect.stringContaining('user update failed'),
      cause: {
        name: 'Error',
        message: 'PutItem failed',
        cause: { name: 'Error', message: 'socket hang up' },
      },
    });
    expect(entry.reason.cause).toBe('a string');
  });

  describe('an AWS SDK error', () => {
    let server: Server;
    let endpoint: string;

    beforeAll(async () => {
      // Answers every DynamoDB call the way DynamoDB answers a missing table.
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(400, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': 'REQ-FROM-DYNAMODB',
          });
          res.end(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
              message: 'Requested resource not found',
            }),
          );
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("is written with the SDK's $metadata (request id, HTTP status) and $fault, also as a cause, without the raw response", async () => {
      const client = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      const sdkError = await client
        .send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'a' } } }))
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      client.destroy();
      const { logger, lines } = capture();
      logger.error('rule state could not be read', {
        error: sdkError,
        wrapped: new Error('batch failed', { cause: sdkError }),
      });
      const entry = lines[0] as Entry & { error: Entry; wrapped: { cause: Entry } };
      const expected = {
        name: 'ResourceNotFoundException',
        message: 'Requested resource not found',
        $fault: 'client',
        $metadata: expect.objectContaining({
          requestId: 'REQ-FROM-DYNAMODB',
          httpStatusCode: 400,
          attempts: 1,
        }),
      };
      expect(entry.error).toMatchObject(expected);
      expect(entry.wrapped.cause).toMatchObject(expected);
      expect(JSON.stringify(entry)).not.toContain('$response');
    });
  });

  describe('level', () => {
    it('drops entries below the level given', () => {
      const { logger, lines } = capture('WARN');
      logger.info('quiet');
      logger.warn('loud');
      expect(lines.map((l) => l.message)).toEqual(['loud']);
    });

    it('reads LOG_LEVEL in any case, and POWERTOOLS_LOG_LEVEL before it', () => {
      const messages = (env: Record<string, string | undefined>) =>
        withEnv(env, () => {
          const lines: Entry[] = [];
          const logger = createLogger('pulse-test', undefined, (l) => lines.push(JSON.parse(l) as Entry));
          logger.debug('debug');
          logger.info('info');
          logger.error('error');
          return lines.map((l) => l.message);
        });
      expect(messages({ POWERTOOLS_LOG_LEVEL: undefined, LOG_LEVEL: 'debug' })).toEqual([
        'debug',
        'info',
        'error',
      ]);
      expect(messages({ POWERTOOLS_LOG_LEVEL: undefined, LOG_LEVEL: 'ERROR' })).toEqual(['error']);
      expect(messages({ POWERTOOLS_LOG_LEVEL: 'error', LOG_LEVEL: 'DEBUG' })).toEqual(['error']);
      expect(messages({ POWERTOOLS_LOG_LEVEL: undefined, LOG_LEVEL: undefined })).toEqual(['info', 'error']);
    });
  });

  it('without a write hook, writes INFO and DEBUG to stdout and WARN and ERROR to stderr (Lambda sends both to CloudWatch)', () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = createLogger('pulse-test', 'DEBUG');
      logger.info('to stdout', { n: 1 });
      logger.error('to stderr', { n: 2 });
      const parse = (spy: jest.SpyInstance) => spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Entry);
      expect(parse(out)).toEqual([expect.objectContaining({ level: 'INFO', message: 'to stdout', n: 1 })]);
      expect(parse(err)).toEqual([expect.objectContaining({ level: 'ERROR', message: 'to stderr', n: 2 })]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
