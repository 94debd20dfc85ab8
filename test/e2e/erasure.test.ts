/**
 * `pulse erase` end to end on the local stack. One user has everything Pulse can keep: sessions
 * (open and closed), fraud state, an alert, an invalid record, a parked failure-ledger entry and
 * archived history. They are erased (the real bin) while traffic for them and for other users is
 * still in flight. Then: no table, queue or archive object (current or earlier version) names
 * them; every other user's sessions, alerts, metric sums and archive rows are exact; and
 * replaying — `pulse replay`, then the whole stream from the start — does not bring them back.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { metricSum, readSessions, scanTable } from '../../scripts/local/readback.js';
import { generateTraffic, type Traffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import { partitionOf, partKey } from '../../services/shared/archive/layout.js';
import { decodeEvents, decodeInvalid } from '../../services/shared/archive/parquet.js';
import { ArchiveStore } from '../../services/shared/archive/store.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { microsToNumber } from '../../services/shared/money.js';
import { pulse } from '../helpers/cli.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(600_000);

const VICTIM = 'user-erase-me';
const KEEPER = 'user-keep-me';
/** Functions re-read tombstones every second here (30 s in function.json), so --settle can be short. */
const REFRESH = { TOMBSTONE_REFRESH_SECONDS: '1' };

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('erasure', {
    shards: 1,
    faultProxy: true,
    backoffMs: () => 50,
    esm: { 'session-updater': { maximumRetryAttempts: 2 } },
    environment: {
      'session-updater': REFRESH,
      'fraud-rules': REFRESH,
      'metrics-emitter': REFRESH,
      'archive-writer': REFRESH,
    },
  });
});
afterAll(async () => {
  await p?.stop();
});

let records = 0;
let eventNo = 0;
const victimEvents: PulseEvent[] = [];

function victimEvent(eventType: string, timestamp: number, data: Record<string, unknown>): PulseEvent {
  const event = {
    eventId: `evt-erase-${++eventNo}`,
    userId: VICTIM,
    eventType,
    timestamp,
    data,
  } as PulseEvent;
  victimEvents.push(event);
  return event;
}

/** Normal traffic plus the victim's events spread evenly through it. */
function mixed(traffic: Traffic, victims: PulseEvent[]): { events: PulseEvent[]; schedule: number[] } {
  const events = [...traffic.events];
  const schedule = [...traffic.schedule];
  const step = Math.max(1, Math.floor(events.length / (victims.length + 1)));
  victims.forEach((v, i) => {
    const at = Math.min(events.length, (i + 1) * step + i);
    events.splice(at, 0, v);
    schedule.splice(at, 0, schedule[Math.max(0, at - 1)] ?? 0);
  });
  return { events, schedule };
}

async function send(events: PulseEvent[], schedule: number[]) {
  const base = schedule[0] ?? 0;
  const sent = await sendTraffic(
    events,
    schedule.map((s) => s - base),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect(sent.failed).toEqual([]);
  records += events.length;
}

async function putInvalid(partitionKey: string, body: string) {
  await p.clients.kinesis.send(
    new PutRecordCommand({
      StreamName: p.resources.streamName,
      PartitionKey: partitionKey,
      Data: Buffer.from(body, 'utf8'),
    }),
  );
  records += 1;
}

interface ArchivedObject {
  key: string;
  versionId?: string;
  isLatest: boolean;
  /** Every row, as JSON text. */
  rows: string[];
}

/** Every object version in the archive bucket, decoded. */
async function readArchive(): Promise<ArchivedObject[]> {
  const bucket = p.resources.buckets.archive!;
  const out: ArchivedObject[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await p.clients.s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    for (const v of page.Versions ?? []) {
      // Batch index objects name partitions only (layout.ts), no rows.
      if (!/^(events|invalid)\/.*\.parquet$/.test(v.Key ?? '')) continue;
      const { Body } = await p.clients.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }),
      );
      const bytes = await Body!.transformToByteArray();
      // Invalid records' data is base64: decoded, so a search for the user sees it.
      const rows = v.Key!.startsWith('events/')
        ? (await decodeEvents(bytes)).map((r) => JSON.stringify(r))
        : (await decodeInvalid(bytes)).map((r) =>
            JSON.stringify({ ...r, rawData: Buffer.from(r.rawData, 'base64').toString('utf8') }),
          );
      out.push({ key: v.Key!, versionId: v.VersionId, isLatest: v.IsLatest === true, rows });
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return out;
}

