import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { redriveSource } from '../shared/archive/fallback-source.js';
import { archiveStoreIfConfigured } from '../shared/archive/s3.js';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig, snsClientConfig } from '../shared/clients.js';
import { lambdaDeadline } from '../shared/deadline.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { ledgerFromEnv } from '../shared/failure/ledger.js';
import { KinesisRangeSource } from '../shared/failure/range-source.js';
import {
  backoffFromEnv,
  isRedriveRequest,
  type RedriveReport,
  redrive,
  redriveSummary,
} from '../shared/failure/redrive.js';
import { shardLineage } from '../shared/lineage.js';
import { createLogger } from '../shared/logger.js';
import { writeParkedMetric } from '../shared/parked-metric.js';
import { tombstonesFromEnv } from '../shared/tombstones.js';
import { traceClients } from '../shared/tracing.js';
import { alertLogFrom } from './alerts.js';
import { loadConfig } from './config.js';
import { detectFraud } from './detector.js';
import { isRepublishRequest, type RepublishSummary, republishPending, requestLimits } from './outbox.js';
import { fraudRedriveTarget } from './redrive.js';
import { FraudStateStore } from './store.js';

const config = loadConfig(process.env);
const logger = createLogger('fraud-rules');
const db = createDocumentClient();
const store = new FraudStateStore({ db, tableName: config.stateTableName, ttlDays: config.stateTtlDays });
const sns = new SNSClient(snsClientConfig);
const alerts = alertLogFrom(config, { db, sns });
const kinesis = new KinesisClient(clientConfig);
// Set-aside ranges the stream no longer holds are read from the archive.
const archive = archiveStoreIfConfigured();
const tracing = traceClients('fraud-rules', [db, sns, kinesis], logger);

const ledger = ledgerFromEnv(process.env, db, 'fraud-rules');
const tombstones = tombstonesFromEnv(process.env, db, () => new SecretsManagerClient(clientConfig));
const backoff = backoffFromEnv(process.env);
const ancestors = shardLineage(kinesis);

/** Leave this much of the invocation unused by the sweep: one more delivery must fit. */
const SWEEP_RESERVE_MS = 15_000;

export async function handler(event: KinesisStreamEvent, context: Context): Promise<BatchResponse>;
export async function handler(event: unknown, context: Context): Promise<BatchResponse | RepublishSummary>;
export async function handler(
  event: unknown,
  context: Context,
): Promise<BatchResponse | RepublishSummary | Record<string, number>> {
  logger.addContext(context);
  await tracing;
  const redriveNow = async (): Promise<RedriveReport | undefined> =>
    ledger &&
    redrive({
      ledger,
      source: redriveSource(new KinesisRangeSource({ kinesis }), archive),
      target: fraudRedriveTarget({
        store,
        alerts,
        rules: config.rules,
        logger,
        decode: config.decode,
        tombstones,
      }),
      logger,
      backoff,
      // Half the invocation at most: the sweep that follows must still fit.
      shouldStop: () => context.getRemainingTimeInMillis() < Math.max(SWEEP_RESERVE_MS, initialMs / 2),
    });
  const initialMs = context?.getRemainingTimeInMillis?.() ?? 0;
  if (isRedriveRequest(event)) {
    const report = await redriveNow();
    const summary = report ? redriveSummary(report) : {};
    logger.info('re-drive run', summary);
    if (report) writeParkedMetric(report, { functionName: context.functionName, env: process.env });
    return summary;
  }
  if (isRepublishRequest(event)) {
    const limits = requestLimits(event); // a bad age or limit fails before anything is done
    // One schedule per function: the outbox sweep's tick re-drives set-aside users first, so
    // their alerts are recorded before the sweep looks for PENDING ones.
    const report = await redriveNow().catch((err: unknown) => {
      logger.error('re-drive run failed; the sweep goes on', { error: err });
      return undefined;
    });
    if (report) {
      logger.info('re-drive run', redriveSummary(report));
      writeParkedMetric(report, { functionName: context.functionName, env: process.env });
    }
    const summary = await republishPending(alerts, {
      logger,
      minAgeMs: config.alertSweepMinAgeSeconds * 1000,
      ...limits,
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
    ancestors,
    decode: config.decode,
    deadline: context ? lambdaDeadline(context) : undefined,
  });
  logger.info('batch processed', { ...summary, failures: response.batchItemFailures.length });
  return response;
}
