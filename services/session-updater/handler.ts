import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig } from '../shared/clients.js';
import { lambdaDeadline } from '../shared/deadline.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { ledgerFromEnv } from '../shared/failure-ledger.js';
import { createLogger } from '../shared/logger.js';
import { tombstonesFromEnv } from '../shared/tombstones.js';
import { traceClients } from '../shared/tracing.js';
import { loadConfig } from './config.js';
import { SessionStore } from './store.js';
import { updateSessions } from './updater.js';

const config = loadConfig(process.env);
const logger = createLogger('session-updater');
const db = createDocumentClient();
const store = new SessionStore({
  db,
  tableName: config.tableName,
  closedSessionTtlDays: config.closedSessionTtlDays,
});
const sqs = new SQSClient(clientConfig);
const ledger = ledgerFromEnv(process.env, db, 'session-updater');
const tombstones = tombstonesFromEnv(process.env, db, () => new SecretsManagerClient(clientConfig));
const tracing = traceClients('session-updater', [db, sqs], logger);

export const handler = async (event: KinesisStreamEvent, context: Context): Promise<BatchResponse> => {
  logger.addContext(context);
  await tracing;
  const { response, summary } = await updateSessions(event, {
    store,
    sqs,
    invalidRecordsQueueUrl: config.invalidRecordsQueueUrl,
    functionName: context.functionName,
    rules: config.rules,
    logger,
    ledger,
    tombstones,
    decode: config.decode,
    deadline: lambdaDeadline(context),
  });
  logger.info('batch processed', { ...summary, failures: response.batchItemFailures.length });
  return response;
};
