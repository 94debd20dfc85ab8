/**
 * The archive end to end on the local stack (kinesis-local + moto S3, archive-writer as a fourth
 * EFO consumer in the runner). Demo-like traffic crossing a UTC midnight (two days), producer
 * duplicates, a reshard 2→4 mid-traffic and invalid records go on the stream. Then:
 * - the archive holds every valid event exactly once (the de-duplicated view before compaction,
 *   the raw rows after it), and nothing else;
 * - `pulse archive query events-per-day` (DuckDB over the archived Parquet) equals the truth per
 *   day and type; user-history equals one user's events in order;
 * - invalid records sit apart, each with its reason;
 * - after the stream is gone (deleted and created anew: nothing to read back) and the live tables
 *   are lost, `pulse archive replay` rebuilds sessions and alerts exactly; a second run changes
 *   nothing.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { sleep } from '../../scripts/local/processes.js';
import { scanTable } from '../../scripts/local/readback.js';
import { createResources } from '../../scripts/local/resources.js';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { compactClosedHours } from '../../services/archive-writer/compactor.js';
import { parseArchiveKey } from '../../services/shared/archive/layout.js';
import { ArchiveStore } from '../../services/shared/archive/store.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { silentLogger } from '../../services/shared/logger.js';
import { pulse } from '../helpers/cli.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(300_000);

const DAY_MS = 86_400_000;
// Traffic starts 1.5 s before yesterday's UTC midnight, so it spans two days (and two hours).
const MIDNIGHT = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let p: Pipeline;
let store: ArchiveStore;
beforeAll(async () => {
  p = await startPipeline('archive', {
    shardPollMs: 500,
    esm: { 'archive-writer': { maximumBatchingWindowInSeconds: 1 } },
  });
  store = new ArchiveStore({ s3: p.clients.s3, bucket: p.resources.buckets.archive! });
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

async function put(records: Array<{ key: string; data: string }>): Promise<void> {
  const out = await p.clients.kinesis.send(
    new PutRecordsCommand({
      StreamARN: p.resources.streamArn,
      Records: records.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(r.data) })),
    }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
}

async function archivedEvents() {
  const keys = (await store.list('events/')).map((o) => o.key);
  return { keys, rows: (await Promise.all(keys.map((k) => store.readEvents(k)))).flat() };
}

test('every valid event archived exactly once, SQL equals the truth, invalid apart, replay after the stream is gone', async () => {
  const traffic = generateTraffic({
    seed: 1717,
    users: 25,
    events: 600,
    rate: 400,
    startTime: MIDNIGHT - 1_500,
    returningUsers: 0,
    fraud: { largePurchase: 1, burst: 1, countryHop: 0 },
  });
  const n = traffic.events.length;
  const half = Math.floor(n / 2);
  const send = async (from: number, to: number) => {
    const start = traffic.schedule[from]!;
    const sent = await sendTraffic(
      traffic.events.slice(from, to),
      traffic.schedule.slice(from, to).map((t) => t - start),
      { kinesis: p.clients.kinesis, stream: p.resources.streamName, tickMs: 50 },
    );
    expect(sent.failed).toEqual([]);
  };

  await send(0, half);
  await p.clients.kinesis.send(
    new UpdateShardCountCommand({
      StreamARN: p.resources.streamArn,
      TargetShardCount: 4,
      ScalingType: 'UNIFORM_SCALING',
    }),
  );
  await waitActive();
  // Producer duplicates: events put again as new records, across the reshard. A producer retry
  // follows its first copy closely, so these are events near the reshard point: the sessions'
  // documented duplicate scope (16 newer events of the user, 120 s) covers them, while the
  // archive's own de-duplication has no such limit.
  const duplicates = traffic.events.slice(half - 60, half + 60).filter((_, i) => i % 3 === 0);
  await put(duplicates.map((e) => ({ key: e.userId, data: JSON.stringify(e) })));
  await send(half, n);
  const invalid = [
    { key: 'bad-1', data: '{not json' },
    {
      key: 'bad-2',
      data: JSON.stringify({
        eventId: 'x',
        userId: 'bad-2',
        eventType: 'product_view',
        timestamp: Date.now(),
        data: {},
      }),
    },
    {
      key: 'someone-else',
      data: JSON.stringify({ eventId: 'y', userId: 'bad-3', eventType: 'page_view', timestamp: Date.now() }),
    },
  ];
  await put(invalid);

  const onStream = n + duplicates.length + invalid.length;
  await p.runner.waitForProcessed(
    { 'archive-writer': onStream, 'session-updater': onStream, 'fraud-rules': onStream },
    180_000,
  );
  const writer = p.runner.stats().find((s) => s.fn === 'archive-writer')!;
  expect({ received: writer.received, toDestination: writer.sentToDestination }).toEqual({
    received: onStream,
    toDestination: 0,
  });

  const byId = new Map<string, PulseEvent>(traffic.events.map((e) => [e.eventId, e]));
  const expectedIds = [...byId.keys()].sort();

  // Before compaction: rows may repeat across part files; the de-duplicated view is exact.
  const { rows: raw } = await archivedEvents();
  expect(raw.length).toBeGreaterThanOrEqual(n);
  expect([...new Set(raw.map((r) => r.event.eventId))].sort()).toEqual(expectedIds);
  const days = [...new Set(traffic.events.map((e) => day(e.timestamp)))].sort();
  expect(days).toHaveLength(2);

  // Compaction of the closed hours: one file per partition, each event once, exactly as sent.
  const compacted = await compactClosedHours({
    store,
    logger: silentLogger,
    nowMs: Date.now(),
    graceMs: 0,
    lookbackHours: 72,
  });
  expect(compacted.partitions).toBeGreaterThan(0);
  const { keys, rows } = await archivedEvents();
  expect(keys.every((k) => parseArchiveKey(k)?.file.type === 'compacted')).toBe(true);
  expect(rows.map((r) => r.event.eventId).sort()).toEqual(expectedIds);
  for (const r of rows) expect(r.event).toEqual(byId.get(r.event.eventId));

  // SQL (the saved query, DuckDB over the archive) equals the truth per day and type.
  const truth: Record<string, number> = {};
  for (const e of traffic.events)
    truth[`${day(e.timestamp)}|${e.eventType}`] = (truth[`${day(e.timestamp)}|${e.eventType}`] ?? 0) + 1;
  const q = await pulse(p, [
    'archive',
    'query',
    'events-per-day',
    '--from',
    days[0]!,
    '--to',
    days[1]!,
    '--json',
  ]);
  expect(q.code).toBe(0);
  const counted: Record<string, number> = {};
  for (const row of JSON.parse(q.stdout).rows) counted[`${row.day}|${row.event_type}`] = Number(row.events);
  expect(counted).toEqual(truth);

  const someone = traffic.events[5]!.userId;
  const h = await pulse(p, [
    'archive',
    'query',
    'user-history',
    '--user',
    someone,
    '--from',
    days[0]!,
    '--to',
    days[1]!,
    '--json',
  ]);
  expect(h.code).toBe(0);
  const mine = traffic.events
    .filter((e) => e.userId === someone)
    .sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1));
  expect(JSON.parse(h.stdout).rows.map((r: { event_id: string }) => r.event_id)).toEqual(
    mine.map((e) => e.eventId),
  );

  // Invalid records: apart, each once, with its reason.
  const invalidKeys = (await store.list('invalid/')).map((o) => o.key);
  const invalidRows = (await Promise.all(invalidKeys.map((k) => store.readInvalid(k)))).flat();
  expect(invalidRows.map((r) => r.partitionKey).sort()).toEqual(invalid.map((r) => r.key).sort());
  expect(invalidRows.map((r) => r.reason).sort()).toEqual(
    [
      'data is not valid JSON: error at character 1',
      'schema: data.productId must be a string',
      'schema: userId does not match the record partition key',
    ].sort(),
  );

  await expectSessionsMatch(p, traffic.truth, { productOrder: false });
  await expectAlertsMatch(p, traffic.truth);

  // The stream's records are gone and so is the live state: stop the runner, delete the stream
  // and the tables, create them anew (empty).
  await p.runner.stop();
  await p.clients.kinesis.send(
    new DeleteStreamCommand({ StreamName: p.resources.streamName, EnforceConsumerDeletion: true }),
  );
  for (const t of ['sessions', 'fraud-state', 'alerts'])
    await p.clients.dynamodb.send(new DeleteTableCommand({ TableName: p.resources.tables[t]! }));
  for (;;) {
    try {
      await p.clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: p.resources.streamName }));
      await sleep(200);
    } catch {
      break;
    }
  }
  await createResources(p.clients, { shards: 2 });
  expect(await scanTable(p.clients, p.resources.tables.sessions!)).toEqual([]);

  const replay = ['archive', 'replay', '--from', days[0]!, '--to', days[1]!, '--yes', '--json'];
  const first = await pulse(p, replay);
  expect(first.code).toBe(0);
  const firstReport = JSON.parse(first.stdout);
  expect(firstReport.records).toBe(n);
  await expectSessionsMatch(p, traffic.truth, { productOrder: false });
  await expectAlertsMatch(p, traffic.truth);

  const before = await scanTable(p.clients, p.resources.tables.sessions!);
  const second = await pulse(p, replay);
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout).functions.map((f: { applied: number }) => f.applied)).toEqual([0, 0]);
  expect(await scanTable(p.clients, p.resources.tables.sessions!)).toEqual(before);
  await expectAlertsMatch(p, traffic.truth);
});
