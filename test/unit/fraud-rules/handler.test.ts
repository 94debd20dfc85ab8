import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { aKinesisEvent, aLambdaContext, anEvent, aRawRecord, aRecord } from '../../helpers/records.js';

type Handler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

const ENV = {
  FRAUD_STATE_TABLE: 'pulse-test-fraud-state',
  ALERTS_TABLE: 'pulse-test-alerts',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:pulse-test-alerts',
  ENVIRONMENT: 'test',
  FRAUD_RULES: '{"largePurchase":{"threshold":500}}',
};

function loadHandler(env: Record<string, string>): Handler {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      handler = (require('../../../services/fraud-rules/handler.js') as { handler: Handler }).handler;
    });
    return handler as Handler;
  } finally {
    process.env = saved;
  }
}

describe('fraud-rules handler', () => {
  it('loads its configuration at cold start and answers a batch without purchases without calling AWS', async () => {
    const handler = loadHandler(ENV);
    const response = await handler(
      aKinesisEvent([aRecord(anEvent()), aRawRecord('{')]),
      aLambdaContext('pulse-test-fraud'),
    );
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('fails the cold start with a ConfigError naming a bad rule setting', () => {
    expect(() => loadHandler({ ...ENV, FRAUD_RULES: '{"spendVelocity":{"amount":-1}}' })).toThrow(
      'FRAUD_RULES.spendVelocity.amount must be a finite number > 0, got -1',
    );
  });
});

describe('fraud-rules handler: a republish invocation', () => {
  it('refuses an age or limit that is not a whole number in range, before calling AWS', async () => {
    const handler = loadHandler(ENV) as unknown as (event: unknown, context: Context) => Promise<unknown>;
    await expect(
      handler({ pulse: 'republish-pending', maxAlerts: 0 }, aLambdaContext('pulse-test-fraud')),
    ).rejects.toMatchObject({ name: 'RepublishRequestError', message: expect.stringContaining('maxAlerts') });
    await expect(
      handler({ pulse: 'republish-pending', minAgeMs: -5 }, aLambdaContext('pulse-test-fraud')),
    ).rejects.toMatchObject({ name: 'RepublishRequestError', message: expect.stringContaining('minAgeMs') });
  });
});
