import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { aKinesisEvent, aLambdaContext, anEvent, aRecord } from '../helpers/records.js';

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter'];
const build = () => execFileSync('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, encoding: 'utf8' });
const digest = (fn: string) =>
  createHash('sha256')
    .update(readFileSync(join(ROOT, 'dist', `${fn}.zip`)))
    .digest('hex');

describe('make build', () => {
  let output: string;
  let first: string[];

  beforeAll(() => {
    output = build();
    first = FUNCTIONS.map(digest);
  }, 120_000);

  it('prints the size of every bundle', () => {
    for (const fn of FUNCTIONS)
      expect(output).toMatch(new RegExp(`^${fn}\\s+\\d+\\.\\d KiB\\s+\\d+\\.\\d KiB$`, 'm'));
  });

  it('zips each function on its own with its handler and the X-Ray tracer; the source maps stay in dist/, out of the zip', () => {
    for (const fn of FUNCTIONS) {
      const files = unzipSync(readFileSync(join(ROOT, 'dist', `${fn}.zip`)));
      // Lambda runs without --enable-source-maps, so a map in the zip would only be uploaded and unpacked.
      expect(Object.keys(files).sort()).toEqual(['index.mjs', 'tracer.mjs']);
      for (const map of ['index.mjs.map', 'tracer.mjs.map'])
        expect(existsSync(join(ROOT, 'dist', fn, map))).toBe(true);
      expect(Buffer.from(files['index.mjs'] as Uint8Array).toString()).toMatch(/export\s*\{[^}]*\bhandler\b/);
    }
  });

  it('gives the same bytes for the same input', () => {
    build();
    expect(FUNCTIONS.map(digest)).toEqual(first);
  }, 120_000);

  it('keeps the fraud rules out of the session bundle (tree-shaken, separate bundles)', () => {
    const sessions = readFileSync(join(ROOT, 'dist', 'session-updater', 'index.mjs'), 'utf8');
    expect(sessions).not.toContain('purchaseVelocity');
    expect(sessions).not.toContain('PutMetricData');
  });

  it('keeps the X-Ray tracer out of index.mjs: the handler imports tracer.mjs only when tracing is active', () => {
    for (const fn of FUNCTIONS) {
      const index = readFileSync(join(ROOT, 'dist', fn, 'index.mjs'), 'utf8');
      const tracer = readFileSync(join(ROOT, 'dist', fn, 'tracer.mjs'), 'utf8');
      expect(index).not.toContain('XRaySDKInstrumentation');
      expect(index).toContain('import("./tracer.mjs")');
      expect(tracer).toContain('XRaySDKInstrumentation');
    }
  });

  describe('the bundled fraud-rules handler, in a fresh process', () => {
    // A batch without purchases: the handler answers it without calling AWS.
    const event = JSON.stringify(aKinesisEvent([aRecord(anEvent({ eventType: 'page_view' }))]));
    const context = JSON.stringify({
      ...aLambdaContext('pulse-dev-fraud-rules'),
      awsRequestId: 'req-bundle',
      functionVersion: '3',
    });
    const CHILD = `
      const { handler } = await import(process.env.BUNDLE);
      // JSON carries no functions: give the context back the one Lambda's has and the handler reads.
      const context = { ...JSON.parse(process.env.CONTEXT), getRemainingTimeInMillis: () => 60_000 };
      await handler(JSON.parse(process.env.EVENT), context);
    `;
    const run = (env: Record<string, string>) => {
      const { NODE_OPTIONS: _jest, ...parent } = process.env;
      const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], {
        env: {
          ...parent,
          BUNDLE: join(ROOT, 'dist', 'fraud-rules', 'index.mjs'),
          EVENT: event,
          CONTEXT: context,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          FRAUD_STATE_TABLE: 'pulse-test-fraud-state',
          ALERTS_TABLE: 'pulse-test-alerts',
          ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:pulse-test-alerts',
          ENVIRONMENT: 'test',
          FRAUD_RULES: '{}',
          LOG_LEVEL: 'DEBUG',
          // What Lambda sets in an execution environment.
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_FUNCTION_NAME: 'pulse-dev-fraud-rules',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          _X_AMZN_TRACE_ID: 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1',
          ...env,
        },
        encoding: 'utf8',
      });
      return stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    };

    it('logs the batch with the Lambda request id, function name and version, cold start and X-Ray trace id', () => {
      const batch = run({ TRACING_MODE: 'PassThrough' }).find((l) => l.message === 'batch processed');
      expect(batch).toMatchObject({
        level: 'INFO',
        service: 'fraud-rules',
        function_request_id: 'req-bundle',
        function_name: 'pulse-dev-fraud-rules',
        function_version: '3',
        cold_start: true,
        xray_trace_id: '1-67891233-abcdef012345678912345678',
      });
    });

    it('loads tracer.mjs and traces its SDK clients when TRACING_MODE is Active, and not otherwise', () => {
      const message = 'SDK clients traced with X-Ray';
      // DynamoDB, SNS and Kinesis (the re-drive reads set-aside ranges from the stream).
      expect(run({ TRACING_MODE: 'Active' })).toContainEqual(
        expect.objectContaining({ level: 'DEBUG', message, clients: 3, enabled: true }),
      );
      expect(run({ TRACING_MODE: 'PassThrough' }).map((l) => l.message)).not.toContain(message);
    });
  });
});
