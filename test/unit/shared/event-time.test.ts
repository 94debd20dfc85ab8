/**
 * MAX_EVENT_AHEAD_SECONDS: one setting, read at cold start by every function, passed to the one
 * shared decoder, so the three functions judge a record's event time the same way.
 */
import type { Context } from 'aws-lambda';
import { AlertLog } from '../../../services/fraud-rules/alerts.js';
import { loadConfig as loadFraudConfig } from '../../../services/fraud-rules/config.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { parseRules } from '../../../services/fraud-rules/rules.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import { loadConfig as loadMetricsConfig } from '../../../services/metrics-emitter/config.js';
import { emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { loadConfig as loadSessionsConfig } from '../../../services/session-updater/config.js';
import { SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { maxEventAheadSeconds } from '../../../services/shared/config.js';
import { ConfigError } from '../../../services/shared/errors.js';
import type { DecodeOptions } from '../../../services/shared/kinesis.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo, FakeSns } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import {
  aKinesisEvent,
  aLambdaContext,
  anEvent,
  aPurchase,
  aRecord,
  MINUTE,
  T0,
} from '../../helpers/records.js';
import { FakeCloudWatch } from '../metrics-emitter/fake-cloudwatch.js';

const loaders = {
  'session-updater': (extra: Record<string, string>) =>
    loadSessionsConfig({ SESSIONS_TABLE: 's', INVALID_RECORDS_QUEUE_URL: 'q', ...extra }),
  'fraud-rules': (extra: Record<string, string>) =>
    loadFraudConfig({
      FRAUD_STATE_TABLE: 'f',
      ALERTS_TABLE: 'a',
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
      ENVIRONMENT: 'test',
      FRAUD_RULES: '{}',
      ...extra,
    }),
  'metrics-emitter': (extra: Record<string, string>) =>
    loadMetricsConfig({ WATERMARKS_TABLE: 'w', ENVIRONMENT: 'test', ...extra }),
};

describe('MAX_EVENT_AHEAD_SECONDS', () => {
  it('defaults to 300 and takes any integer from 0 to 86400', () => {
    expect(maxEventAheadSeconds({})).toBe(300);
    expect(maxEventAheadSeconds({ MAX_EVENT_AHEAD_SECONDS: '' })).toBe(300);
    expect(maxEventAheadSeconds({ MAX_EVENT_AHEAD_SECONDS: '0' })).toBe(0);
    expect(maxEventAheadSeconds({ MAX_EVENT_AHEAD_SECONDS: '86400' })).toBe(86_400);
  });

  it.each(['-1', '1.5', '86401', 'ten', '1e3', '0x10', '300s'])(
    'rejects %j with a ConfigError naming it',
    (raw) => {
      const attempt = () => maxEventAheadSeconds({ MAX_EVENT_AHEAD_SECONDS: raw });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(
        `environment variable MAX_EVENT_AHEAD_SECONDS must be an integer from 0 to 86400 (seconds), got ${JSON.stringify(raw)}`,
      );
    },
  );

  it.each(Object.keys(loaders))('%s reads it at cold start and fails on a bad value', (fn) => {
    const load = loaders[fn as keyof typeof loaders];
    expect(load({}).decode).toEqual({ maxEventAheadMs: 300_000 });
    expect(load({ MAX_EVENT_AHEAD_SECONDS: '60' }).decode).toEqual({ maxEventAheadMs: 60_000 });
    expect(() => load({ MAX_EVENT_AHEAD_SECONDS: '-5' })).toThrow(/MAX_EVENT_AHEAD_SECONDS/);
  });
});

describe('the three functions agree on a record', () => {
  const decode: DecodeOptions = { maxEventAheadMs: 60_000 };
  // A purchase 61 s ahead of its arrival: invalid at a 60 s tolerance, valid at the default 300 s.
  const batch = () => [
    aRecord(aPurchase({ userId: 'u1', amount: 5, timestamp: T0 + 61_000 }), { arrivalMs: T0 }),
    aRecord(anEvent({ userId: 'u2', timestamp: T0 }), { arrivalMs: T0 + MINUTE }),
  ];

  it('session-updater quarantines it', async () => {
    const dynamo = new FakeDynamo({ s: ['userId', 'sk'] });
    const sqs = new FakeSqs();
    const { summary } = await updateSessions(aKinesisEvent(batch()), {
      store: new SessionStore({ db: dynamo.asClient(), tableName: 's', closedSessionTtlDays: 90 }),
      sqs: sqs.asClient(),
      invalidRecordsQueueUrl: 'q',
      functionName: 'session-updater',
      rules: { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 200 },
      logger: silentLogger,
      decode,
    });
    expect(summary).toMatchObject({ invalid: 1, applied: 1 });
    expect(sqs.messages.map((m) => m.body.reason)).toEqual([
      "timestamp is 61 s ahead of the record's arrival time; the tolerance is 60 s",
    ]);
  });

  it('fraud-rules skips it', async () => {
    const db = new FakeDynamo({ f: 'userId', a: 'alertId' });
    const rules = parseRules({});
    const { summary } = await detectFraud(aKinesisEvent(batch()), {
      store: new FraudStateStore({ db, tableName: 'f', ttlDays: 7 }),
      alerts: new AlertLog({
        db,
        sns: new FakeSns(),
        tableName: 'a',
        topicArn: 't',
        environment: 'test',
        ttlDays: 30,
        cooldownMinutes: rules.cooldownMinutes,
      }),
      rules,
      logger: silentLogger,
      decode,
    });
    expect(summary).toMatchObject({ invalid: 1, purchases: 0 });
  });

  it('metrics-emitter counts it as invalid', async () => {
    const dynamo = new FakeDynamo({ w: ['pk'] });
    const { summary } = await emitBatchMetrics(aKinesisEvent(batch()), {
      cloudwatch: new FakeCloudWatch(),
      watermarks: new WatermarkStore({ db: dynamo.asClient(), tableName: 'w' }),
      namespace: 'Pulse',
      environment: 'test',
      functionName: 'metrics-emitter',
      maxEventTypes: 50,
      recentEventIdsLimit: 5000,
      duplicateWindowSeconds: 120,
      logger: silentLogger,
      now: () => T0 + 2 * MINUTE,
      decode,
    });
    expect(summary).toMatchObject({ invalid: 1 });
  });
});

describe('handler wiring', () => {
  it('fraud-rules passes the MAX_EVENT_AHEAD_SECONDS it read at cold start to the decoder', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      FRAUD_STATE_TABLE: 'f',
      ALERTS_TABLE: 'a',
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
      ENVIRONMENT: 'test',
      FRAUD_RULES: '{}',
      MAX_EVENT_AHEAD_SECONDS: '0',
    });
    type Handler = (event: unknown, context: Context) => Promise<unknown>;
    let handler: Handler | undefined;
    try {
      jest.isolateModules(() => {
        handler = (require('../../../services/fraud-rules/handler.js') as { handler: Handler }).handler;
      });
    } finally {
      process.env = saved;
    }
    // A purchase one second ahead: invalid at a tolerance of 0, so no state is read (no AWS call).
    const ahead = aRecord(aPurchase({ userId: 'u1', timestamp: T0 + 1_000 }), { arrivalMs: T0 });
    await expect(handler!(aKinesisEvent([ahead]), aLambdaContext())).resolves.toEqual({
      batchItemFailures: [],
    });
  });
});