/** Every invalid-records message, read without consuming (made visible again right after). */
async function peekInvalidQueue(): Promise<string[]> {
  const url = p.resources.queues['invalid-records']!;
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await p.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 1,
      }),
    );
    if (Messages.length === 0) break;
    messages.push(...Messages);
  }
  for (let i = 0; i < messages.length; i += 10) {
    await p.clients.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return messages.map((m) => m.Body ?? '');
}

const decodedBody = (body: string) => {
  const m = JSON.parse(body) as { partitionKey?: string; rawData?: string };
  return `${m.partitionKey} ${Buffer.from(m.rawData ?? '', 'base64').toString('utf8')}`;
};

/** Every table's items as text: the victim's id must be in none of them. */
async function everyTableText(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, table] of Object.entries(p.resources.tables))
    out[key] = JSON.stringify(await scanTable(p.clients, table));
  return out;
}

async function metricSums(start: Date) {
  const read = (metric: string, extra: Record<string, string> = {}) =>
    metricSum(p.clients, {
      namespace: p.resources.metricsNamespace,
      metric,
      dimensions: { Environment: p.resources.environment, ...extra },
      start,
      end: new Date(Date.now() + 120_000),
    }).then((r) => r.sum);
  return {
    events: await read('Events'),
    purchases: await read('Purchases'),
    usd: await read('Revenue', { Currency: 'USD' }),
  };
}

