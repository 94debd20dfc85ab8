/**
 * Scenario: the stream reshards mid-traffic. The runner plays Lambda: a child shard is read only
 * after its parents are read to their end, with its own checkpoint. Traffic goes out in three
 * parts: 2 shards, then UpdateShardCount to 4, then a merge of two adjacent children
 * (ParentShardId + AdjacentParentShardId). Producer retries of events put before the reshard
 * land in the children after it. Every function still ends at the exact truth.
 */
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { FUNCTIONS } from '../../lib/config.js';
import { sleep } from '../../scripts/local/processes.js';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(240_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('reshard', { shardPollMs: 500 });
});
afterAll(async () => {
  await p?.stop();
});

async function waitActive(): Promise<void> {
  for (;;) {
    const out = await p.clients.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: p.resources.streamName }),
    );
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
}

async function openShards() {
  const { Shards } = await p.clients.kinesis.send(
    new ListShardsCommand({ StreamARN: p.resources.streamArn }),
  );
  return (Shards ?? [])
    .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
    .sort((a, b) =>
      BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
    );
}

/** The same events put again as new records, as a producer does when a response was lost. */
async function putAgain(events: readonly PulseEvent[]): Promise<void> {
  const out = await p.clients.kinesis.send(
    new PutRecordsCommand({
      StreamARN: p.resources.streamArn,
      Records: events.map((e) => ({ PartitionKey: e.userId, Data: Buffer.from(JSON.stringify(e)) })),
    }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
}

test('UpdateShardCount 2→4 and a merge mid-traffic: children read after their parents, exact totals', async () => {
  const traffic = generateTraffic({
    seed: 808,
    users: 30,
    events: 900,
    rate: 300,
    returningUsers: 0.3,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const n = traffic.events.length; // the fraud patterns add events to the 900
  const thirds = [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n];
  const sendPart = async (part: number) => {
    const [from, to] = [thirds[part]!, thirds[part + 1]!];
    const start = traffic.schedule[from]!;
    const sent = await sendTraffic(
      traffic.events.slice(from, to),
      traffic.schedule.slice(from, to).map((t) => t - start),
      { kinesis: p.clients.kinesis, stream: p.resources.streamName, tickMs: 50 },
    );
    expect(sent.failed).toEqual([]);
  };

  await sendPart(0);
  await p.clients.kinesis.send(
    new UpdateShardCountCommand({
      StreamARN: p.resources.streamArn,
      TargetShardCount: 4,
      ScalingType: 'UNIFORM_SCALING',
    }),
  );
  await waitActive();
  // Producer retries whose first attempt landed in a parent and whose retry lands in a child.
  const retried = traffic.events.slice(thirds[1]! - 100, thirds[1]).filter((_, i) => i % 4 === 0);
  await putAgain(retried);
  await sendPart(1);

  const [a, b] = await openShards();
  await p.clients.kinesis.send(
    new MergeShardsCommand({
      StreamARN: p.resources.streamArn,
      ShardToMerge: a!.ShardId!,
      AdjacentShardToMerge: b!.ShardId!,
    }),
  );
  await waitActive();
  await sendPart(2);

  const onStream = traffic.events.length + retried.length;
  await p.runner.waitForProcessed(onStream, 180_000);
  const { Shards } = await p.clients.kinesis.send(
    new ListShardsCommand({ StreamARN: p.resources.streamArn }),
  );
  const merged = Shards?.find((s) => s.AdjacentParentShardId !== undefined);
  expect(merged).toBeDefined();
  for (const s of p.runner.stats()) {
    expect({ fn: s.fn, received: s.received, toDestination: s.sentToDestination }).toEqual({
      fn: s.fn,
      received: onStream,
      toDestination: 0,
    });
  }
  for (const fn of FUNCTIONS) {
    const checkpoints = p.runner.mappings.get(fn)!.checkpoint();
    // Every shard that received records after the reshard has its own checkpoint.
    expect(Object.keys(checkpoints)).toEqual(expect.arrayContaining([merged!.ShardId!]));
    expect(Object.keys(checkpoints).length).toBeGreaterThanOrEqual(5);
  }

  await expectSessionsMatch(p, traffic.truth);
  await expectAlertsMatch(p, traffic.truth);
  await expectMetricsMatch(p, traffic.truth, { invalid: 0 });
  console.log(
    `reshard: ${Shards?.length} shards in the end, ${retried.length} producer retries across the reshard`,
  );
});
