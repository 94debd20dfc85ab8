import type { KinesisStreamRecord } from 'aws-lambda';
import { type EmitterDeps, emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import {
  type HashBlock,
  MAX_HASH_BLOCKS,
  userEventHash,
  WatermarkStore,
} from '../../../services/metrics-emitter/watermarks.js';
import { marginFor } from '../../../services/shared/deadline.js';
import { MAX_ID_BYTES } from '../../../services/shared/event.js';
import { EVENT_HASH_BYTES } from '../../../services/shared/idempotency.js';
import { ITEM_BYTE_BUDGET, itemBytes, widestId } from '../../../services/shared/item-size.js';
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
    duplicateWindowSeconds: 120,
    logger: createLogger('test', 'DEBUG', (line) => logs.push(JSON.parse(line))),
    now: () => NOW,
  };
  const run = (records: KinesisStreamRecord[]) => emitBatchMetrics(aKinesisEvent(records), deps);
  const watermark = (shardId = SHARD) => dynamo.get(TABLE, { pk: `${FN}#${shardId}` });
  return { deps, dynamo, cloudwatch, logs, run, watermark };
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
      recentEventHashes: [
        {
          // The newest arrival among the block's records.
          at: Math.floor(Math.max(...records.map((r) => r.kinesis.approximateArrivalTimestamp))),
          h: new Uint8Array(
            Buffer.concat(
              [0, 1, 3, 4].map((i) => {
                const event = JSON.parse(Buffer.from(records[i]?.kinesis.data ?? '', 'base64').toString());
                return userEventHash(event.userId, event.eventId);
              }),
            ),
          ),
        },
      ],
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
      deferredSegments: 0,
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
    const blocks = watermark()?.recentEventHashes as HashBlock[];
    expect(blocks.reduce((n, b) => n + b.h.length, 0)).toBe(5_000 * EVENT_HASH_BYTES);
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

describe('emitBatchMetrics across a reshard', () => {
  const PARENT = 'shardId-000000000000';
  const CHILD = 'shardId-000000000002';

  it('starts a child shard from its parents’ recent eventIds: a producer retry across the reshard counts once', async () => {
    const { cloudwatch, deps, run, watermark } = setup();
    const asked: string[] = [];
    deps.parentShards = async (_arn, shardId) => {
      asked.push(shardId);
      return shardId === CHILD ? [PARENT, 'shardId-000000000001'] : [];
    };
    const purchase = aPurchase({ amount: 25, timestamp: T0 + 1_000 });
    await run([aRecord(purchase, { shardId: PARENT }), aRecord(anEvent(), { shardId: PARENT })]);
    const { summary } = await run([
      aRecord({ ...purchase }, { shardId: CHILD }),
      aRecord(anEvent(), { shardId: CHILD }),
    ]);
    expect(summary).toMatchObject({ emitted: 1, duplicates: 1 });
    expect(cloudwatch.total('Purchases', ENV)).toBe(1);
    expect(cloudwatch.total('Events', ENV)).toBe(3);
    // The child's watermark carries the inherited hashes on, and lineage is asked once per new shard.
    expect(watermark(CHILD)?.recentEventHashes as HashBlock[]).toHaveLength(2);
    await run([aRecord(anEvent(), { shardId: CHILD })]);
    expect(asked).toEqual([PARENT, CHILD]);
  });

  it('reports the child’s first record when its lineage cannot be read, and emits nothing', async () => {
    const { cloudwatch, deps, run } = setup();
    deps.parentShards = async () => {
      throw new Error('ListShards throttled');
    };
    const record = aRecord(anEvent(), { shardId: CHILD });
    expect((await run([record])).response).toEqual({
      batchItemFailures: [{ itemIdentifier: seqOf(record) }],
    });
    expect(cloudwatch.requests).toHaveLength(0);
  });
});

