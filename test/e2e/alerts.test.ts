/**
 * Scenario 7: fraud alerts end to end — one alert per rule trigger, the cool-down respected, the
 * messages people read (SNS subject, the chat/`default` document), and the filter attributes
 * (severity, rule, environment) subscribers filter on.
 */

import { type SnsEnvelope, scanTable } from '../../scripts/local/readback.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';

jest.setTimeout(180_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('alerts', { functions: ['fraud-rules'] });
});
afterAll(async () => {
  await p?.stop();
});

const MIN = 60_000;
let n = 0;
function purchase(userId: string, at: number, amount: number, country = 'US'): PulseEvent {
  n += 1;
  return {
    eventId: `alert-evt-${n}`,
    userId,
    eventType: 'purchase',
    timestamp: at,
    data: { amount, currency: 'USD', orderId: `alert-order-${n}`, country },
  };
}

test('one alert per trigger, cool-down respected, bodies and attributes as designed', async () => {
  const t = Date.now() - 40 * MIN;
  const events: PulseEvent[] = [
    purchase('al-large', t, 2500),
    // 12 purchases in 2 minutes: velocity fires on the 5th, the cool-down (15 min) holds the rest.
    ...Array.from({ length: 12 }, (_, i) => purchase('al-burst', t + i * 10_000, 20)),
    // Two bursts 20 minutes apart: the second is past the cool-down and the 10-minute window.
    ...Array.from({ length: 6 }, (_, i) => purchase('al-twice', t + i * 5_000, 15)),
    ...Array.from({ length: 6 }, (_, i) => purchase('al-twice', t + 20 * MIN + i * 5_000, 15)),
    // US → FR (alert) → DE within the cool-down (no second alert).
    purchase('al-hop', t, 30, 'US'),
    purchase('al-hop', t + 5 * MIN, 30, 'FR'),
    purchase('al-hop', t + 8 * MIN, 30, 'DE'),
    // 4 × 900 within an hour: spend velocity at the 4th (3600 >= 3000), none is large on its own.
    ...Array.from({ length: 4 }, (_, i) => purchase('al-spend', t + i * 10 * MIN, 900)),
    // Normal users: no alert.
    purchase('al-normal', t, 120),
    purchase('al-normal', t + 30 * MIN, 80),
  ];
  const sent = await sendTraffic(
    events,
    events.map(() => 0),
    { kinesis: p.clients.kinesis, stream: p.resources.streamName },
  );
  expect(sent.failed).toEqual([]);
  await p.runner.waitForProcessed(events.length, 60_000);

  const expected = [
    ['al-burst', 'purchaseVelocity'],
    ['al-hop', 'countryHop'],
    ['al-large', 'largePurchase'],
    ['al-spend', 'spendVelocity'],
    ['al-twice', 'purchaseVelocity'],
    ['al-twice', 'purchaseVelocity'],
  ];
  const items = await scanTable(p.clients, p.resources.tables.alerts!);
  expect(items.map((i) => [i.userId, i.rule]).sort()).toEqual(expected);
  expect(items.every((i) => i.status === 'SENT')).toBe(true);

  const messages: SnsEnvelope[] = [];
  for (let i = 0; i < 10 && messages.length < expected.length; i += 1) {
    messages.push(...(await drain(p, p.resources.alertTapQueue, 1)).map((m) => m.json as SnsEnvelope));
  }
  expect(messages).toHaveLength(expected.length);
  const byUser = messages
    .map((m) => [
      JSON.parse(m.Message).metadata?.additionalContext?.userId ?? '',
      m.MessageAttributes?.rule?.Value,
    ])
    .sort();
  expect(byUser).toEqual(expected);
  for (const m of messages) {
    const attrs = m.MessageAttributes!;
    expect(attrs.environment).toEqual({ Type: 'String', Value: 'local' });
    expect(['high', 'medium', 'low']).toContain(attrs.severity!.Value);
    expect(m.Subject).toMatch(/^\[Pulse local\] (HIGH|MEDIUM|LOW) fraud alert: .+ - user al-/);
    const doc = JSON.parse(m.Message);
    expect(doc).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(doc.content.title).toContain(attrs.severity!.Value.toUpperCase());
    expect(doc.content.keywords).toEqual(['local', attrs.rule!.Value, attrs.severity!.Value]);
  }
  const large = messages.find((m) => m.MessageAttributes?.rule?.Value === 'largePurchase')!;
  expect(large.MessageAttributes!.severity!.Value).toBe('high');
  expect(JSON.parse(large.Message).content.description).toContain('2,500.00');
});
