import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { redriveSource } from '../shared/archive/fallback-source.js';
import { archiveStoreIfConfigured } from '../shared/archive/s3.js';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig } from '../shared/clients.js';
import { lambdaDeadline } from '../shared/deadline.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { ledgerFromEnv } from '../shared/failure/ledger.js';
import { KinesisRangeSource } from '../shared/failure/range-source.js';
import { backoffFromEnv, isRedriveRequest, redrive, redriveSummary } from '../shared/failure/redrive.js';
import { shardLineage } from '../shared/lineage.js';
import { createLogger } from '../shared/logger.js';
import { writeParkedMetric } from '../shared/parked-metric.js';
import { tombstonesFromEnv } from '../shared/tombstones.js';
import { traceClients } from '../shared/tracing.js';
import { loadConfig } from './config.js';
import { emitBatchMetrics } from './processor.js';
import { metricsRedriveTarget } from './redrive.js';
import { WatermarkStore } from './watermarks.js';

const config = loadConfig(process.env);
const logger = createLogger('metrics-emitter');
const cloudwatch = new CloudWatchClient(clientConfig);
const db = createDocumentClient();
const watermarks = new WatermarkStore({ db, tableName: config.watermarksTable });
const ledger = ledgerFromEnv(process.env, db, 'metrics-emitter');
const tombstones = tombstonesFromEnv(process.env, db, () => new SecretsManagerClient(clientConfig));
const kinesis = new KinesisClient(clientConfig);
// Set-aside ranges the stream no longer holds are read from the archive.
const archive = archiveStoreIfConfigured();
const parentShards = shardLineage(kinesis);
const backoff = backoffFromEnv(process.env);
const tracing = traceClients('metrics-emitter', [db, cloudwatch, kinesis], logger);

/** Leave this much of a re-drive invocation unused: one more page must fit. */
const REDRIVE_RESERVE_MS = 15_000;

export async function handler(event: KinesisStreamEvent, context: Context): Promise<BatchResponse>;
export async function handler(event: unknown, context: Context): Promise<unknown>;
export async function handler(event: unknown, context: Context): Promise<unknown> {
  logger.addContext(context);
  await tracing;
  if (isRedriveRequest(event)) {
    if (!ledger) return {};
    const report = await redrive({
      ledger,
      source: redriveSource(new KinesisRangeSource({ kinesis }), archive),
      target: metricsRedriveTarget({
        cloudwatch,
        watermarks,
        namespace: config.namespace,
        environment: config.environment,
        functionName: context.functionName,
        maxEventTypes: config.maxEventTypes,
        eventTypes: config.eventTypes,
        decode: config.decode,
        tombstones,
      }),
      logger,
      backoff,
      shouldStop: () => context.getRemainingTimeInMillis() < REDRIVE_RESERVE_MS,
    });
    const summary = redriveSummary(report);
    logger.info('re-drive run', summary);
    writeParkedMetric(report, { functionName: context.functionName, env: process.env });
    return summary;
  }
  const { response, summary } = await emitBatchMetrics(event as KinesisStreamEvent, {
    cloudwatch,
    watermarks,
    namespace: config.namespace,
    environment: config.environment,
    functionName: context.functionName,
    maxEventTypes: config.maxEventTypes,
    eventTypes: config.eventTypes,
    recentEventIdsLimit: config.recentEventIdsLimit,
    duplicateWindowSeconds: config.duplicateWindowSeconds,
    parentShards,
    logger,
    ledger,
    tombstones,
    decode: config.decode,
    deadline: lambdaDeadline(context),
  });
  logger.info('batch processed', { ...summary, failures: response.batchItemFailures.length });
  return response;
}
