/**
 * How replay applies one ledger entry, per function, through the function's own code:
 * - session-updater and fraud-rules run their batch function (updateSessions / detectFraud) on
 *   the entry's records of that one user, in stream order. The user's watermark is still below
 *   them (nothing of a parked user's was applied), so the normal watermark + eventId check lets
 *   each record take effect once; a second replay finds them at or below the watermark.
 * - metrics-emitter's watermark is per shard and later batches moved it past the skipped range,
 *   so the entry itself is the record of what was not emitted: its records are aggregated with the
 *   function's code and emitted segment by segment, the entry's `first` moving past each segment
 *   (a crash re-emits at most one segment, the function's own residual window). Producer
 *   duplicates are still dropped by eventId: the shard's recent eventId hashes and the range itself.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { FunctionName } from '../../../scripts/local/config.js';
import {
  type FunctionIdentity,
  kinesisEvent,
  type StreamRecord,
} from '../../../scripts/local/lambda-event.js';
import { alertLogFrom } from '../../../services/fraud-rules/alerts.js';
import { loadConfig as fraudConfig } from '../../../services/fraud-rules/config.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import { loadConfig as metricsConfig } from '../../../services/metrics-emitter/config.js';
import { putMetricData } from '../../../services/metrics-emitter/emitter.js';
import { userEventHash, WatermarkStore, watermarkKey } from '../../../services/metrics-emitter/watermarks.js';
import {
  aggregateSegments,
  type BatchItem,
  eventTypeLabels,
} from '../../../services/metrics-emitter/windows.js';
import { loadConfig as sessionConfig } from '../../../services/session-updater/config.js';
import { SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { decodeOptions } from '../../../services/shared/config.js';
import { isPurchase } from '../../../services/shared/event.js';
import {
  INVALID_RECORDS_KEY,
  type LedgerEntry,
  SEGMENT_PREFIX,
} from '../../../services/shared/failure-ledger.js';
import { hashKeys } from '../../../services/shared/idempotency.js';
import { type DecodeOptions, decodeBatch } from '../../../services/shared/kinesis.js';
import type { Logger } from '../../../services/shared/logger.js';
import { compareSequence } from '../../../services/shared/sequence.js';
import { dropErased, tombstonesFromEnv } from '../../../services/shared/tombstones.js';
import { functionEnvironment } from '../function-env.js';
import type { Target } from '../target.js';

export interface ApplyOutcome {
  /** Records that took effect now. */
  applied: number;
  /** Records of the entry that changed nothing (already applied, duplicate eventIds). */
  unchanged: number;
}

export interface Applier {
  /** The records of `range` this entry stands for (its key, from `first` through `last`). */
  select(entry: LedgerEntry, range: readonly StreamRecord[]): StreamRecord[];
  /** Whether the function acts on this record at all (fraud-rules: purchases only). */
  concerns(record: StreamRecord): boolean;
  /** Applies the selected records; throws when the function's code reports a failure. */
  apply(
    entry: LedgerEntry,
    records: StreamRecord[],
    onSegment?: (first: string) => Promise<void>,
  ): Promise<ApplyOutcome>;
}

const inRange = (r: StreamRecord, e: LedgerEntry) =>
  compareSequence(r.sequenceNumber, e.first) >= 0 && compareSequence(r.sequenceNumber, e.last) <= 0;

function decodeOne(
  record: StreamRecord,
  event: (rs: StreamRecord[]) => KinesisStreamEvent,
  decode: DecodeOptions,
) {
  const { valid, invalid } = decodeBatch(event([record]).Records, decode);
  return { valid: valid[0], invalid: invalid[0] };
}

