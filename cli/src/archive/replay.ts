/**
 * Replay from the archive: archived events go back through session-updater's and fraud-rules'
 * own batch code (updateSessions, detectFraud) as the Kinesis records they were: same shard, same
 * sequence number, same arrival time, same event. The functions' own idempotency therefore decides
 * what takes effect, exactly as for a stream re-delivery: a record at or below the user's
 * watermark, or an eventId already applied, changes nothing; a second replay changes nothing.
 *
 * Order: each shard's records in sequence order, shards parents first (a child's sequence numbers
 * start above its parent's), so every user's records arrive in the order the stream had them.
 * metrics-emitter is not replayed from here: its watermark is per shard, so whether a past
 * minute was emitted is known only from a failure-ledger entry (the re-drive's own path).
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { kinesisEvent, type StreamRecord } from '../../../lib/lambda-event.js';
import { alertLogFrom } from '../../../services/fraud-rules/alerts.js';
import { loadConfig as fraudConfig } from '../../../services/fraud-rules/config.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import { loadConfig as sessionConfig } from '../../../services/session-updater/config.js';
import { SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { decodeOptions } from '../../../services/shared/config.js';
import type { ValidRecord } from '../../../services/shared/kinesis.js';
import type { Logger } from '../../../services/shared/logger.js';
import { compareSequence } from '../../../services/shared/sequence.js';
import { tombstonesFromEnv } from '../../../services/shared/tombstones.js';
import { functionEnvironment } from '../function-env.js';
import type { Target } from '../target.js';

export const ARCHIVE_REPLAY_FUNCTIONS = ['session-updater', 'fraud-rules'] as const;
export type ArchiveReplayFunction = (typeof ARCHIVE_REPLAY_FUNCTIONS)[number];

export class ArchiveReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveReplayError';
  }
}

export interface ArchiveReplaySummary {
  function: ArchiveReplayFunction;
  records: number;
  batches: number;
  /** Records that took effect now (the rest had already). */
  applied: number;
}

const encoder = new TextEncoder();

export function toStreamRecord(r: ValidRecord): StreamRecord {
  return {
    shardId: r.shardId,
    sequenceNumber: r.sequenceNumber,
    partitionKey: r.event.userId,
    data: encoder.encode(JSON.stringify(r.event)),
    arrivalMs: r.arrivalMs,
  };
}

/** Batches of one shard each, shards in lineage order, records in sequence order. */
export function replayBatches(records: readonly ValidRecord[], batchSize: number): StreamRecord[][] {
  const byShard = new Map<string, ValidRecord[]>();
  for (const r of records) {
    const list = byShard.get(r.shardId);
    if (list) list.push(r);
    else byShard.set(r.shardId, [r]);
  }
  const shards = [...byShard.values()].map((list) =>
    [...list].sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber)),
  );
  shards.sort((a, b) =>
    compareSequence((a[0] as ValidRecord).sequenceNumber, (b[0] as ValidRecord).sequenceNumber),
  );
  const batches: StreamRecord[][] = [];
  for (const list of shards) {
    for (let i = 0; i < list.length; i += batchSize)
      batches.push(list.slice(i, i + batchSize).map(toStreamRecord));
  }
  return batches;
}

async function runnerFor(
  target: Target,
  fn: ArchiveReplayFunction,
  logger: Logger,
  now: () => number,
): Promise<(event: KinesisStreamEvent) => Promise<{ failures: number; applied: number }>> {
  const env = await functionEnvironment(target, fn);
  const decode = decodeOptions(env);
  // An erased user's rows are gone from the archive; a copy made before the erasure is dropped here.
  const tombstones = tombstonesFromEnv(env, target.db, () => target.secrets);
  const functionName = target.names.function(fn);
  if (fn === 'session-updater') {
    const config = sessionConfig(env);
    const store = new SessionStore({
      db: target.db as never,
      tableName: config.tableName,
      closedSessionTtlDays: config.closedSessionTtlDays,
    });
    return async (event) => {
      const { response, summary } = await updateSessions(event, {
        store,
        sqs: target.sqs as never,
        invalidRecordsQueueUrl: config.invalidRecordsQueueUrl,
        functionName,
        rules: config.rules,
        logger,
        decode,
        tombstones,
      });
      return { failures: response.batchItemFailures.length, applied: summary.applied };
    };
  }
  const config = fraudConfig(env);
  const store = new FraudStateStore({
    db: target.db,
    tableName: config.stateTableName,
    ttlDays: config.stateTtlDays,
  });
  const alerts = alertLogFrom(config, { db: target.db, sns: target.sns, now });
  return async (event) => {
    const { response, summary } = await detectFraud(event, {
      store,
      alerts,
      rules: config.rules,
      logger,
      decode,
      tombstones,
    });
    return { failures: response.batchItemFailures.length, applied: summary.evaluated };
  };
}

export async function replayFromArchive(
  target: Target,
  records: readonly ValidRecord[],
  o: {
    functions: readonly ArchiveReplayFunction[];
    logger: Logger;
    now: () => number;
    batchSize?: number;
    onBatch?: (fn: string, done: number, total: number) => void;
  },
): Promise<ArchiveReplaySummary[]> {
  const batches = replayBatches(records, o.batchSize ?? 500);
  const streamArn = `arn:aws:kinesis:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:stream/${target.names.stream}`;
  const out: ArchiveReplaySummary[] = [];
  for (const fn of o.functions) {
    const run = await runnerFor(target, fn, o.logger, o.now);
    const functionName = target.names.function(fn);
    const identity = {
      functionName,
      functionArn: `arn:aws:lambda:::function:${functionName}`,
      memorySize: 0,
      region: process.env.AWS_REGION ?? 'us-east-1',
      roleArn: 'pulse-archive-replay',
    };
    const summary: ArchiveReplaySummary = { function: fn, records: records.length, batches: 0, applied: 0 };
    for (const batch of batches) {
      const { failures, applied } = await run(kinesisEvent(batch, streamArn, identity));
      if (failures > 0) {
        throw new ArchiveReplayError(
          `${fn} reported ${failures} failure(s) in a replayed batch; what took effect stays, run the replay again`,
        );
      }
      summary.batches += 1;
      summary.applied += applied;
      o.onBatch?.(fn, summary.batches, batches.length);
    }
    out.push(summary);
  }
  return out;
}
