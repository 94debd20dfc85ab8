/**
 * Issue 8, items 1-4 end to end: future-dated events, records with characters SQS refuses (a raw
 * ESC, a NUL first byte, a lone surrogate, U+FFFF, in the data and in the partition key) and the
 * largest invalid record Kinesis accepts (1 MiB), mixed into normal traffic with fraud patterns.
 * Every bad record reaches the invalid-records queue once per position with a reason and an
 * SQS-legal body; nothing goes to an on-failure queue (no shard stalls); the valid records' results
 * equal the truth computed without the bad ones, so a future event changed no user's sessions or
 * fraud rules.
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { MAX_MESSAGE_BYTES } from '../../services/shared/invalid-records.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import {
  expectAlertsMatch,
  expectAllProcessed,
  expectMetricsMatch,
  expectSessionsMatch,
} from '../helpers/pipeline-truth.js';
import { firstIllegalCharacter } from '../helpers/sqs-rules.js';

jest.setTimeout(240_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('hostile');
});
afterAll(async () => {
  await p?.stop();
});

const YEAR = 365 * 24 * 3_600_000;
const ONE_MIB = 1024 * 1024;

interface Bad {
  name: string;
  key: string;
  data: Buffer;
  reason: RegExp;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

test('hostile records are quarantined once each with SQS-legal messages; no shard stalls; results exact', async () => {
  const now = Date.now();
  const traffic = generateTraffic({
    seed: 808,
    users: 12,
    events: 300,
    rate: 300,
    startTime: now,
    returningUsers: 0.3,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const users = [...new Set(traffic.events.map((e) => e.userId))];
  const fraudUsers = users.filter((u) => u.startsWith('fraud-'));
  const normalUsers = users.filter((u) => !u.startsWith('fraud-')).slice(0, 3);

  // Future-dated events for users who have traffic after them: a year ahead (a broken clock or a
  // forged time) and ten minutes ahead (past the 300 s default tolerance).
  const future: Bad[] = [...fraudUsers, ...normalUsers].map((userId, i) => {
    const event: PulseEvent = {
      eventId: `future-${i}`,
      userId,
      eventType: 'purchase',
      timestamp: now + (i % 2 === 0 ? YEAR : 10 * 60_000),
      data: { amount: 1, currency: 'USD', orderId: `future-order-${i}`, country: 'NZ' },
    };
    return {
      name: `future-${i}`,
      key: userId,
      data: json(event),
      reason: /s ahead of the record's arrival time/,
    };
  });

  const hostile: Bad[] = [
    {
      name: 'raw ESC (an ANSI log line)',
      key: 'log-line',
      data: Buffer.from('\u001b[31mERROR\u001b[0m payment service unavailable', 'utf8'),
      reason: /^data is not valid JSON/,
    },
    {
      name: 'NUL first byte',
      key: 'nul-first',
      data: Buffer.concat([Buffer.from([0x00]), json({ eventId: 'n' })]),
      reason: /^data is not valid JSON/,
    },
    {
      name: 'lone surrogate bytes (an emoji cut in half, CESU-8)',
      key: 'cut-emoji',
      data: Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0xbd, 0x22, 0x7d]),
      reason: /^data is not valid UTF-8$/,
    },
    {
      name: 'lone surrogate escaped in an id',
      key: 'surrogate-id',
      data: Buffer.from(
        `{"eventId":"half-\\ud83d","userId":"surrogate-id","eventType":"page_view","timestamp":${now}}`,
        'utf8',
      ),
      reason: /^schema: eventId must be well-formed Unicode/,
    },
    {
      name: 'U+FFFF',
      key: 'non-character',
      data: Buffer.from('\uffff{"eventId":"x"', 'utf8'),
      reason: /^data is not valid JSON/,
    },
    {
      name: 'U+FFFE and control characters in the partition key',
      key: 'key-\u001b[0m-\ufffe-\uffff',
      data: Buffer.from('{"broken":', 'utf8'),
      reason: /^data is not valid JSON: it ends early$/,
    },
    {
      name: 'the largest record Kinesis accepts (1 MiB, not JSON)',
      key: 'one-mib',
      data: Buffer.alloc(ONE_MIB - 'one-mib'.length, 0x01),
      reason: /^data is not valid JSON/,
    },
  ];
  const bad = [...future, ...hostile];

  const put = async (item: Bad) => {
    const out = await p.clients.kinesis.send(
      new PutRecordCommand({ StreamName: p.resources.streamName, PartitionKey: item.key, Data: item.data }),
    );
    return `${out.ShardId}/${out.SequenceNumber}`;
  };
  const positions = new Map<string, Bad>();
  // The future events go first, so they would be each user's "newest" event before their traffic.
  for (const item of future) positions.set(await put(item), item);
  const half = Math.floor(traffic.events.length / 2);
  const first = await sendTraffic(traffic.events.slice(0, half), traffic.schedule.slice(0, half), {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  // The hostile records land together, so one batch holds the 1 MiB record with the others.
  for (const item of hostile) positions.set(await put(item), item);
  const rest = await sendTraffic(
    traffic.events.slice(half),
    traffic.schedule.slice(half).map((t) => t - traffic.schedule[half]!),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect([...first.failed, ...rest.failed]).toEqual([]);

  const records = traffic.events.length + bad.length;
  await p.runner.waitForProcessed(records, 150_000);
  expectAllProcessed(p, records);
  for (const url of Object.values(p.resources.onFailureQueues)) expect(await drain(p, url)).toEqual([]);

  const messages = await drain(p, p.resources.queues['invalid-records']!, 2);
  for (const m of messages) expect(firstIllegalCharacter(m.body)).toBeUndefined();
  const bodies = messages.map((m) => m.json as Record<string, unknown>);
  const seen = bodies.map((b) => `${b.shardId}/${b.sequenceNumber}`);
  // Every bad record, and nothing else, by position.
  expect([...new Set(seen)].sort()).toEqual([...positions.keys()].sort());
  // At-least-once: a position appears twice only if session-updater's batch was retried.
  const updater = p.runner.stats().find((s) => s.fn === 'session-updater')!;
  if (updater.retries === 0 && updater.functionErrors === 0) expect(seen).toHaveLength(positions.size);

  for (const body of bodies) {
    const item = positions.get(`${body.shardId}/${body.sequenceNumber}`)!;
    expect({ name: item.name, reason: body.reason }).toEqual({
      name: item.name,
      reason: expect.stringMatching(item.reason),
    });
    expect(body.partitionKey).toBe(item.key);
    expect(body.rawDataBytes).toBe(item.data.length);
    const raw = item.data.toString('base64');
    if (item.data.length === ONE_MIB - 'one-mib'.length) {
      expect(body.rawDataTruncated).toBe(true);
      expect(raw.startsWith(body.rawData as string)).toBe(true);
      const bodyBytes = Buffer.byteLength(messages[bodies.indexOf(body)]!.body, 'utf8');
      expect(bodyBytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(bodyBytes).toBeGreaterThan(MAX_MESSAGE_BYTES - 1_000);
    } else {
      expect(body.rawData).toBe(raw);
      expect(body.rawDataTruncated).toBe(false);
    }
  }

  // The truth never saw the bad records: sessions, alerts and metrics equal it exactly.
  await expectSessionsMatch(p, traffic.truth);
  await expectAlertsMatch(p, traffic.truth);
  await expectMetricsMatch(p, traffic.truth, { invalid: bad.length });
});
