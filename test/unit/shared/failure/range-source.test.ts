import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import {
  KinesisRangeSource,
  type RangeRecord,
  streamParam,
  toKinesisEvent,
} from '../../../../services/shared/failure/range-source.js';
import { awsError } from '../../../helpers/fake-dynamo.js';

const ARN = 'arn:aws:kinesis:eu-west-1:000000000000:stream/pulse-dev-events';
const SHARD = 'shardId-000000000000';
const seq = (n: number) => String(100 + n);

/** A shard of records 1..n; every GetRecords returns `page` records; the iterator is the next index. */
function fakeKinesis(n: number, page: number, options: { trimmedBefore?: number; tipEmpty?: number } = {}) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const records = Array.from({ length: n }, (_, i) => i + 1).filter((i) => i >= (options.trimmedBefore ?? 0));
  let empties = options.tipEmpty ?? 0;
  const kinesis = {
    send: async (command: { input: Record<string, unknown> }) => {
      const input = command.input;
      if (command instanceof GetShardIteratorCommand) {
        calls.push({ name: 'GetShardIterator', input });
        if (input.ShardIteratorType === 'TRIM_HORIZON') return { ShardIterator: '0' };
        const at = Number(input.StartingSequenceNumber) - 100;
        if (options.trimmedBefore !== undefined && at < options.trimmedBefore)
          throw awsError('InvalidArgumentException');
        return { ShardIterator: String(records.findIndex((r) => r >= at)) };
      }
      if (command instanceof GetRecordsCommand) {
        calls.push({ name: 'GetRecords', input });
        const i = Number(input.ShardIterator);
        const got = i < 0 ? [] : records.slice(i, i + page);
        const end = i < 0 || i + page >= records.length;
        if (got.length === 0 && empties > 0) {
          empties -= 1;
          return { Records: [], NextShardIterator: String(i), MillisBehindLatest: 5 };
        }
        return {
          Records: got.map((r) => ({
            SequenceNumber: seq(r),
            PartitionKey: `u${r}`,
            Data: new Uint8Array([r]),
            ApproximateArrivalTimestamp: new Date(r * 1000),
          })),
          NextShardIterator: String(end ? records.length : i + page),
          MillisBehindLatest: end ? 0 : 1000,
        };
      }
      throw new Error('unexpected command');
    },
  };
  return { kinesis, calls };
}

async function collect(src: KinesisRangeSource, from: string, to: string, stream = ARN) {
  const pages: RangeRecord[][] = [];
  for await (const page of src.pages({ streamArn: stream, shardId: SHARD }, from, to)) pages.push(page);
  return pages;
}

test('reads from `from` through `to` in pages, AT_SEQUENCE_NUMBER, stopping past `to`', async () => {
  const { kinesis, calls } = fakeKinesis(20, 4);
  const src = new KinesisRangeSource({ kinesis, pageSize: 4, minIntervalMs: 0 });
  const pages = await collect(src, seq(3), seq(9));
  expect(pages.map((p) => p.map((r) => r.sequenceNumber))).toEqual([
    [seq(3), seq(4), seq(5), seq(6)],
    [seq(7), seq(8), seq(9)],
  ]);
  expect(pages[0]![0]).toEqual({
    shardId: SHARD,
    sequenceNumber: seq(3),
    partitionKey: 'u3',
    data: new Uint8Array([3]),
    arrivalMs: 3000,
  });
  expect(calls[0]).toEqual({
    name: 'GetShardIterator',
    input: {
      StreamARN: ARN,
      ShardId: SHARD,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: seq(3),
    },
  });
  expect(calls.filter((c) => c.name === 'GetRecords')).toHaveLength(2);
  expect(calls[1]!.input).toMatchObject({ Limit: 4, StreamARN: ARN });
});

test('a stream given by name is asked by name', async () => {
  expect(streamParam(ARN)).toEqual({ StreamARN: ARN });
  expect(streamParam('events')).toEqual({ StreamName: 'events' });
  const { kinesis, calls } = fakeKinesis(3, 10);
  await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(3), 'events');
  expect(calls[0]!.input).toMatchObject({ StreamName: 'events' });
  expect(calls[1]!.input.StreamARN).toBeUndefined();
  expect(calls[1]!.input.Limit).toBe(1000);
});

test('ends at the tip of an open shard', async () => {
  const { kinesis, calls } = fakeKinesis(5, 10);
  const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(2), seq(99));
  expect(pages.flat().map((r) => r.sequenceNumber)).toEqual([seq(2), seq(3), seq(4), seq(5)]);
  expect(calls.filter((c) => c.name === 'GetRecords').length).toBeLessThanOrEqual(2);
});

test('empty pages behind the tip are followed, up to a bound', async () => {
  const { kinesis } = fakeKinesis(0, 10, { tipEmpty: 100 });
  const src = new KinesisRangeSource({ kinesis, minIntervalMs: 0, maxEmptyPages: 3 });
  expect(await collect(src, seq(1), seq(2))).toEqual([]);
});

test('a trimmed start is read from the trim horizon: the first record shows the gap', async () => {
  const { kinesis, calls } = fakeKinesis(10, 10, { trimmedBefore: 4 });
  const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(6));
  expect(calls[1]!.input).toMatchObject({ ShardIteratorType: 'TRIM_HORIZON' });
  expect(pages.flat()[0]!.sequenceNumber).toBe(seq(4));
});

test('other errors pass through', async () => {
  const kinesis = {
    send: async () => {
      throw awsError('ProvisionedThroughputExceededException');
    },
  };
  await expect(collect(new KinesisRangeSource({ kinesis }), seq(1), seq(2))).rejects.toThrow(
    'ProvisionedThroughputExceededException',
  );
});

test('GetRecords calls on one shard are spaced to stay within Kinesis limits', async () => {
  const { kinesis } = fakeKinesis(9, 3);
  let clock = 0;
  const waits: number[] = [];
  const src = new KinesisRangeSource({
    kinesis,
    pageSize: 3,
    minIntervalMs: 200,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  clock = 1;
  await collect(src, seq(1), seq(9));
  expect(waits).toEqual([200, 200]);
});

test('toKinesisEvent is the event Lambda would send', () => {
  const event = toKinesisEvent(
    [
      {
        shardId: SHARD,
        sequenceNumber: seq(1),
        partitionKey: 'u1',
        data: new Uint8Array([104, 105]),
        arrivalMs: 1500,
      },
    ],
    ARN,
  );
  expect(event.Records[0]).toEqual({
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: 'u1',
      sequenceNumber: seq(1),
      data: 'aGk=',
      approximateArrivalTimestamp: 1.5,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD}:${seq(1)}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'pulse-redrive',
    awsRegion: 'eu-west-1',
    eventSourceARN: ARN,
  });
  expect(toKinesisEvent([], 'x').Records).toEqual([]);
});
