import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig } from '../shared/clients.js';
import { lambdaDeadline } from '../shared/deadline.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { ledgerFromEnv } from '../shared/failure-ledger.js';
import { createLogger } from '../shared/logger.js';
import { tombstonesFromEnv } from '../shared/tombstones.js';
import { traceClients } from '../shared/tracing.js';
import { alertLogFrom } from './alerts.js';
import { loadConfig } from './config.js';
import { detectFraud } from './detector.js';
import { isRepublishRequest, type RepublishSummary, republishPending } from './outbox.js';
import { FraudStateStore } from './store.js';

const config = loadConfig(process.env);
const logger = createLogger('fraud-rules');
const db = createDocumentClient();
const store = new FraudStateStore({ db, tableName: config.stateTableName, ttlDays: config.stateTtlDays });
const sns = new SNSClient(clientConfig);
const alerts = alertLogFrom(config, { db, sns });
const tracing = traceClients('fraud-rules', [db, sns], logger);

const ledger = ledgerFromEnv(process.env, db, 'fraud-rules');
const tombstones = tombstonesFromEnv(process.env, db, () => new SecretsManagerClient(clientConfig));

/** Leave this much of the invocation unused by the sweep: one more delivery must fit. */
const SWEEP_RESERVE_MS = 15_000;

export async function handler(event: KinesisStreamEvent, context: Context): Promise<BatchResponse>;
export async function handler(event: unknown, context: Context): Promise<BatchResponse | RepublishSummary>;
export async function handler(event: unknown, context: Context): Promise<BatchResponse | RepublishSummary> {
  logger.addContext(context);
  await tracing;
  if (isRepublishRequest(event)) {
    const summary = await republishPending(alerts, {
      logger,
      minAgeMs: config.alertSweepMinAgeSeconds * 1000,
      shouldStop: () => context.getRemainingTimeInMillis() < SWEEP_RESERVE_MS,
    });
    logger.info('pending alerts swept', { ...summary });
    return summary;
  }
  const { response, summary } = await detectFraud(event as KinesisStreamEvent, {
    store,
    alerts,
    rules: config.rules,
    logger,
    ledger,
    tombstones,
    decode: config.decode,
    deadline: context ? lambdaDeadline(context) : undefined,
  });
  logger.info('batch processed', { ...summary, failures: response.batchItemFailures.length });
  return response;
}
