/**
 * Scenario 4: poison records — malformed JSON, schema violations, a 1 MB record, invalid UTF-8,
 * a userId that does not match the partition key — each ends in the invalid-records queue with
 * its reason and position; odd-but-valid unicode is processed; the shard keeps flowing and the
 * valid records' results are exact.
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(180_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('poison');
});
afterAll(async () => {
  await p?.stop();
});

test('poison records go to the invalid-records queue with a reason; everything else is exact', async () => {
  const now = Date.now();
  const traffic = generateTraffic({ seed: 404, users: 10, events: 200, rate: 400, startTime: now });
  const unicode: PulseEvent[] = [
    {
      eventId: 'evt-ü-1',
      userId: 'ユーザー-😀',
      eventType: 'page_view',
      timestamp: now + 1,
      data: { page: '/\u202eabc\u0000 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \ud83d\udc4d' },
    },
    {
      eventId: 'evt-ü-2',
      userId: 'ユーザー-😀',
      eventType: 'product_view',
      timestamp: now + 2,
      data: { productId: '製品-Ω-\u00e9\u0301' },
    },
    {
      eventId: 'evt-ü-3',
      userId: 'ユーザー-😀',
      eventType: 'purchase',
      timestamp: now + 3,
      data: { amount: 12.34, currency: 'EUR', orderId: 'ordre-№1', country: 'FR' },
    },
  ];
  const poison: Array<{ key: string; data: Buffer; reason: RegExp }> = [
    { key: 'poison-1', data: Buffer.from('{"eventId": "p1", "userId": '), reason: /not valid JSON/ },
    {
      key: 'poison-2',
      data: Buffer.from(JSON.stringify({ eventId: 'p2', eventType: 'page_view', timestamp: now })),
      reason: /schema: userId/,
    },
    {
      key: 'poison-3',
      data: Buffer.from(
        JSON.stringify({
          eventId: 'p3',
          userId: 'poison-3',
          eventType: 'purchase',
          timestamp: now,
          data: { amount: -5, currency: 'USD', orderId: 'o' },
        }),
      ),
      reason: /schema: data\.amount/,
    },
    { key: 'poison-4', data: Buffer.alloc(1024 * 1024 - 'poison-4'.length, 'x'), reason: /not valid JSON/ },
    { key: 'poison-5', data: Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]), reason: /not valid UTF-8/ },
    {
      key: 'poison-6',
      data: Buffer.from(
        JSON.stringify({ eventId: 'p6', userId: 'someone-else', eventType: 'page_view', timestamp: now }),
      ),
      reason: /partition key/,
    },
  ];
  const half = Math.floor(traffic.events.length / 2);
  const first = await sendTraffic(traffic.events.slice(0, half), traffic.schedule.slice(0, half), {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  const positions = new Map<string, { shardId: string; sequenceNumber: string }>();
  for (const item of poison) {
    const out = await p.clients.kinesis.send(
      new PutRecordCommand({ StreamName: p.resources.streamName, PartitionKey: item.key, Data: item.data }),
    );
    positions.set(item.key, { shardId: out.ShardId!, sequenceNumber: out.SequenceNumber! });
  }
  const uni = await sendTraffic(
    unicode,
    unicode.map(() => 0),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  const rest = await sendTraffic(
    traffic.events.slice(half),
    traffic.schedule.slice(half).map((t) => t - traffic.schedule[half]!),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect([...first.failed, ...uni.failed, ...rest.failed]).toEqual([]);

  const records = traffic.events.length + unicode.length + poison.length;
  await p.runner.waitForProcessed(records, 120_000);
  for (const s of p.runner.stats())
    expect({ fn: s.fn, processed: s.processed, dlq: s.sentToDestination }).toEqual({
      fn: s.fn,
      processed: records,
      dlq: 0,
    });

  const messages = await drain(p, p.resources.queues['invalid-records']!, 2);
  expect(messages).toHaveLength(poison.length); // one per bad record: only session-updater reports them
  const byKey = new Map(
    messages.map((m) => [
      (m.json as { partitionKey: string }).partitionKey,
      m.json as Record<string, unknown>,
    ]),
  );
  for (const item of poison) {
    const message = byKey.get(item.key);
    expect(message).toBeDefined();
    expect(message!.reason).toMatch(item.reason);
    expect({ shardId: message!.shardId, sequenceNumber: message!.sequenceNumber }).toEqual(
      positions.get(item.key),
    );
    const raw = item.data.toString('base64');
    if (message!.rawDataTruncated) expect(raw.startsWith(message!.rawData as string)).toBe(true);
    else expect(message!.rawData).toBe(raw);
  }
  expect(byKey.get('poison-4')!.rawDataBytes).toBe(item4Bytes(poison));

  const truth = computeTruth([...traffic.events, ...unicode], []);
  await expectSessionsMatch(p, truth);
  await expectMetricsMatch(p, truth, { invalid: poison.length });
});

function item4Bytes(poison: Array<{ key: string; data: Buffer }>): number {
  return poison.find((x) => x.key === 'poison-4')!.data.length;
}
