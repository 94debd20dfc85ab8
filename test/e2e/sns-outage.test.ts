/**
 * An SNS outage longer than the mapping's retry budget, with traffic going on, then recovery.
 * Before the outbox, every batch with an alert failed until Lambda gave up, and its purchases
 * never reached the fraud state. Now: no batch fails, the state holds every purchase, alerts wait
 * PENDING, and the scheduled sweep (run by the local runner as EventBridge would) delivers each
 * one to a subscribed SQS queue exactly once when SNS is back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../lib/paths.js';
import { type SnsEnvelope, scanTable } from '../../scripts/local/readback.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { evaluatePurchases, newFraudState, parseRules } from '../../services/fraud-rules/rules.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { sleep } from '../../services/shared/retry.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { validRecords } from '../unit/fraud-rules/support.js';

jest.setTimeout(300_000);

const FN = 'fraud-rules';
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('sns-outage', {
    functions: [FN],
    faultProxy: true,
    // The sweep every 2 s (AWS: every 5 minutes), taking alerts from 5 s old (default: the lease),
    // keeps the test short; the mechanism is the one deployed. The lease itself cannot be
    // shortened: the cold start refuses one below the function timeout plus a Publish.
    scheduleEveryMs: 2_000,
    environment: { [FN]: { ALERT_SWEEP_MIN_AGE_SECONDS: '5' } },
    // Retries as Lambda makes them (10 per batch), quickly: the outage outlasts all of them.
    backoffMs: () => 100,
  });
});
afterAll(async () => {
  await p?.stop();
});

const MIN = 60_000;
const USERS = Array.from({ length: 6 }, (_, i) => `outage-user-${i}`);
const T0 = Date.now() - 3 * 60 * MIN;
let n = 0;

/** Per user and wave: a large purchase (large + spend alerts) and a small one from another country. */
function wave(w: number): PulseEvent[] {
  return USERS.flatMap((userId, u) => {
    const at = T0 + w * 20 * MIN + u * 1_000;
    const make = (amount: number, country: string, offset: number): PulseEvent => {
      n += 1;
      return {
        eventId: `outage-evt-${n}`,
        userId,
        eventType: 'purchase',
        timestamp: at + offset,
        data: { amount, currency: 'USD', orderId: `outage-order-${n}`, country },
      };
    };
    return [make(4000.005, 'US', 0), make(12.5, w % 2 === 0 ? 'FR' : 'US', MIN)];
  });
}

async function send(events: PulseEvent[]) {
  const sent = await sendTraffic(
    events,
    events.map(() => 0),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect(sent.failed).toEqual([]);
}

/** The reference: the rules applied once to every event, per user, in order. */
function expected(events: PulseEvent[]) {
  const fn = JSON.parse(readFileSync(join(repoRoot(), 'services', FN, 'function.json'), 'utf8'));
  const rules = parseRules(JSON.parse(fn.environment.FRAUD_RULES));
  const alertIds: string[] = [];
  const purchases: Record<string, number> = {};
  for (const userId of USERS) {
    const mine = validRecords(events.filter((e) => e.userId === userId));
    const { state, alerts } = evaluatePurchases(newFraudState(userId), mine, rules);
    alertIds.push(...alerts.map((a) => a.alertId));
    purchases[userId] = state.recentPurchases.length;
  }
  return { alertIds: alertIds.sort(), purchases };
}

async function alertItems() {
  return scanTable(p.clients, p.resources.tables.alerts!);
}

async function stateCounts() {
  const items = await scanTable(p.clients, p.resources.tables['fraud-state']!);
  return Object.fromEntries(items.map((i) => [i.userId as string, (i.recentPurchases as unknown[]).length]));
}

test('an SNS outage past the retry budget loses no purchase and, after recovery, delivers every alert once', async () => {
  p.runner
    .proxy(FN)
    .addRule({ operation: 'Publish', times: 1_000_000, status: 500, errorType: 'InternalError' });
  const outage = [...wave(0), ...wave(1)];
  await send(outage.slice(0, USERS.length * 2));
  await p.runner.waitForProcessed(USERS.length * 2, 120_000);
  await send(outage.slice(USERS.length * 2));
  await p.runner.waitForProcessed(outage.length, 120_000);

  // During the outage: nothing failed, the state is complete, every alert waits PENDING.
  const during = expected(outage);
  const [stats] = p.runner.stats();
  expect(stats).toMatchObject({ processed: outage.length, sentToDestination: 0, functionErrors: 0 });
  expect(stats?.partialFailures).toBe(0);
  expect(await stateCounts()).toEqual(during.purchases);
  const pending = await alertItems();
  expect(pending.map((i) => i.alertId).sort()).toEqual(during.alertIds);
  expect(pending.every((i) => i.status === 'PENDING' && i.outbox === 'PENDING')).toBe(true);
  expect(p.runner.proxy(FN).injected()).toBeGreaterThan(0);
  // Sweeps ran during the outage and failed to publish: nothing reached the subscriber.
  expect(await drain(p, p.resources.alertTapQueue)).toEqual([]);

  // Recovery, and traffic goes on (these alerts take the normal path).
  p.runner.proxy(FN).clearRules();
  const after = wave(2);
  await send(after);
  await p.runner.waitForProcessed(outage.length + after.length, 120_000);
  const all = expected([...outage, ...after]);

  for (let i = 0; i < 150; i += 1) {
    const items = await alertItems();
    if (items.length === all.alertIds.length && items.every((it) => it.status === 'SENT')) break;
    await sleep(200);
  }
  const final = await alertItems();
  expect(final.map((i) => i.alertId).sort()).toEqual(all.alertIds);
  expect(final.filter((i) => i.status !== 'SENT' || i.outbox !== undefined)).toEqual([]);
  expect(await stateCounts()).toEqual(all.purchases);

  const messages: SnsEnvelope[] = [];
  for (let i = 0; i < 10; i += 1) {
    const got = (await drain(p, p.resources.alertTapQueue, 1)).map((m) => m.json as SnsEnvelope);
    messages.push(...got);
    if (got.length === 0 && messages.length >= all.alertIds.length) break;
  }
  const delivered = messages.map((m) => m.MessageAttributes?.alertId?.Value ?? '').sort();
  expect(delivered).toEqual(all.alertIds);
  expect(messages.every((m) => JSON.parse(m.Message).id === m.MessageAttributes?.alertId?.Value)).toBe(true);
  expect(p.runner.schedules.get(FN)?.runs).toBeGreaterThan(0);
});
