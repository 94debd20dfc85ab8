/**
 * The three functions behind the failure layer: the defects of issue 15 that lived in their own
 * failure paths, attacked through updateSessions, detectFraud and emitBatchMetrics.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { fraudRedriveTarget } from '../../../../services/fraud-rules/redrive.js';
import { emitBatchMetrics } from '../../../../services/metrics-emitter/processor.js';
import { metricsRedriveTarget } from '../../../../services/metrics-emitter/redrive.js';
import { WatermarkStore, watermarkKey } from '../../../../services/metrics-emitter/watermarks.js';
import { sessionRedriveTarget } from '../../../../services/session-updater/redrive.js';
import type { SessionRules } from '../../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../../services/session-updater/store.js';
import { updateSessions } from '../../../../services/session-updater/updater.js';
import {
  FailureLedger,
  INVALID_RECORDS_KEY,
  ledgerPk,
  userKey,
} from '../../../../services/shared/failure/ledger.js';
import type { RangeRecord, RangeSource } from '../../../../services/shared/failure/range-source.js';
import { redrive } from '../../../../services/shared/failure/redrive.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { awsError, FakeDynamo } from '../../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../../helpers/fake-sqs.js';
import {
  aKinesisEvent,
  anEvent,
  aPurchase,
  aRawRecord,
  aRecord,
  MINUTE,
  T0,
} from '../../../helpers/records.js';
import { harness, onlyRules } from '../../fraud-rules/support.js';

const LEDGER = 'ledger';
const SHARD = 'shardId-000000000000';
const seqOf = (n: number) => String(5000 + n).padStart(12, '0');

/** Numbers records in order on one shard, as Lambda would deliver them. */
const onShard = (records: KinesisStreamRecord[]) =>
  records.map((r, i) => ({
    ...r,
    eventID: `${SHARD}:${seqOf(i)}`,
    kinesis: { ...r.kinesis, sequenceNumber: seqOf(i) },
  }));

/** The records as the re-drive reads them back from the stream. */
function sourceOf(records: KinesisStreamRecord[]): RangeSource {
  return {
    async *pages(_at, from, to) {
      const out: RangeRecord[] = records
        .filter((r) => r.kinesis.sequenceNumber >= from && r.kinesis.sequenceNumber <= to)
        .map((r) => ({
          shardId: SHARD,
          sequenceNumber: r.kinesis.sequenceNumber,
          partitionKey: r.kinesis.partitionKey,
          data: Buffer.from(r.kinesis.data, 'base64'),
          arrivalMs: r.kinesis.approximateArrivalTimestamp * 1000,
        }));
      yield out;
    },
  };
}