test('a user is erased everywhere while their traffic is in flight, and nothing brings them back', async () => {
  const now = Date.now();
  const start = new Date(now - 3 * 3_600_000);
  // Phase 1: history. The victim's earlier session (closed by the later one), a large purchase
  // (fraud state and a largePurchase alert), an invalid record naming them; another user's invalid record.
  const a = generateTraffic({ seed: 1801, users: 5, events: 120, rate: 200, fraud: { burst: 1 } });
  const history = [
    victimEvent('page_view', now - 2 * 3_600_000, { page: '/' }),
    victimEvent('product_view', now - 2 * 3_600_000 + 1_000, { productId: 'sku-0001' }),
    victimEvent('page_view', now - 5_000, { page: '/deals' }),
    victimEvent('add_to_cart', now - 4_000, { productId: 'sku-0001', quantity: 1 }),
    victimEvent('purchase', now - 3_000, {
      orderId: 'order-erase-1',
      amount: 1500,
      currency: 'USD',
      country: 'DE',
    }),
  ];
  const phase1 = mixed(a, history);
  await send(phase1.events, phase1.schedule);
  await putInvalid(
    VICTIM,
    JSON.stringify({ userId: VICTIM, eventType: 'teleport', email: 'erase-me@example.com' }),
  );
  await putInvalid(KEEPER, JSON.stringify({ userId: KEEPER, eventType: 'teleport' }));
  await p.runner.waitForProcessed(records, 120_000);

  // Phase 2: session-updater cannot write the victim (a deterministic error): the failure layer sets
  // them aside, and their later records are parked in the failure ledger. The fault stays until the
  // erasure is done, so the re-drive cannot apply the entry first.
  const fault = {
    operation: 'PutItem',
    bodyIncludes: `"userId":{"S":"${VICTIM}"}`,
    times: 1_000_000,
    status: 400,
    errorType: 'ValidationException',
  };
  p.runner.proxy('session-updater').addRule(fault);
  const b = generateTraffic({ seed: 1802, users: 4, events: 60, rate: 200, startTime: now });
  const failing = mixed(b, [victimEvent('page_view', now + 1_000, { page: '/search' })]);
  await send(failing.events, failing.schedule);
  await p.runner.waitForProcessed(records, 120_000);
  const c = generateTraffic({ seed: 1803, users: 4, events: 60, rate: 200, startTime: now + 2_000 });
  const parked = mixed(c, [victimEvent('product_view', now + 3_000, { productId: 'sku-0002' })]);
  await send(parked.events, parked.schedule);
  await p.runner.waitForProcessed(records, 120_000);

  // Everything is there before the erasure.
  const before = await everyTableText();
  for (const table of ['sessions', 'fraud-state', 'alerts', 'replay-ledger'])
    expect({ table, names: before[table]!.includes(VICTIM) }).toEqual({ table, names: true });
  expect((await peekInvalidQueue()).some((body) => decodedBody(body).includes(VICTIM))).toBe(true);
  const archivedBefore = await readArchive();
  expect(
    archivedBefore.some((o) => o.key.startsWith('events/') && o.rows.some((r) => r.includes(VICTIM))),
  ).toBe(true);
  expect(
    archivedBefore.some((o) => o.key.startsWith('invalid/') && o.rows.some((r) => r.includes(VICTIM))),
  ).toBe(true);

  // Phase 3: traffic for the victim and others keeps arriving during and after the erasure.
  const d = generateTraffic({ seed: 1804, users: 5, events: 240, rate: 15, startTime: now + 4_000 });
  const inFlightVictim = Array.from({ length: 12 }, (_, i) =>
    victimEvent(
      i % 2 ? 'product_view' : 'page_view',
      now + 5_000 + i * 1_000,
      i % 2 ? { productId: 'sku-0003' } : { page: '/' },
    ),
  );
  const inFlight = mixed(d, inFlightVictim);
  const sending = send(inFlight.events, inFlight.schedule);
  await new Promise((r) => setTimeout(r, 2_000));
  await putInvalid(VICTIM, `{"userId":"${VICTIM}","eventType":`);
  const erasing = Date.now();
  const erase = await pulse(p, ['erase', '--user', VICTIM, '--yes', '--settle', '5s', '--json']);
  console.log(
    `pulse erase: exit ${erase.code} after ${Date.now() - erasing} ms (5 s of it the settle wait)\n${erase.stdout}${erase.stderr}`,
  );
  expect(erase.code).toBe(0);
  const [result] = JSON.parse(erase.stdout).erasures;
  expect(result).toMatchObject({ userId: VICTIM, status: 'COMPLETED' });
  const removed = Object.fromEntries(
    result.removed.map((r: { place: string; count: number }) => [r.place, r.count]),
  );
  expect(removed).toEqual({
    sessions: expect.any(Number),
    'fraud-state': 1,
    alerts: 1,
    'failure-ledger': 1,
    'invalid-records-queue': expect.any(Number),
    archive: expect.any(Number),
    'archive-versions': expect.any(Number),
  });
  expect(removed.sessions).toBeGreaterThanOrEqual(2);
  expect(removed['invalid-records-queue']).toBeGreaterThanOrEqual(1);
  expect(removed.archive).toBeGreaterThanOrEqual(history.length);
  expect(result.left.every((l: { count: number }) => l.count === 0)).toBe(true);
  p.runner.proxy('session-updater').clearRules();
  await sending;
  await p.runner.waitForProcessed(records, 180_000);

  const others = [...a.events, ...b.events, ...c.events, ...d.events];
  const othersAlerts = [...a.truth.alerts, ...b.truth.alerts, ...c.truth.alerts, ...d.truth.alerts];
  const othersTruth = computeTruth(others, othersAlerts);
  const victimBefore = victimEvents.length - inFlightVictim.length;

  const expectGoneAndOthersExact = async (label: string) => {
    const tables = await everyTableText();
    for (const [table, text] of Object.entries(tables))
      expect({ label, table, names: text.includes(VICTIM) }).toEqual({ label, table, names: false });
    const queue = await peekInvalidQueue();
    expect({ label, named: queue.filter((body) => decodedBody(body).includes(VICTIM)).length }).toEqual({
      label,
      named: 0,
    });
    // The queue is at-least-once (a re-delivered batch sends its invalid records again): the other
    // user's record is still there, as one record.
    const keeper = queue
      .filter((body) => decodedBody(body).includes(KEEPER))
      .map((b) => JSON.parse(b).sequenceNumber);
    expect(new Set(keeper).size).toBe(1);
    const archived = await readArchive();
    const naming = archived.filter((o) =>
      o.rows.some((r) => r.includes(VICTIM) || r.includes('erase-me@example.com')),
    );
    expect({ label, naming: naming.map((o) => `${o.key}@${o.versionId}`) }).toEqual({ label, naming: [] });
    // Other users' archived events: every one they sent, nothing else.
    const archivedIds = new Set(
      archived
        .filter((o) => o.isLatest && o.key.startsWith('events/'))
        .flatMap((o) => o.rows.map((r) => (JSON.parse(r) as { event: PulseEvent }).event.eventId)),
    );
    expect([...archivedIds].sort()).toEqual([...new Set(others.map((e) => e.eventId))].sort());
    await expectSessionsMatch(p, othersTruth);
    await expectAlertsMatch(p, othersTruth);
    // Metrics are aggregates and stay: the victim's events counted before the tombstone remain in
    // the sums; their in-flight events count only until the functions saw the tombstone.
    const sums = await metricSums(start);
    expect(sums.purchases).toBe(othersTruth.purchases + 1);
    expect(sums.usd).toBeCloseTo(microsToNumber(othersTruth.revenue.USD ?? 0) + 1500, 2);
    expect(sums.events).toBeGreaterThanOrEqual(othersTruth.events + victimBefore);
    expect(sums.events).toBeLessThanOrEqual(othersTruth.events + victimEvents.length);
    return archived;
  };

  // Files that held only other users stay byte-for-byte the same rows; files the victim shared
  // lose exactly the victim's rows.
  const archivedAfter = await expectGoneAndOthersExact('after erase');
  const latest = new Map(archivedAfter.filter((o) => o.isLatest).map((o) => [o.key, o.rows]));
  for (const o of archivedBefore.filter((x) => x.isLatest)) {
    const expected = o.rows.filter((r) => !r.includes(VICTIM));
    if (expected.length > 0)
      expect({ key: o.key, rows: latest.get(o.key) }).toEqual({ key: o.key, rows: expected });
  }

  // A part the erasure did not see (a batch written while it rewrote the archive) still names the
  // victim: `pulse archive compact`, like the scheduled run, drops its rows with the tombstones.
  const early = history[0] as PulseEvent;
  const stale = partKey('events', partitionOf(early.timestamp, VICTIM), 'shardId-000000000000', '1', '2');
  const store = new ArchiveStore({ s3: p.clients.s3, bucket: p.resources.buckets.archive! });
  await store.putEvents(stale, [
    { shardId: 'shardId-000000000000', sequenceNumber: '1', arrivalMs: early.timestamp, event: early },
  ]);
  const compact = await pulse(p, ['archive', 'compact', '--yes', '--json']);
  expect(compact.code).toBe(0);
  expect(JSON.parse(compact.stdout).partitions).toBeGreaterThan(0);
  const compactedNow = (await readArchive()).filter((o) => o.isLatest);
  expect(compactedNow.some((o) => o.key === stale)).toBe(false);
  expect(compactedNow.filter((o) => o.rows.some((r) => r.includes(VICTIM))).map((o) => o.key)).toEqual([]);
  // The stale part's own versions are this test's doing, not the erasure's: removed before the checks
  // that read every version.
  const versions = await p.clients.s3.send(
    new ListObjectVersionsCommand({ Bucket: p.resources.buckets.archive!, Prefix: stale }),
  );
  for (const v of [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])])
    await p.clients.s3.send(
      new DeleteObjectCommand({ Bucket: p.resources.buckets.archive!, Key: v.Key, VersionId: v.VersionId }),
    );
  await expectGoneAndOthersExact('after pulse archive compact');

  // Re-drive: pulse replay (the re-drive, run now) does not bring them back.
  const replay = await pulse(p, ['replay', '--function', 'session-updater', '--yes', '--json']);
  console.log(`pulse replay after erase: exit ${replay.code}\n${replay.stdout}`);
  await expectGoneAndOthersExact('after pulse replay');

  // The whole stream again, from its first record, through every function.
  await p.runner.stop();
  rmSync(join(p.stateDir, 'checkpoints'), { recursive: true, force: true });
  await p.restartRunner();
  await p.runner.waitForProcessed(records, 300_000);
  await expectGoneAndOthersExact('after replaying the stream');

  // The audit trail: one completed erasure, keyed by a hash, no user id.
  const list = await pulse(p, ['erase', '--list', '--json']);
  expect(list.code).toBe(0);
  const trail = JSON.parse(list.stdout).erasures;
  expect(trail).toEqual([
    expect.objectContaining({ status: 'COMPLETED', userHash: result.userHash, requests: 1 }),
  ]);
  expect(list.stdout.includes(VICTIM)).toBe(false);
  const mine = await pulse(p, ['erase', '--list', '--user', VICTIM, '--json']);
  expect(JSON.parse(mine.stdout).erasures).toHaveLength(1);
  const sessions = await readSessions(p.clients, p.resources.tables.sessions!);
  expect(sessions.current.has(VICTIM)).toBe(false);
});
