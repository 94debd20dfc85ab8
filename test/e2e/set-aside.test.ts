/**
 * A deterministic failure for one user heals without a person. The user's writes fail (a
 * ValidationException, as a bug would cause) in session-updater and fraud-rules: each function
 * sets only that user aside, every other user and every metric stays exact meanwhile, nothing goes
 * to an on-failure queue. Then the "fix" lands (the fault is cleared) and no command is run: the
 * functions' scheduled re-drive applies the user's held records in order, and sessions, the fraud
 * burst's alert (exactly once) and metrics all equal the truth; the ledger is empty.
 */
import { scanTable } from '../../scripts/local/readback.js';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(240_000);

const FAST_BACKOFF = { REDRIVE_BACKOFF_BASE_SECONDS: '1', REDRIVE_BACKOFF_MAX_SECONDS: '2' };
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('set-aside', {
    faultProxy: true,
    backoffMs: () => 50,
    // The re-drive's schedule, compressed from 5 minutes for the test.
    scheduleEveryMs: 2_000,
    environment: {
      'session-updater': FAST_BACKOFF,
      'fraud-rules': FAST_BACKOFF,
      'metrics-emitter': FAST_BACKOFF,
    },
  });
});
afterAll(async () => {
  await p?.stop();
});

async function eventually(check: () => Promise<void>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - start;
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

test('one user failing deterministically is set aside alone, and re-driven by itself after the fix', async () => {
  const traffic = generateTraffic({
    seed: 1501,
    users: 8,
    events: 320,
    rate: 200,
    startTime: Date.now(),
    mix: { purchase: 30 },
    fraud: { burst: 1 },
  });
  const user = traffic.truth.alerts[0]!.userId;
  const fault = {
    operation: 'PutItem' as const,
    bodyIncludes: `"userId":{"S":"${user}"}`,
    times: 1_000_000,
    status: 400,
    errorType: 'ValidationException',
  };
  p.runner.proxy('session-updater').addRule(fault);
  p.runner.proxy('fraud-rules').addRule(fault);
  const sent = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  expect(sent.failed).toEqual([]);
  await p.runner.waitForProcessed(traffic.events.length, 120_000);

  // Only the user is set aside; everyone else, and every metric, is exact already.
  const others = computeTruth(
    traffic.events.filter((e) => e.userId !== user),
    traffic.truth.alerts.filter((a) => a.userId !== user),
  );
  const all = computeTruth(traffic.events, traffic.truth.alerts);
  await expectSessionsMatch(p, others);
  await expectAlertsMatch(p, others);
  await expectMetricsMatch(p, all);
  const ledger = await scanTable(p.clients, p.resources.tables['replay-ledger']!);
  expect(ledger.map((e) => [String(e.pk).split('#')[0], e.sk, e.status]).sort()).toEqual([
    ['fraud-rules', `u#${user}`, 'parked'],
    ['session-updater', `u#${user}`, 'parked'],
  ]);
  for (const s of p.runner.stats()) expect(s.sentToDestination).toBe(0);

  // The fix lands; nobody runs a command.
  p.runner.proxy('session-updater').clearRules();
  p.runner.proxy('fraud-rules').clearRules();
  const healedIn = await eventually(async () => {
    await expectSessionsMatch(p, all);
    await expectAlertsMatch(p, all);
    expect(await scanTable(p.clients, p.resources.tables['replay-ledger']!)).toEqual([]);
  }, 90_000);
  await expectMetricsMatch(p, all);
  const alerts = await scanTable(p.clients, p.resources.tables.alerts!);
  expect(alerts.filter((a) => a.userId === user).map((a) => a.status)).toEqual(['SENT']);
  console.log(`set-aside: ${user} re-driven by the schedule ${(healedIn / 1000).toFixed(1)} s after the fix`);
});
