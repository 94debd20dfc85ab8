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

/** A shard whose GetRecords answers are scripted one by one; the clock may move with each call. */
function scripted(
  answers: Array<Record<string, unknown>>,
  options: { atError?: Error; tick?: () => void } = {},
) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  let next = 0;
  const kinesis = {
    send: async (command: { input: Record<string, unknown> }) => {
      if (command instanceof GetShardIteratorCommand) {
        calls.push({ name: 'GetShardIterator', input: command.input });
        if (options.atError && command.input.ShardIteratorType === 'AT_SEQUENCE_NUMBER')
          throw options.atError;
        return { ShardIterator: 'it' };
      }
      calls.push({ name: 'GetRecords', input: command.input });
      options.tick?.();
      const answer = answers[next] ?? { Records: [], MillisBehindLatest: 0 };
      next += 1;
      return { NextShardIterator: 'it', MillisBehindLatest: 1000, ...answer };
    },
  };
  return { kinesis, calls, getRecords: () => calls.filter((c) => c.name === 'GetRecords').length };
}

const rec = (n: number) => ({
  SequenceNumber: seq(n),
  PartitionKey: `u${n}`,
  Data: new Uint8Array([n]),
  ApproximateArrivalTimestamp: new Date(n * 1000),
});

test.each(['ResourceNotFoundException', 'ExpiredIteratorException'])(
  'a start the stream reports as %s is read from the trim horizon',
  async (name) => {
    const { kinesis, calls } = scripted([{ Records: [rec(4), rec(5)] }], { atError: awsError(name) });
    const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(5));
    expect(calls[1]!.input).toMatchObject({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(pages.flat().map((r) => r.sequenceNumber)).toEqual([seq(4), seq(5)]);
  },
);

test('an error positioning at the start that is not about retention fails the read', async () => {
  const { kinesis, calls } = scripted([{ Records: [rec(1)] }], {
    atError: awsError('ProvisionedThroughputExceededException'),
  });
  await expect(
    collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(1)),
  ).rejects.toThrow('ProvisionedThroughputExceededException');
  expect(calls).toHaveLength(1);
});

test('an answer without records ends the read with nothing', async () => {
  const { kinesis } = scripted([{ Records: undefined, MillisBehindLatest: 0 }]);
  expect(await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(2))).toEqual([]);
});

test('a record missing its partition key, data or arrival time is read with empty values', async () => {
  const { kinesis } = scripted([{ Records: [{ SequenceNumber: seq(1) }] }]);
  const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(1));
  expect(pages).toEqual([
    [{ shardId: SHARD, sequenceNumber: seq(1), partitionKey: '', data: new Uint8Array(0), arrivalMs: 0 }],
  ]);
});

test('records before `from` in a page are left out', async () => {
  const { kinesis } = scripted([{ Records: [rec(1), rec(2), rec(3)] }]);
  const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(2), seq(3));
  expect(pages.flat().map((r) => r.sequenceNumber)).toEqual([seq(2), seq(3)]);
});

test('a record past `to` ends the read even when `to` itself is not a record', async () => {
  const { kinesis, getRecords } = scripted([{ Records: [rec(1), rec(2), rec(4)] }, { Records: [rec(5)] }]);
  const pages = await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(3));
  expect(pages.flat().map((r) => r.sequenceNumber)).toEqual([seq(1), seq(2)]);
  expect(getRecords()).toBe(1);
});

test('empty pages behind the tip stop the read after exactly maxEmptyPages of them', async () => {
  const { kinesis, getRecords } = scripted(Array.from({ length: 10 }, () => ({ Records: [] })));
  const src = new KinesisRangeSource({ kinesis, minIntervalMs: 0, maxEmptyPages: 3 });
  expect(await collect(src, seq(1), seq(9))).toEqual([]);
  expect(getRecords()).toBe(3);
});

test('a page with records resets the count of empty pages', async () => {
  const { kinesis } = scripted([
    { Records: [] },
    { Records: [] },
    { Records: [rec(1)] },
    { Records: [] },
    { Records: [] },
    { Records: [rec(2)] },
  ]);
  const src = new KinesisRangeSource({ kinesis, minIntervalMs: 0, maxEmptyPages: 3 });
  expect((await collect(src, seq(1), seq(2))).flat().map((r) => r.sequenceNumber)).toEqual([seq(1), seq(2)]);
});

test('a page with records at the tip is followed by the next page', async () => {
  const { kinesis } = scripted([
    { Records: [rec(1)], MillisBehindLatest: 0 },
    { Records: [rec(2)], MillisBehindLatest: 0 },
  ]);
  const src = new KinesisRangeSource({ kinesis, minIntervalMs: 0 });
  expect((await collect(src, seq(1), seq(2))).flat().map((r) => r.sequenceNumber)).toEqual([seq(1), seq(2)]);
});

test('an empty page whose lag is unknown is taken as the tip', async () => {
  const { kinesis, getRecords } = scripted([
    { Records: [], MillisBehindLatest: undefined },
    { Records: [rec(1)] },
  ]);
  expect(await collect(new KinesisRangeSource({ kinesis, minIntervalMs: 0 }), seq(1), seq(1))).toEqual([]);
  expect(getRecords()).toBe(1);
});

test('GetRecords calls are spaced 200 ms apart by default', async () => {
  let clock = 1;
  const waits: number[] = [];
  const { kinesis } = scripted([{ Records: [rec(1)] }, { Records: [rec(2)] }]);
  const src = new KinesisRangeSource({
    kinesis,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  await collect(src, seq(1), seq(2));
  expect(waits).toEqual([200]);
});

test('calls already spaced by the interval do not wait', async () => {
  let clock = 1;
  const waits: number[] = [];
  const { kinesis } = scripted([{ Records: [rec(1)] }, { Records: [rec(2)] }, { Records: [rec(3)] }], {
    tick: () => {
      clock += 200;
    },
  });
  const src = new KinesisRangeSource({
    kinesis,
    minIntervalMs: 200,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  await collect(src, seq(1), seq(3));
  expect(waits).toEqual([]);
});

test('toKinesisEvent names no region when the stream is not an ARN', () => {
  const [record] = toKinesisEvent(
    [{ shardId: SHARD, sequenceNumber: seq(1), partitionKey: 'u1', data: new Uint8Array(), arrivalMs: 0 }],
    'events',
  ).Records;
  expect(record!.awsRegion).toBe('');
});
