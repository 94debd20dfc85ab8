/**
 * (5) The producer: records/s into the local Kinesis with `publishBatch` (PutRecords, 500 per
 * request) against a PutRecord loop, and in-process throughput (validate, encode, chunk, build the
 * requests) with Kinesis stubbed.
 */
import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { publishBatch } from '../../services/producer/index.js';
import { seedPublish } from './baseline/producer.js';
import { perSecond } from './context.js';
import { makeEvents } from './data.js';
import { median, timed } from './stats.js';
import type { BenchContext, Row } from './types.js';

const AREA = 'producer';

/** Accepts every record at once. */
const stubKinesis = {
  send: async (command: PutRecordsCommand) => ({
    Records: (command.input.Records ?? []).map(() => ({
      SequenceNumber: '1',
      ShardId: 'shardId-000000000000',
    })),
  }),
} as unknown as KinesisClient;

export async function benchProducer(ctx: BenchContext): Promise<Row[]> {
  const { producer, runs } = ctx.options;
  const { env } = ctx;
  const stream = env.resources.streamName;
  const ours: number[] = [];
  const base: number[] = [];
  const oursRequests: number[] = [];
  for (let run = 0; run < runs; run++) {
    const events = makeEvents({
      count: producer.records,
      users: 1_000,
      prefix: `p${run}${Date.now().toString(36)}`,
    });
    env.counter.reset();
    const t = await timed(() => publishBatch(events, { kinesis: env.clients.kinesis, stream }));
    if (t.value.failed.length > 0) throw new Error(`publishBatch failed ${t.value.failed.length} records`);
    ctx.breakdown[`${AREA} ours`] = env.counter.snapshot();
    oursRequests.push(env.counter.total('kinesis'));
    ours.push(perSecond(events.length, t.ms));

    const seedEvents = events.slice(0, producer.baselineRecords);
    env.counter.reset();
    const s = await timed(() => seedPublish(seedEvents, { kinesis: env.clients.kinesis, stream }));
    ctx.breakdown[`${AREA} baseline`] = env.counter.snapshot();
    base.push(perSecond(seedEvents.length, s.ms));
  }

  const inProcess: number[] = [];
  const inProcessBase: number[] = [];
  const many = makeEvents({ count: producer.inProcessRecords, users: 10_000, prefix: 'pi' });
  await publishBatch(many.slice(0, 1_000), { kinesis: stubKinesis, stream }); // warm-up
  for (let run = 0; run < Math.max(3, runs); run++) {
    const t = await timed(() => publishBatch(many, { kinesis: stubKinesis, stream }));
    inProcess.push(perSecond(many.length, t.ms));
    const s = await timed(() => seedPublish(many, { kinesis: stubKinesis, stream }));
    inProcessBase.push(perSecond(many.length, s.ms));
  }
  ctx.log(
    `  publishBatch ${median(ours).toFixed(0)} records/s, PutRecord loop ${median(base).toFixed(0)} records/s`,
  );
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    {
      area: AREA,
      metric: `records/s into local Kinesis (${n(producer.records)} events): publishBatch vs PutRecord loop`,
      unit: 'records/s',
      ours: median(ours),
      baseline: median(base),
      runs,
      note: `ours ${median(oursRequests)} PutRecords requests; baseline 1 PutRecord per event (first ${n(producer.baselineRecords)} events)`,
    },
    {
      area: AREA,
      metric: `in-process validate + encode + chunk (${n(producer.inProcessRecords)} events, Kinesis stubbed)`,
      unit: 'records/s',
      ours: median(inProcess),
      baseline: median(inProcessBase),
      runs: Math.max(3, runs),
      note: 'baseline: JSON + one request object per event, no validation',
    },
  ];
}
