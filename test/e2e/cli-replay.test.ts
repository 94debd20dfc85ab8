/**
 * `pulse replay` end to end, once per function, on one shard so each function's batches are easy
 * to reason about. A failure for one user (one shard's metrics) outlasts the retries, so Lambda
 * sends the batch to the on-failure queue and moves on; traffic keeps flowing past it. Then the
 * fault is cleared and `pulse replay` (the real bin) applies exactly the skipped records: sessions,
 * fraud state, alerts and metric sums equal the truth, the queue is empty, and a second replay
 * changes nothing.
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

const RETRIES = 2;
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('cli-replay', {
    shards: 1,
    faultProxy: true,
    backoffMs: () => 50,
    esm: {
      'session-updater': { maximumRetryAttempts: RETRIES },
      'fraud-rules': { maximumRetryAttempts: RETRIES },
      'metrics-emitter': { maximumRetryAttempts: RETRIES },
    },
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

function destinationCount(fn: FunctionName): number {
  return p.runner.stats().find((s) => s.fn === fn)?.sentToDestination ?? 0;
}

/**
 * Sends the traffic in two halves: the first with the fault on (Lambda gives up on the failing
 * batch), the second after it is cleared (later records move the watermarks past the skipped ones).
 */
async function failThenMoveOn(
  fn: FunctionName,
  traffic: Traffic,
  fault: Parameters<ReturnType<Pipeline['runner']['proxy']>['addRule']>[0],
) {
  sentSoFar.push(traffic);
  const half = Math.floor(traffic.events.length / 2);
  p.runner.proxy(fn).addRule(fault);
  const before = destinationCount(fn);
  await send(traffic.events.slice(0, half), traffic.schedule.slice(0, half));
  expect(destinationCount(fn)).toBeGreaterThan(before);
  p.runner.proxy(fn).clearRules();
  await send(traffic.events.slice(half), traffic.schedule.slice(half));
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

test('session-updater: a user failing past the retries is parked, then replayed exactly once', async () => {
  const traffic = generateTraffic({ seed: 1001, users: 6, events: 240, rate: 400 });
  const half = Math.floor(traffic.events.length / 2);
  const user = victim(traffic, half);
  await failThenMoveOn('session-updater', traffic, {
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
  expect(before.current.get(user)?.totals).not.toEqual(
    expect.objectContaining({ eventCount: truth.users.get(user)!.totals.eventCount }),
  );
  const ledger = await scanTable(p.clients, p.resources.tables['replay-ledger']!);
  expect(ledger.map((e) => [e.pk, e.sk])).toEqual([['session-updater#shardId-000000000000', user]]);

  const userEvents = traffic.events.filter((e) => e.userId === user).length;
  // pulse status sees the given-up batch and the parked user.
  const status = await pulse(p, ['status', '--json']);
  expect(status.code).toBe(4);
  const fnStatus = JSON.parse(status.stdout).functions.find(
    (f: { function: string }) => f.function === 'session-updater',
  );
  expect(fnStatus).toMatchObject({
    mapping: { state: 'local runner' },
    onFailureDepth: 1,
    ledgerEntries: 1,
    behind: { records: 0 },
  });

  const dry = await replay('session-updater', '--dry-run');
  expect(dry.totals).toMatchObject({ messages: 1, applied: 0, pastRetention: 0, unknown: 0, deleted: 0 });
  expect(dry.messages[0].entries).toEqual([expect.objectContaining({ key: user, records: userEvents })]);

  const first = await replay('session-updater', '--yes');
  console.log(
    `replay session-updater: ${first.totals.applied} records of ${user} applied (${first.messages[0].entries[0].inBatch} in the given-up batch of ${first.messages[0].batchSize}, the rest parked), ${first.totals.alreadyApplied} already applied`,
  );
  expect(first.totals).toMatchObject({
    messages: 1,
    applied: userEvents,
    pastRetention: 0,
    unknown: 0,
    deleted: 1,
    kept: 0,
    failed: 0,
  });
  // Every other record of the given-up range took effect when the batch ran.
  expect(first.messages[0].alreadyApplied).toBe(
    first.messages[0].batchSize - first.messages[0].entries[0].inBatch,
  );
  const exact = await expectExact();
  expect(await scanTable(p.clients, p.resources.tables['replay-ledger']!)).toEqual([]);
  const after = JSON.parse((await pulse(p, ['status', '--json'])).stdout);
  expect(
    after.functions.map((f: { onFailureDepth: number; ledgerEntries: number }) => [
      f.onFailureDepth,
      f.ledgerEntries,
    ]),
  ).toEqual([
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  // pulse user shows the replayed user as the truth has it.
  const shown = JSON.parse((await pulse(p, ['user', user, '--json'])).stdout);
  expect(shown.current.totals.eventCount).toBe(exact.users.get(user)!.totals.eventCount);
  expect(shown.current.sessionCount).toBe(exact.users.get(user)!.sessionCount);
  expect(await drain(p, p.resources.onFailureQueues['session-updater'])).toEqual([]);

  const second = await replay('session-updater', '--yes');
  expect(second.totals).toMatchObject({ messages: 0, applied: 0 });
  await expectExact();
});

test('fraud-rules: a purchaser failing past the retries is parked, then replayed; alerts exactly once', async () => {
  // The burst user buys once in the first half and five times in the second: the velocity alert
  // comes from parked purchases, so only replay can raise it.
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
  await failThenMoveOn('fraud-rules', traffic, {
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
  expect(dry.messages[0].entries).toEqual([expect.objectContaining({ key: user, records: purchases })]);
  // Nothing of the user's took effect yet: no rule state at all.
  const stateBefore = await scanTable(p.clients, p.resources.tables['fraud-state']!);
  expect(stateBefore.find((s) => s.userId === user)).toBeUndefined();
  const first = await replay('fraud-rules', '--yes');
  console.log(
    `replay fraud-rules: ${first.totals.applied} purchases of ${user} applied (${first.messages[0].entries[0].inBatch} in the given-up batch of ${first.messages[0].batchSize}, the rest parked), ${first.totals.alreadyApplied} already applied`,
  );
  expect(first.totals).toMatchObject({
    messages: 1,
    applied: purchases,
    pastRetention: 0,
    unknown: 0,
    deleted: 1,
    failed: 0,
  });
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
  expect(second.totals).toMatchObject({ messages: 0, applied: 0 });
  expect(await scanTable(p.clients, p.resources.tables.alerts!)).toHaveLength(alerts.length);
  expect(await published()).toEqual([]);
  await expectExact();
});

test('metrics-emitter: a shard batch CloudWatch refused past the retries is emitted once by replay', async () => {
  const traffic = generateTraffic({
    seed: 1003,
    users: 6,
    events: 240,
    rate: 400,
    fraud: { largePurchase: 1 },
  });
  await failThenMoveOn('metrics-emitter', traffic, {
    operation: 'PutMetricData',
    times: 1_000_000,
    status: 400,
    errorType: 'InvalidParameterValue',
  });
  const [entry] = await scanTable(p.clients, p.resources.tables['replay-ledger']!);
  expect(entry).toMatchObject({ pk: 'metrics-emitter#shardId-000000000000' });
  // Before replay the Events sum is short by exactly the given-up batch.
  const dry = await replay('metrics-emitter', '--dry-run');
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  const minutes = [...truth.perMinute.keys()];
  const events = await metricSum(p.clients, {
    namespace: p.resources.metricsNamespace,
    metric: 'Events',
    dimensions: { Environment: p.resources.environment },
    start: new Date(Math.min(...minutes) - 60_000),
    end: new Date(Math.max(...minutes, Date.now()) + 120_000),
  });
  expect(events.sum).toBe(truth.events - dry.messages[0].batchSize);

  const first = await replay('metrics-emitter', '--yes');
  console.log(
    `replay metrics-emitter: ${first.totals.applied} records emitted (the given-up batch), Events short by ${dry.messages[0].batchSize} before`,
  );
  expect(first.totals).toMatchObject({ messages: 1, pastRetention: 0, unknown: 0, deleted: 1, failed: 0 });
  // The whole given-up range was skipped (metrics fail a shard batch from the failed segment on).
  expect(first.totals.applied).toBe(first.messages[0].batchSize);
  expect(first.messages[0].alreadyApplied).toBe(0);
  await expectExact();

  const second = await replay('metrics-emitter', '--yes');
  expect(second.totals).toMatchObject({ messages: 0, applied: 0 });
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