export async function makeApplier(
  target: Target,
  fn: FunctionName,
  logger: Logger,
  now: () => number,
): Promise<Applier> {
  const env = await functionEnvironment(target, fn);
  const streamArn = `arn:aws:kinesis:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:stream/${target.names.stream}`;
  const functionName = target.names.function(fn);
  const identity: FunctionIdentity = {
    functionName,
    functionArn: `arn:aws:lambda:::function:${functionName}`,
    memorySize: 0,
    region: process.env.AWS_REGION ?? 'us-east-1',
    roleArn: 'pulse-replay',
  };
  const event = (rs: StreamRecord[]) => kinesisEvent(rs, streamArn, identity);
  // The function's own event-time tolerance, so a record is valid here exactly when it was there.
  const decode = decodeOptions(env);
  // Replay drops erased users' records exactly as the function does.
  const tombstones = tombstonesFromEnv(env, target.db, () => target.secrets);
  const userOf = (r: StreamRecord) => decodeOne(r, event, decode).valid?.event.userId;
  const failIf = (failures: number, what: string) => {
    if (failures > 0)
      throw new Error(`${fn} reported ${failures} failure(s) ${what}; the entry stays for the next replay`);
  };

  if (fn === 'session-updater') {
    const config = sessionConfig(env);
    const store = new SessionStore({
      db: target.db as never,
      tableName: config.tableName,
      closedSessionTtlDays: config.closedSessionTtlDays,
    });
    return {
      select: (entry, range) =>
        range.filter(
          (r) =>
            inRange(r, entry) &&
            (entry.sk === INVALID_RECORDS_KEY
              ? decodeOne(r, event, decode).invalid !== undefined
              : userOf(r) === entry.sk),
        ),
      concerns: () => true,
      async apply(_entry, records) {
        const { response, summary } = await updateSessions(event(records), {
          store,
          sqs: target.sqs as never,
          invalidRecordsQueueUrl: config.invalidRecordsQueueUrl,
          functionName,
          rules: config.rules,
          logger,
          decode,
          tombstones,
        });
        failIf(response.batchItemFailures.length, 'applying the records');
        return {
          applied: summary.applied + summary.invalid,
          unchanged: records.length - summary.applied - summary.invalid,
        };
      },
    };
  }

  if (fn === 'fraud-rules') {
    const config = fraudConfig(env);
    const store = new FraudStateStore({
      db: target.db,
      tableName: config.stateTableName,
      ttlDays: config.stateTtlDays,
    });
    const alerts = alertLogFrom(config, { db: target.db, sns: target.sns, now });
    const purchaseOf = (r: StreamRecord) => {
      const v = decodeOne(r, event, decode).valid;
      return v && isPurchase(v.event) ? v.event : undefined;
    };
    return {
      select: (entry, range) => range.filter((r) => inRange(r, entry) && purchaseOf(r)?.userId === entry.sk),
      concerns: (r) => purchaseOf(r) !== undefined,
      async apply(_entry, records) {
        const { response, summary } = await detectFraud(event(records), {
          store,
          alerts,
          rules: config.rules,
          logger,
          decode,
          tombstones,
        });
        failIf(response.batchItemFailures.length, 'evaluating the purchases');
        return { applied: summary.evaluated, unchanged: records.length - summary.evaluated };
      },
    };
  }

  const config = metricsConfig(env);
  const watermarks = new WatermarkStore({ db: target.db, tableName: config.watermarksTable });
  return {
    select: (entry, range) =>
      entry.sk.startsWith(SEGMENT_PREFIX) ? range.filter((r) => inRange(r, entry)) : [],
    concerns: () => true,
    async apply(entry, records, onSegment) {
      const { valid, invalid } = await dropErased(tombstones, decodeBatch(event(records).Records, decode));
      const items: BatchItem[] = [...valid, ...invalid].sort((a, b) =>
        compareSequence(a.sequenceNumber, b.sequenceNumber),
      );
      const mark = await watermarks.read(watermarkKey(functionName, entry.shardId));
      // The shard's recently emitted (userId, eventId) pairs, read the way the function reads them.
      const seen = new Set<string>();
      for (const block of mark.recent) for (const key of hashKeys(block.h)) seen.add(key);
      const fresh = items.filter((item) => {
        if (!('event' in item)) return true;
        const key = userEventHash(item.event.userId, item.event.eventId).toString('latin1');
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const { labelOf } = eventTypeLabels(valid, config.maxEventTypes);
      const segments = aggregateSegments(fresh, {
        environment: config.environment,
        functionName,
        nowMs: now(),
        labelOf,
      });
      for (const [i, segment] of segments.entries()) {
        await putMetricData(target.cloudwatch, config.namespace, segment.datums);
        const next = segments[i + 1]?.firstSequenceNumber;
        if (next && onSegment) await onSegment(next);
      }
      return { applied: fresh.length, unchanged: items.length - fresh.length };
    },
  };
}