describe('session-updater', () => {
  const rules: SessionRules = { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 100 };
  function setup() {
    const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'], [LEDGER]: ['pk', 'sk'] });
    const sqs = new FakeSqs();
    const store = new SessionStore({
      db: dynamo.asClient(),
      tableName: 'sessions',
      closedSessionTtlDays: 90,
    });
    const ledger = new FailureLedger({
      db: dynamo.asClient(),
      tableName: LEDGER,
      functionName: 'session-updater',
    });
    const deps = {
      store,
      sqs: sqs.asClient(),
      invalidRecordsQueueUrl: 'q',
      functionName: 'session-updater',
      rules,
      logger: silentLogger,
    };
    const run = (records: KinesisStreamRecord[]) =>
      updateSessions(aKinesisEvent(records), { ...deps, ledger });
    const current = (userId: string) => dynamo.get('sessions', { userId, sk: CURRENT_SK });
    return { dynamo, sqs, store, ledger, deps, run, current };
  }

  test('defect 9: a user named like an internal key is never held behind the internal entry', async () => {
    const s = setup();
    for (const userId of ['#invalid-records', 'i#invalid-records']) {
      s.dynamo.put(LEDGER, {
        pk: ledgerPk('session-updater', SHARD),
        sk: INVALID_RECORDS_KEY,
        status: 'parked',
        first: seqOf(0),
        last: seqOf(0),
      });
      const records = onShard([aRawRecord('not json'), aRecord(anEvent({ userId, timestamp: T0 }))]);
      const { response } = await s.run(records);
      expect(response.batchItemFailures).toEqual([]);
      expect(s.current(userId)).toMatchObject({ userId });
    }
    expect(s.sqs.requests).toBe(0); // the invalid record is the internal entry’s: held, not sent
  });

  test('an invalid-records queue outage makes the shard wait; nothing is set aside', async () => {
    const s = setup();
    s.sqs.failNextRequest = new Error('SQS unavailable');
    const records = onShard([aRecord(anEvent({ userId: 'a', timestamp: T0 })), aRawRecord('not json')]);
    const { response } = await s.run(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: seqOf(1) }]);
    expect(s.dynamo.items(LEDGER)).toEqual([]);
  });

  test('a user whose write can never succeed is set aside alone, then re-driven exactly once after the fix', async () => {
    const s = setup();
    const records = onShard([
      aRecord(anEvent({ userId: 'a', timestamp: T0 })),
      aRecord(anEvent({ userId: 'b', timestamp: T0 + 1 })),
      aRecord(anEvent({ userId: 'a', timestamp: T0 + 2 })),
    ]);
    const bad = (input: Record<string, unknown>) => (input.Item as { userId?: string })?.userId === 'a';
    s.dynamo.failNext('PutCommand', awsError('ValidationException', 'Item size has exceeded'), bad);
    const first = await s.run(records.slice(0, 2));
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.summary).toMatchObject({ setAsideUsers: 1 });
    expect(s.current('b')).toBeDefined();
    expect(s.current('a')).toBeUndefined();
    // a's next record is held, not applied.
    const second = await s.run(records.slice(2));
    expect(second.summary).toMatchObject({ parkedUsers: 1 });
    expect(s.current('a')).toBeUndefined();
    const report = await redrive({
      ledger: s.ledger,
      source: sourceOf(records),
      target: sessionRedriveTarget(s.deps),
      logger: silentLogger,
    });
    expect(report.entries[0]).toMatchObject({ sk: userKey('a'), outcome: 'done', applied: 2 });
    expect(s.current('a')).toMatchObject({ totals: expect.objectContaining({ eventCount: 2 }) });
    // Re-deliveries change nothing now.
    await s.run(records);
    expect(s.current('a')).toMatchObject({ totals: expect.objectContaining({ eventCount: 2 }) });
    expect(s.dynamo.items(LEDGER)).toEqual([]);
  });
});

describe('fraud-rules', () => {
  test('defect 3: a failed rule-state read makes the shard wait; the retry raises the 5,000 USD alert', async () => {
    const h = harness(onlyRules({ largePurchase: { threshold: 1000 } }));
    h.db.failNext('BatchGetCommand', awsError('ProvisionedThroughputExceededException'));
    const records = onShard([aRecord(aPurchase({ userId: 'u1', amount: 5000 }))]);
    const first = await h.run(records);
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: seqOf(0) }]);
    expect(h.publishedIds()).toEqual([]);
    const retry = await h.run(records);
    expect(retry.response.batchItemFailures).toEqual([]);
    expect(h.publishedIds()).toHaveLength(1);
  });

  test('a set-aside purchaser is re-driven through detectFraud: the alert is published once', async () => {
    const h = harness(onlyRules({ largePurchase: { threshold: 1000 } }));
    const ledgerDb = new FakeDynamo({ [LEDGER]: ['pk', 'sk'] });
    const ledger = new FailureLedger({
      db: ledgerDb.asClient(),
      tableName: LEDGER,
      functionName: 'fraud-rules',
    });
    const records = onShard([
      aRecord(anEvent({ userId: 'u1' })),
      aRecord(aPurchase({ userId: 'u1', amount: 5000 })),
      aRecord(aPurchase({ userId: 'u2', amount: 5 })),
    ]);
    ledgerDb.put(LEDGER, {
      pk: ledgerPk('fraud-rules', SHARD),
      sk: userKey('u1'),
      fn: 'fraud-rules',
      shardId: SHARD,
      streamArn: '',
      status: 'parked',
      first: seqOf(1),
      last: seqOf(1),
      attempts: 1,
      since: 'x',
    });
    const deps = {
      store: h.store,
      alerts: h.alerts,
      rules: onlyRules({ largePurchase: { threshold: 1000 } }),
      logger: silentLogger,
    };
    const report = await redrive({
      ledger,
      source: sourceOf(records),
      target: fraudRedriveTarget(deps),
      logger: silentLogger,
    });
    expect(report.entries[0]).toMatchObject({ outcome: 'done', applied: 1 });
    expect(h.publishedIds()).toHaveLength(1);
    await redrive({
      ledger,
      source: sourceOf(records),
      target: fraudRedriveTarget(deps),
      logger: silentLogger,
      force: true,
    });
    expect(h.publishedIds()).toHaveLength(1);
  });
});

