/**
 * `pulse alerts` end to end: an SNS outage leaves alerts PENDING; after recovery
 * `pulse alerts republish --yes` delivers each one exactly once to a subscribed queue and marks it
 * SENT, and a second run delivers nothing. The scheduled sweep is held off (its period is a day),
 * so every delivery in this test is the CLI's.
 */
import { type SnsEnvelope, scanTable } from '../../scripts/local/readback.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { pulse } from '../helpers/cli.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';

jest.setTimeout(240_000);

const FN = 'fraud-rules';
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('cli-alerts', {
    functions: [FN],
    faultProxy: true,
    scheduleEveryMs: 86_400_000,
    backoffMs: () => 50,
  });
});
afterAll(async () => {
  await p?.stop();
});

const USERS = ['cli-al-0', 'cli-al-1', 'cli-al-2', 'cli-al-3'];
const T0 = Date.now() - 3 * 60 * 60_000;

/** Two large purchases per user, 70 minutes apart (past the cool-down and the spend window): two alerts each. */
function purchases(): PulseEvent[] {
  return USERS.flatMap((userId, u) =>
    [0, 1].map((k) => ({
      eventId: `cli-al-evt-${u}-${k}`,
      userId,
      eventType: 'purchase' as const,
      timestamp: T0 + k * 70 * 60_000,
      data: { amount: 2500, currency: 'USD', orderId: `cli-al-order-${u}-${k}`, country: 'US' },
    })),
  );
}

async function tapped(waitSeconds: number): Promise<SnsEnvelope[]> {
  const out: SnsEnvelope[] = [];
  for (let i = 0; i < 10; i += 1) {
    const got = (await drain(p, p.resources.alertTapQueue, waitSeconds)).map((m) => m.json as SnsEnvelope);
    out.push(...got);
    if (got.length === 0) break;
  }
  return out;
}

test('after an SNS outage, alerts republish delivers each PENDING alert exactly once; a second run delivers nothing', async () => {
  p.runner
    .proxy(FN)
    .addRule({ operation: 'Publish', times: 1_000_000, status: 500, errorType: 'InternalError' });
  const events = purchases();
  const sent = await sendTraffic(
    events,
    events.map(() => 0),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect(sent.failed).toEqual([]);
  await p.runner.waitForProcessed(events.length, 120_000);
  const expectedIds = USERS.flatMap((user, u) =>
    [0, 1].map((k) => `largePurchase#${user}#cli-al-evt-${u}-${k}`),
  ).sort();

  const listed = await pulse(p, ['alerts', 'pending', '--json']);
  expect(listed.code).toBe(0);
  expect(
    JSON.parse(listed.stdout)
      .map((a: { alertId: string }) => a.alertId)
      .sort(),
  ).toEqual(expectedIds);
  expect(await tapped(0)).toEqual([]);

  // Without --yes (stdin is not a terminal here) nothing is published.
  const refused = await pulse(p, ['alerts', 'republish', '--older-than', '0s']);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('Refusing without --yes');

  p.runner.proxy(FN).clearRules();
  const first = await pulse(p, ['alerts', 'republish', '--older-than', '0s', '--yes', '--json']);
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toEqual({
    found: expectedIds.length,
    published: expectedIds.length,
    skipped: 0,
    failed: 0,
    rejected: 0,
    parked: 0,
    snsFailing: false,
  });
  const delivered = await tapped(1);
  expect(delivered.map((m) => m.MessageAttributes?.alertId?.Value).sort()).toEqual(expectedIds);
  const items = await scanTable(p.clients, p.resources.tables.alerts!);
  expect(items.filter((i) => i.status !== 'SENT' || i.outbox !== undefined)).toEqual([]);

  const second = await pulse(p, ['alerts', 'republish', '--older-than', '0s', '--yes', '--json']);
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ found: 0, published: 0 });
  expect(await tapped(2)).toEqual([]);
  const pendingAfter = await pulse(p, ['alerts', 'pending', '--json']);
  expect(JSON.parse(pendingAfter.stdout)).toEqual([]);
});
