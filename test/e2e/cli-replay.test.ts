/**
 * `pulse replay` end to end, once per function, on one shard so each function's batches are easy
 * to reason about. One user's writes (one shard's metrics) fail deterministically (a
 * ValidationException, as a bug would cause): the function sets that key aside itself — no batch
 * goes to the on-failure queue, every other user stays exact — and its later records are held
 * for the re-drive. After the "fix", `pulse replay` (the real bin, running the function's own
 * re-drive code from the ledger entry alone) applies exactly the held records: sessions, fraud
 * state, alerts and metric sums equal the truth, the ledger is empty, and a second replay changes
 * nothing. The scheduled re-drive is kept out of the way here (a one-hour period).
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { FunctionName } from '../../lib/config.js';
import { metricSum, readSessions, type SnsEnvelope, scanTable } from '../../scripts/local/readback.js';
import { generateTraffic, type Traffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { pulse } from '../helpers/cli.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(300_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('cli-replay', {
    shards: 1,
    faultProxy: true,
    backoffMs: () => 50,
    scheduleEveryMs: 3_600_000,
  });
});
afterAll(async () => {
  await p?.stop();
});

const sentSoFar: Traffic[] = [];
let recordsSoFar = 0;

async function send(events: PulseEvent[], schedule: number[]) {
  const base = schedule[0] ?? 0;
  const sent = await sendTraffic(
    events,
    schedule.map((s) => s - base),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect(sent.failed).toEqual([]);
  recordsSoFar += events.length;
  await p.runner.waitForProcessed(recordsSoFar, 120_000);
}

async function expectExact() {
  // The truth of everything sent so far, checked against all three functions' stores.
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  await expectSessionsMatch(p, truth);
  await expectAlertsMatch(p, truth);
  await expectMetricsMatch(p, truth);
  return truth;
}

async function replay(fn: FunctionName, ...flags: string[]) {
  const run = await pulse(p, ['replay', '--function', fn, '--json', ...flags]);
  if (run.code !== 0) throw new Error(`pulse replay exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const ledgerItems = () => scanTable(p.clients, p.resources.tables['replay-ledger']!);

function destinationCount(fn: FunctionName): number {
  return p.runner.stats().find((s) => s.fn === fn)?.sentToDestination ?? 0;
}

/**
 * Sends the traffic in two halves: the first with the fault on (the function sets the failing key
 * aside; Lambda never gives up on a batch), the second after it is cleared (the set-aside user's
 * later records are held; metrics go on).
 */
async function setAsideThenMoveOn(
  fn: FunctionName,
  traffic: Traffic,
  fault: Parameters<ReturnType<Pipeline['runner']['proxy']>['addRule']>[0],
) {
  sentSoFar.push(traffic);
  const half = Math.floor(traffic.events.length / 2);
  p.runner.proxy(fn).addRule(fault);
  const before = destinationCount(fn);
  await send(traffic.events.slice(0, half), traffic.schedule.slice(0, half));
  p.runner.proxy(fn).clearRules();
  await send(traffic.events.slice(half), traffic.schedule.slice(half));
  expect(destinationCount(fn)).toBe(before);
  return half;
}

/** The normal user with the most events in both halves: skipped records, then parked ones. */
function victim(traffic: Traffic, half: number, only: (e: PulseEvent) => boolean = () => true): string {
  const count = (events: PulseEvent[]) => {
    const m = new Map<string, number>();
    for (const e of events)
      if (only(e) && e.userId.startsWith('user-')) m.set(e.userId, (m.get(e.userId) ?? 0) + 1);
    return m;
  };
  const [a, b] = [count(traffic.events.slice(0, half)), count(traffic.events.slice(half))];
  const both = [...a.keys()].filter((u) => b.has(u));
  both.sort((x, y) => a.get(y)! + b.get(y)! - (a.get(x)! + b.get(x)!) || x.localeCompare(y));
  return both[0]!;
}

const userItem = (userId: string) => `"userId":{"S":"${userId}"}`;