describe('metrics-emitter', () => {
  test('a segment CloudWatch refuses for itself is set aside, the watermark moves over it without its hashes, and the re-drive emits it once', async () => {
    const db = new FakeDynamo({ watermarks: 'pk', [LEDGER]: ['pk', 'sk'] });
    const watermarks = new WatermarkStore({ db: db.asClient(), tableName: 'watermarks' });
    const ledger = new FailureLedger({
      db: db.asClient(),
      tableName: LEDGER,
      functionName: 'metrics-emitter',
    });
    const sent: number[] = [];
    let refuse = true;
    const cloudwatch = {
      send: async (command: { input: { MetricData?: unknown[] } }) => {
        if (refuse) throw awsError('InvalidParameterValue', 'bad datum');
        sent.push(command.input.MetricData?.length ?? 0);
        return {};
      },
    };
    const now = T0 + 5 * MINUTE;
    const records = onShard([
      aRecord(anEvent({ userId: 'a', timestamp: T0 })),
      aRecord(anEvent({ userId: 'b', timestamp: T0 + 1 })),
    ]);
    const common = {
      cloudwatch,
      watermarks,
      namespace: 'Pulse',
      environment: 'test',
      functionName: 'metrics-emitter',
      maxEventTypes: 50,
      logger: silentLogger,
      now: () => now,
    };
    const { response } = await emitBatchMetrics(aKinesisEvent(records), {
      ...common,
      recentEventIdsLimit: 100,
      duplicateWindowSeconds: 120,
      ledger,
    });
    expect(response.batchItemFailures).toEqual([]);
    const [entry] = db.items(LEDGER);
    expect(entry).toMatchObject({ status: 'parked', first: seqOf(0), last: seqOf(1) });
    const mark = await watermarks.read(watermarkKey('metrics-emitter', SHARD));
    expect(mark.lastSequenceNumber).toBe(seqOf(1));
    expect(mark.recent.every((b) => b.h.length === 0)).toBe(true);
    // A re-delivery emits nothing: the records are under the watermark.
    refuse = false;
    await emitBatchMetrics(aKinesisEvent(records), {
      ...common,
      recentEventIdsLimit: 100,
      duplicateWindowSeconds: 120,
      ledger,
    });
    expect(sent).toEqual([]);
    const report = await redrive({
      ledger,
      source: sourceOf(records),
      target: metricsRedriveTarget(common),
      logger: silentLogger,
    });
    expect(report.entries[0]).toMatchObject({ outcome: 'done', applied: 2 });
    expect(sent.length).toBeGreaterThan(0);
    const emitted = sent.length;
    await redrive({
      ledger,
      source: sourceOf(records),
      target: metricsRedriveTarget(common),
      logger: silentLogger,
      force: true,
    });
    expect(sent).toHaveLength(emitted);
    expect(db.items(LEDGER)).toEqual([]);
  });
});
