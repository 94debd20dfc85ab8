import type { KinesisStreamRecord } from 'aws-lambda';
import { type EmitterDeps, emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { eventIdHash, WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { createLogger } from '../../../services/shared/logger.js';
import { ConditionalCheckFailed, FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, anEvent, aPurchase, aRawRecord, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import { FakeCloudWatch } from './fake-cloudwatch.js';

const TABLE = 'pulse-test-watermarks';
const FN = 'pulse-test-metrics-emitter';
const SHARD = 'shardId-000000000000';
const NOW = T0 + 2 * MINUTE;
const ENV = { Environment: 'test' };

function setup() {
  const dynamo = new FakeDynamo({ [TABLE]: ['pk'] });
  const cloudwatch = new FakeCloudWatch();
  const logs: Array<{ level: string; message: string }> = [];
  const deps: EmitterDeps = {
    cloudwatch,
    watermarks: new WatermarkStore({ db: dynamo.asClient(), tableName: TABLE, now: () => NOW }),
    namespace: 'Pulse',
    environment: 'test',
    functionName: FN,
    maxEventTypes: 50,
    recentEventIdsLimit: 5000,
    logger: createLogger('test', 'DEBUG', (line) => logs.push(JSON.parse(line))),
    now: () => NOW,
  };
  const run = (records: KinesisStreamRecord[]) => emitBatchMetrics(aKinesisEvent(records), deps);
  const watermark = (shardId = SHARD) => dynamo.get(TABLE, { pk: `${FN}#${shardId}` });
  return { dynamo, cloudwatch, logs, run, watermark };
}

function seqOf(record: KinesisStreamRecord | undefined): string {
  return record?.kinesis.sequenceNumber ?? '';
}

function mixedBatch(): KinesisStreamRecord[] {
  return [
    aRecord(anEvent({ timestamp: T0 + 1_000 })),
    aRecord(aPurchase({ amount: 40, timestamp: T0 + 2_000 })),
    aRawRecord('not json'),
    aRecord(anEvent({ eventType: 'video_play', timestamp: T0 + MINUTE })),
    aRecord(aPurchase({ amount: 60, timestamp: T0 + MINUTE + 1 })),
  ];
}

describe('emitBatchMetrics', () => {
  it('emits the batch and advances the shard watermark to its last record', async () => {
    const { cloudwatch, run, watermark } = setup();
    const records = mixedBatch();
    const { response, summary } = await run(records);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.requests).toHaveLength(1);
    expect(cloudwatch.requests[0]?.Namespace).toBe('Pulse');
    expect(cloudwatch.total('Events', ENV)).toBe(4);
    expect(cloudwatch.total('Events', { ...ENV, EventType: 'video_play' })).toBe(1);
    expect(cloudwatch.total('Purchases', ENV)).toBe(2);
    expect(cloudwatch.total('Revenue', { ...ENV, Currency: 'USD' })).toBe(100);
    expect(cloudwatch.total('InvalidRecords', ENV)).toBe(1);
    expect(cloudwatch.total('PipelineLagMs', { ...ENV, Function: FN }, 'SampleCount')).toBe(5);
    expect(watermark()).toEqual({
      pk: `${FN}#${SHARD}`,
      lastSequenceNumber: seqOf(records[4]),
      version: 1,
      recentEventIds: [0, 1, 3, 4].map((i) =>
        eventIdHash(JSON.parse(Buffer.from(records[i]?.kinesis.data ?? '', 'base64').toString()).eventId),
      ),
      updatedAt: NOW,
    });
    expect(summary).toEqual({
      records: 5,
      invalid: 1,
      skipped: 0,
      duplicates: 0,
      emitted: 5,
      datums: cloudwatch.datums.length,
      requests: 1,
      displaced: 0,
      unrepresentable: 0,
      foldedEventTypes: 0,
      failedShards: 0,
    });
  });

  it('emits nothing when the same batch is delivered again', async () => {
    const { cloudwatch, run, watermark } = setup();
    const records = mixedBatch();
    await run(records);
    const { response, summary } = await run(records);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.requests).toHaveLength(1);
    expect(summary.skipped).toBe(5);
    expect(summary.emitted).toBe(0);
    expect(watermark()?.version).toBe(1);
  });

  it('emits only the records above the watermark when a re-delivery overlaps', async () => {
    const { cloudwatch, run, watermark } = setup();
    const records = mixedBatch();
    await run(records.slice(0, 3));
    const { summary } = await run(records.slice(1));
    expect(summary.skipped).toBe(2);
    expect(summary.emitted).toBe(2);
    expect(cloudwatch.total('Events', ENV)).toBe(4);
    expect(cloudwatch.total('Purchases', ENV)).toBe(2);
    expect(cloudwatch.total('InvalidRecords', ENV)).toBe(1);
    expect(watermark()).toMatchObject({ lastSequenceNumber: seqOf(records[4]), version: 2 });
  });

  it('does not count a producer duplicate (same eventId, new record) in the same batch', async () => {
    const { cloudwatch, run } = setup();
    const purchase = aPurchase({ amount: 25, timestamp: T0 + 1_000 });
    const { summary } = await run([aRecord(purchase), aRecord({ ...purchase })]);
    expect(summary).toMatchObject({ emitted: 1, duplicates: 1 });
    expect(cloudwatch.total('Purchases', ENV)).toBe(1);
    expect(cloudwatch.total('Revenue', { ...ENV, Currency: 'USD' })).toBe(25);
  });

  it('does not count a producer duplicate that arrives in a later batch', async () => {
    const { cloudwatch, run } = setup();
    const purchase = aPurchase({ amount: 25, timestamp: T0 + 1_000 });
    await run([aRecord(purchase)]);
    const { summary } = await run([aRecord({ ...purchase }), aRecord(anEvent({ timestamp: T0 + 2_000 }))]);
    expect(summary).toMatchObject({ emitted: 1, duplicates: 1 });
    expect(cloudwatch.total('Purchases', ENV)).toBe(1);
    expect(cloudwatch.total('Events', ENV)).toBe(2);
  });

  it('remembers only the configured number of recent eventIds per shard', async () => {
    const { run, watermark } = setup();
    await run(Array.from({ length: 5_010 }, (_, i) => aRecord(anEvent({ timestamp: T0 + i }))));
    expect(watermark()?.recentEventIds).toHaveLength(5_000);
  });

  it('reports the first record as failed when PutMetricData fails, and emits once on retry', async () => {
    const { cloudwatch, run, watermark, logs } = setup();
    const records = mixedBatch();
    cloudwatch.failCall(1);
    const first = await run(records);
    expect(first.response).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(records[0]) }] });
    expect(first.summary.failedShards).toBe(1);
    // The log says how many datums of the failed segment were already in CloudWatch: none.
    expect(logs.find((l) => l.message === 'PutMetricData failed')).toMatchObject({ sentDatums: 0 });
    expect(watermark()).toBeUndefined();
    const retry = await run(records);
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.total('Events', ENV)).toBe(4);
    expect(cloudwatch.total('Revenue', { ...ENV, Currency: 'USD' })).toBe(100);
  });

  it('on a failure in a later segment, reports that segment and keeps the earlier one emitted exactly once', async () => {
    const { cloudwatch, run, watermark } = setup();
    // One event per minute: 2 datums each, so the batch needs two PutMetricData requests.
    const records = Array.from({ length: 600 }, (_, i) => aRecord(anEvent({ timestamp: T0 - i * MINUTE })));
    cloudwatch.failCall(2);
    const first = await run(records);
    expect(first.response).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(records[499]) }] });
    expect(watermark()).toMatchObject({ lastSequenceNumber: seqOf(records[498]), version: 1 });
    expect(cloudwatch.total('Events', ENV)).toBe(499);

    // Lambda re-delivers from the reported record.
    const retry = await run(records.slice(499));
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.total('Events', ENV)).toBe(600);
    expect(watermark()).toMatchObject({ lastSequenceNumber: seqOf(records[599]), version: 2 });

    // A whole-batch retry (e.g. after a timeout) changes nothing.
    const again = await run(records);
    expect(again.summary.skipped).toBe(600);
    expect(cloudwatch.total('Events', ENV)).toBe(600);
    for (const request of cloudwatch.requests) expect(request.MetricData?.length).toBeLessThanOrEqual(1000);
  });

  it('reports the first record and emits nothing when the watermark cannot be read', async () => {
    const { dynamo, cloudwatch, run } = setup();
    const records = mixedBatch();
    dynamo.failNext(
      'GetCommand',
      Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }),
    );
    const { response } = await run(records);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(records[0]) }] });
    expect(cloudwatch.requests).toEqual([]);
  });

  it('does not fail the batch when the watermark write fails after the metrics went out', async () => {
    const { dynamo, cloudwatch, logs, run, watermark } = setup();
    dynamo.failNext('PutCommand', Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    const { response } = await run(mixedBatch());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.total('Events', ENV)).toBe(4);
    expect(watermark()).toBeUndefined();
    expect(logs.filter((l) => l.level === 'ERROR').map((l) => l.message)).toEqual([
      'watermark write failed after metrics were emitted',
    ]);
  });

  it('re-reads and retries the watermark write after losing an optimistic-lock race', async () => {
    const { dynamo, logs, run, watermark } = setup();
    const records = mixedBatch();
    dynamo.failNext('PutCommand', new ConditionalCheckFailed());
    const { response } = await run(records);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo.count('PutCommand')).toBe(2);
    expect(dynamo.count('GetCommand')).toBe(2);
    expect(watermark()).toMatchObject({ lastSequenceNumber: seqOf(records[4]), version: 1 });
    expect(logs.some((l) => l.message === 'watermark moved concurrently, re-reading')).toBe(true);
  });

  it('never moves the watermark back when a concurrent writer went further', async () => {
    const { dynamo, run, watermark } = setup();
    const records = mixedBatch();
    const ahead = '99999999999999999999999999999999999999999999999999999999';
    dynamo.failNext('PutCommand', new ConditionalCheckFailed(), () => {
      dynamo.tables.set(
        TABLE,
        new Map([[`${FN}#${SHARD}`, { pk: `${FN}#${SHARD}`, lastSequenceNumber: ahead, version: 1 }]]),
      );
      return true;
    });
    await run(records);
    expect(watermark()).toEqual({ pk: `${FN}#${SHARD}`, lastSequenceNumber: ahead, version: 1 });
    expect(dynamo.count('PutCommand')).toBe(1);
  });

  it('keeps one watermark per shard and reports failures per shard', async () => {
    const { cloudwatch, run, watermark } = setup();
    const a = [aRecord(anEvent(), { shardId: 'shardId-a' }), aRecord(anEvent(), { shardId: 'shardId-a' })];
    const b = [aRecord(anEvent(), { shardId: 'shardId-b' }), aRecord(anEvent(), { shardId: 'shardId-b' })];
    await run([...a, ...b]);
    expect(watermark('shardId-a')?.lastSequenceNumber).toBe(seqOf(a[1]));
    expect(watermark('shardId-b')?.lastSequenceNumber).toBe(seqOf(b[1]));
    expect(cloudwatch.total('Events', ENV)).toBe(4);

    const b2 = [aRecord(anEvent(), { shardId: 'shardId-b' })];
    const a2 = [aRecord(anEvent(), { shardId: 'shardId-a' })];
    cloudwatch.failCall(2);
    const { response } = await run([...a, ...a2, ...b, ...b2]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(b2[0]) }] });
    expect(watermark('shardId-a')?.lastSequenceNumber).toBe(seqOf(a2[0]));
    expect(cloudwatch.total('Events', ENV)).toBe(5);
  });

  it('counts events with out-of-range timestamps at arrival time and says so', async () => {
    const { cloudwatch, logs, run } = setup();
    const old = aRecord(anEvent({ timestamp: NOW - 30 * 24 * 60 * MINUTE }), { arrivalMs: T0 + 5_000 });
    const { summary } = await run([old]);
    expect(summary.displaced).toBe(1);
    expect(cloudwatch.matching('Events', ENV).map((d) => d.Timestamp?.getTime())).toEqual([T0]);
    expect(logs.some((l) => l.level === 'WARN' && l.message.includes('counted at arrival time'))).toBe(true);
  });
});
