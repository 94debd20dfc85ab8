import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig } from '../shared/clients.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { createLogger } from '../shared/logger.js';
import { traceClients } from '../shared/tracing.js';
import { AlertLog } from './alerts.js';
import { loadConfig } from './config.js';
import { detectFraud } from './detector.js';
import { FraudStateStore } from './store.js';

const config = loadConfig(process.env);
const logger = createLogger('fraud-rules');
const db = createDocumentClient();
const store = new FraudStateStore({ db, tableName: config.stateTableName, ttlDays: config.stateTtlDays });
const sns = new SNSClient(clientConfig);
const alerts = new AlertLog({
  db,
  sns,
  tableName: config.alertsTableName,
  topicArn: config.alertTopicArn,
  environment: config.environment,
  ttlDays: config.alertTtlDays,
  cooldownMinutes: config.rules.cooldownMinutes,
});
const tracing = traceClients('fraud-rules', [db, sns], logger);

export const handler = async (event: KinesisStreamEvent, context: Context): Promise<BatchResponse> => {
  logger.addContext(context);
  await tracing;
  const { response, summary } = await detectFraud(event, { store, alerts, rules: config.rules, logger });
  logger.info('batch processed', { ...summary, failures: response.batchItemFailures.length });
  return response;
};