describe('watermark item size', () => {
  it('keeps hashes for the duplicate window only: 100 records/s over 10 minutes stays a few KB', async () => {
    const { deps, run, watermark } = setup();
    deps.duplicateWindowSeconds = 5;
    for (let second = 0; second < 600; second += 5) {
      const arrivalMs = T0 + second * 1000;
      await run(
        Array.from({ length: 500 }, () => aRecord(anEvent({ timestamp: T0 }), { arrivalMs, shardId: SHARD })),
      );
    }
    const item = watermark() as Record<string, unknown>;
    // Two blocks of 500 (the newest and the one 5 s before it), 8 bytes a hash.
    expect((item.recentEventHashes as HashBlock[]).map((b) => b.h.length)).toEqual([4000, 4000]);
    expect(itemBytes(item)).toBeLessThan(8_300);
  });

  it('stays under the item budget at the largest allowed RECENT_EVENT_IDS_LIMIT', async () => {
    const { deps, run, watermark } = setup();
    deps.recentEventIdsLimit = 20_000;
    deps.duplicateWindowSeconds = 3_600;
    await run(
      Array.from({ length: 20_500 }, (_, i) =>
        aRecord(anEvent({ eventId: widestId(MAX_ID_BYTES - 8) + String(i).padStart(8, '0') })),
      ),
    );
    const item = watermark() as Record<string, unknown>;
    expect(itemBytes(item)).toBeGreaterThan(160_000);
    expect(itemBytes(item)).toBeLessThan(ITEM_BYTE_BUDGET);
  });
});

describe('emitBatchMetrics: remaining time', () => {
  it('with a slow CloudWatch, leaves the next segment for the retry near the deadline; totals stay exact', async () => {
    const { cloudwatch, deps, run, watermark } = setup();
    // A fake clock a slow CloudWatch moves on: each PutMetricData takes 55 s of a 60 s invocation.
    let elapsed = 0;
    const send = cloudwatch.send.bind(cloudwatch);
    deps.cloudwatch = {
      send: async (command: Parameters<typeof send>[0]) => {
        elapsed += 55_000;
        return send(command);
      },
    } as EmitterDeps['cloudwatch'];
    deps.deadline = { remainingMs: () => 60_000 - elapsed, marginMs: marginFor(60_000) };
    // One event per minute: two PutMetricData segments (the first ends at record 498).
    const records = Array.from({ length: 600 }, (_, i) => aRecord(anEvent({ timestamp: T0 - i * MINUTE })));

    const first = await run(records);
    expect(first.response).toEqual({ batchItemFailures: [{ itemIdentifier: seqOf(records[499]) }] });
    expect(first.summary).toMatchObject({ deferredSegments: 1, emitted: 499 });
    expect(watermark()).toMatchObject({ lastSequenceNumber: seqOf(records[498]) });

    elapsed = 0;
    const retry = await run(records.slice(499));
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(cloudwatch.total('Events', ENV)).toBe(600);
  });

  it('starts no shard when the invocation begins with too little time', async () => {
    const { cloudwatch, deps, run } = setup();
    deps.deadline = { remainingMs: () => 1_000, marginMs: 5_000 };
    const records = [aRecord(anEvent())];
    expect((await run(records)).response).toEqual({
      batchItemFailures: [{ itemIdentifier: seqOf(records[0]) }],
    });
    expect(cloudwatch.requests).toHaveLength(0);
  });
});

describe('watermark hash blocks', () => {
  it('merges the oldest blocks so that many small batches keep at most MAX_HASH_BLOCKS blocks', async () => {
    const { run, watermark } = setup();
    const ids: Buffer[] = [];
    for (let i = 0; i < MAX_HASH_BLOCKS + 20; i++) {
      const event = anEvent({ timestamp: T0 });
      ids.push(userEventHash(event.userId, event.eventId));
      await run([aRecord(event, { arrivalMs: T0 + i * 1000 })]);
    }
    const blocks = watermark()?.recentEventHashes as HashBlock[];
    expect(blocks).toHaveLength(MAX_HASH_BLOCKS);
    expect(Buffer.concat(blocks.map((b) => b.h))).toEqual(Buffer.concat(ids));
    expect(blocks.map((b) => b.at)).toEqual([...blocks.map((b) => b.at)].sort((a, b) => a - b));
  });
});