test('session-updater: a user failing deterministically is set aside, then replayed exactly once', async () => {
  const traffic = generateTraffic({ seed: 1001, users: 6, events: 240, rate: 400 });
  const half = Math.floor(traffic.events.length / 2);
  const user = victim(traffic, half);
  await setAsideThenMoveOn('session-updater', traffic, {
    operation: 'PutItem',
    bodyIncludes: userItem(user),
    times: 1_000_000,
    status: 400,
    errorType: 'ValidationException',
  });

  // Before replay the user's session is behind (the rest of the pipeline is exact).
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  const before = await readSessions(p.clients, p.resources.tables.sessions!);
  expect(before.current.get(user)).toBeUndefined();
  expect(truth.users.get(user)!.totals.eventCount).toBeGreaterThan(0);
  const ledger = await ledgerItems();
  expect(ledger.map((e) => [e.pk, e.sk, e.status])).toEqual([
    ['session-updater#shardId-000000000000', `u#${user}`, 'parked'],
  ]);

  const userEvents = traffic.events.filter((e) => e.userId === user).length;
  // pulse status counts the set-aside user; pulse user says so and since when.
  const status = await pulse(p, ['status', '--json']);
  expect(status.code).toBe(4);
  const fnStatus = JSON.parse(status.stdout).functions.find(
    (f: { function: string }) => f.function === 'session-updater',
  );
  expect(fnStatus).toMatchObject({
    mapping: { state: 'local runner' },
    onFailureDepth: 0,
    ledgerEntries: 1,
    parked: 1,
    oldestParkedAt: ledger[0]!.parkedAt,
    behind: { records: 0 },
  });
  const shownBefore = await pulse(p, ['user', user]);
  expect(shownBefore.stdout).toContain(`SET ASIDE by session-updater since ${ledger[0]!.parkedAt}`);

  const dry = await replay('session-updater', '--dry-run');
  expect(dry.entries).toEqual([expect.objectContaining({ sk: `u#${user}`, outcome: 'would apply' })]);

  const first = await replay('session-updater', '--yes');
  console.log(
    `replay session-updater: ${first.applied} records of ${user} applied, ${first.recordsRead} read from the stream`,
  );
  expect(first.entries).toEqual([
    expect.objectContaining({ sk: `u#${user}`, outcome: 'done', applied: userEvents }),
  ]);
  const exact = await expectExact();
  expect(await ledgerItems()).toEqual([]);
  const after = JSON.parse((await pulse(p, ['status', '--json'])).stdout);
  expect(
    after.functions.map((f: { onFailureDepth: number; ledgerEntries: number; parked: number }) => [
      f.onFailureDepth,
      f.ledgerEntries,
      f.parked,
    ]),
  ).toEqual([
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ]);
  // pulse user shows the replayed user as the truth has it, and no longer set aside.
  const shown = JSON.parse((await pulse(p, ['user', user, '--json'])).stdout);
  expect(shown.current.totals.eventCount).toBe(exact.users.get(user)!.totals.eventCount);
  expect(shown.current.sessionCount).toBe(exact.users.get(user)!.sessionCount);
  expect(shown.ledger).toEqual([]);
  expect(await drain(p, p.resources.onFailureQueues['session-updater'])).toEqual([]);

  const second = await replay('session-updater', '--yes');
  expect(second).toMatchObject({ entries: [], applied: 0 });
  await expectExact();
});

test('fraud-rules: a purchaser failing deterministically is set aside, then replayed; alerts exactly once', async () => {
  // The burst user buys once in the first half and five times in the second: the velocity alert
  // comes from held purchases, so only the re-drive can raise it.
  const traffic = generateTraffic({
    seed: 1002,
    users: 6,
    events: 300,
    rate: 400,
    mix: { purchase: 40 },
    fraud: { burst: 1 },
  });
  const isPurchase = (e: PulseEvent) => e.eventType === 'purchase';
  const user = traffic.truth.alerts[0]!.userId;
  expect(traffic.truth.alerts.map((a) => a.userId)).toEqual([user]);
  await drain(p, p.resources.alertTapQueue);
  await setAsideThenMoveOn('fraud-rules', traffic, {
    operation: 'PutItem',
    bodyIncludes: userItem(user),
    times: 1_000_000,
    status: 400,
    errorType: 'ValidationException',
  });
  expect((await scanTable(p.clients, p.resources.tables.alerts!)).filter((a) => a.userId === user)).toEqual(
    [],
  );

  const purchases = traffic.events.filter((e) => e.userId === user && isPurchase(e)).length;
  const dry = await replay('fraud-rules', '--dry-run');
  expect(dry.entries).toEqual([expect.objectContaining({ sk: `u#${user}`, outcome: 'would apply' })]);
  // Nothing of the user's took effect yet: no rule state at all.
  const stateBefore = await scanTable(p.clients, p.resources.tables['fraud-state']!);
  expect(stateBefore.find((s) => s.userId === user)).toBeUndefined();
  const first = await replay('fraud-rules', '--yes');
  console.log(
    `replay fraud-rules: ${first.applied} purchases of ${user} applied, ${first.recordsRead} records read`,
  );
  expect(first.entries).toEqual([
    expect.objectContaining({ sk: `u#${user}`, outcome: 'done', applied: purchases }),
  ]);
  await expectExact();
  const state = (await scanTable(p.clients, p.resources.tables['fraud-state']!)).find(
    (s) => s.userId === user,
  );
  expect(state).toBeDefined();
  const alerts = await scanTable(p.clients, p.resources.tables.alerts!);
  expect(alerts.filter((a) => a.status !== 'SENT')).toEqual([]);
  const mine = alerts.filter((a) => a.userId === user).map((a) => a.alertId);
  expect(mine).toHaveLength(1);
  const published = async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const got = (await drain(p, p.resources.alertTapQueue, 1)).map((m) => m.json as SnsEnvelope);
      ids.push(...got.map((m) => m.MessageAttributes?.alertId?.Value ?? ''));
      if (got.length === 0) break;
    }
    return ids.filter((id) => mine.includes(id));
  };
  expect(await published()).toEqual(mine);
  expect(await drain(p, p.resources.onFailureQueues['fraud-rules'])).toEqual([]);

  const second = await replay('fraud-rules', '--yes');
  expect(second).toMatchObject({ entries: [], applied: 0 });
  expect(await scanTable(p.clients, p.resources.tables.alerts!)).toHaveLength(alerts.length);
  expect(await published()).toEqual([]);
  await expectExact();
});

