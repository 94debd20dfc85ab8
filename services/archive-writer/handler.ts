import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { archiveStoreFromEnv } from '../shared/archive/s3.js';
import type { BatchResponse } from '../shared/batch.js';
import { clientConfig } from '../shared/clients.js';
import { createDocumentClient } from '../shared/dynamo.js';
import { createLogger } from '../shared/logger.js';
import { tombstonesFromEnv } from '../shared/tombstones.js';
import { traceClients } from '../shared/tracing.js';
import { type CompactSummary, compactClosedHours, isCompactRequest } from './compactor.js';
import { loadConfig } from './config.js';
import { archiveBatch } from './writer.js';

const config = loadConfig(process.env);
const logger = createLogger('archive-writer');
const { s3, store } = archiveStoreFromEnv(config.bucket);
const db = createDocumentClient();
const tombstones = tombstonesFromEnv(process.env, db, () => new SecretsManagerClient(clientConfig));
const tracing = traceClients('archive-writer', [s3, db], logger);

/** Leave this much of the invocation unused by compaction: one partition must still fit. */
const COMPACT_RESERVE_MS = 20_000;

export async function handler(event: unknown, context: Context): Promise<BatchResponse | CompactSummary> {
  logger.addContext(context);
  await tracing;
  if (isCompactRequest(event)) {
    const summary = await compactClosedHours({
      store,
      logger,
      nowMs: Date.now(),
      graceMs: config.compactGraceMs,
      lookbackHours: config.compactLookbackHours,
      tombstones,
      shouldStop: () => context.getRemainingTimeInMillis() < COMPACT_RESERVE_MS,
    });
    logger.info('archive compacted', { ...summary });
    return summary;
  }
  const { response, summary } = await archiveBatch(event as KinesisStreamEvent, {
    store,
    logger,
    decode: config.decode,
    tombstones,
  });
  logger.info('batch archived', { ...summary });
  return response;
}