test('metrics-emitter: segments CloudWatch refuses deterministically are set aside and emitted once by replay', async () => {
  const traffic = generateTraffic({
    seed: 1003,
    users: 6,
    events: 240,
    rate: 400,
    fraud: { largePurchase: 1 },
  });
  await setAsideThenMoveOn('metrics-emitter', traffic, {
    operation: 'PutMetricData',
    times: 1_000_000,
    status: 400,
    errorType: 'InvalidParameterValue',
  });
  const entries = await ledgerItems();
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries)
    expect(e).toMatchObject({ pk: 'metrics-emitter#shardId-000000000000', status: 'parked' });
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  const minutes = [...truth.perMinute.keys()];
  const eventsSum = () =>
    metricSum(p.clients, {
      namespace: p.resources.metricsNamespace,
      metric: 'Events',
      dimensions: { Environment: p.resources.environment },
      start: new Date(Math.min(...minutes) - 60_000),
      end: new Date(Math.max(...minutes, Date.now()) + 120_000),
    });
  // Before replay the Events sum is short by the set-aside segments (the first half).
  const short = truth.events - (await eventsSum()).sum;
  expect(short).toBeGreaterThan(0);

  const first = await replay('metrics-emitter', '--yes');
  console.log(
    `replay metrics-emitter: ${first.applied} records emitted from ${entries.length} set-aside segment(s), Events short by ${short} before`,
  );
  expect(first.entries.map((e: { outcome: string }) => e.outcome)).toEqual(entries.map(() => 'done'));
  expect(first.applied).toBe(short);
  await expectExact();

  const second = await replay('metrics-emitter', '--yes');
  expect(second).toMatchObject({ entries: [], applied: 0 });
  await expectExact();
});

test('pulse invalid: reasons and decoded payloads, nothing consumed by reading, --delete --yes clears', async () => {
  const bad = [
    { key: 'bad-json', data: '{"userId": "bad-json", ' },
    {
      key: 'bad-schema',
      data: JSON.stringify({ eventId: 'x1', userId: 'bad-schema', eventType: 'page_view' }),
    },
  ];
  for (const b of bad)
    await p.clients.kinesis.send(
      new PutRecordCommand({
        StreamName: p.resources.streamName,
        PartitionKey: b.key,
        Data: new TextEncoder().encode(b.data),
      }),
    );
  recordsSoFar += bad.length;
  await p.runner.waitForProcessed(recordsSoFar, 120_000);

  const read = async () => {
    const run = await pulse(p, ['invalid', '--json']);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as Array<{
      partitionKey: string;
      reason: string;
      payload: { stage: string; text?: string; json?: unknown };
    }>;
  };
  const first = await read();
  const byKey = Object.fromEntries(first.map((e) => [e.partitionKey, e]));
  expect(Object.keys(byKey).sort()).toEqual(['bad-json', 'bad-schema']);
  expect(byKey['bad-json']!.payload).toMatchObject({ stage: 'text', text: bad[0]!.data });
  expect(byKey['bad-schema']!.payload).toEqual({ stage: 'json', json: JSON.parse(bad[1]!.data) });
  expect(byKey['bad-schema']!.reason).not.toBe('');
  expect(await read()).toHaveLength(2); // reading gave them back at once

  const refused = await pulse(p, ['invalid', '--delete']);
  expect(refused.code).toBe(3);
  const deleted = await pulse(p, ['invalid', '--delete', '--yes']);
  expect(deleted.code).toBe(0);
  expect(deleted.stderr).toContain('deleted 2 message(s)');
  expect(await read()).toEqual([]);
});
