/**
 * Lost responses, which the SDK retries (maxAttempts 4): the service carried out the request, the
 * caller never heard back, and the SDK sends the same request again. The fault proxy lets each
 * request through and cuts the connection before the answer. What must hold (docs/delivery-semantics.md,
 * "SDK retries"): conditional DynamoDB writes stay exactly once, an alert claim retried by the SDK is
 * still ours, and the windows that cannot be closed show up exactly as documented: a re-sent
 * Publish reaches subscribers twice with the same alertId, and a re-sent PutMetricData counts its
 * datums twice.
 */
import { metricSum, type SnsEnvelope, scanTable } from '../../scripts/local/readback.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { sleep } from '../../services/shared/retry.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';

jest.setTimeout(180_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('sdk-retries', { functions: ['fraud-rules', 'metrics-emitter'], faultProxy: true });
});
afterAll(async () => {
  await p?.stop();
});

test('lost responses: state and claim exactly once; Publish and PutMetricData re-sent as documented', async () => {
  const fraud = p.runner.proxy('fraud-rules');
  // The state write (version condition), the alert claim (lease), the Publish: each lands, then its response is lost.
  fraud.addRule({ operation: 'PutItem', bodyIncludes: 'fraud-state', times: 1, dropResponse: true });
  fraud.addRule({ operation: 'UpdateItem', bodyIncludes: 'leaseUntil', times: 1, dropResponse: true });
  fraud.addRule({ operation: 'Publish', times: 1, dropResponse: true });
  p.runner.proxy('metrics-emitter').addRule({ operation: 'PutMetricData', times: 1, dropResponse: true });

  const at = Date.now() - 60_000;
  const event: PulseEvent = {
    eventId: 'sdk-retry-evt-1',
    userId: 'sdk-retry-user',
    eventType: 'purchase',
    timestamp: at,
    data: { amount: 2500.5, currency: 'EUR', orderId: 'sdk-retry-order-1', country: 'DE' },
  };
  const sent = await sendTraffic([event], [0], {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  expect(sent.failed).toEqual([]);
  await p.runner.waitForProcessed(1, 60_000);
  expect(fraud.injected()).toBe(3);
  expect(p.runner.proxy('metrics-emitter').injected()).toBe(1);

  // Closed: the state write is applied once (the retry's version condition fails, the function
  // re-reads and finds its own write); the claim retried by the SDK is recognised as its own, so
  // the alert is published in this run, not one lease later.
  const [state] = await scanTable(p.clients, p.resources.tables['fraud-state']!);
  expect(state).toMatchObject({ userId: 'sdk-retry-user', version: 1 });
  expect(state?.recentPurchases).toHaveLength(1);
  for (const s of p.runner.stats())
    expect({ fn: s.fn, errors: s.functionErrors, partial: s.partialFailures }).toEqual({
      fn: s.fn,
      errors: 0,
      partial: 0,
    });
  const alerts = await scanTable(p.clients, p.resources.tables.alerts!);
  expect(alerts.map((a) => [a.alertId, a.status])).toEqual(
    expect.arrayContaining([['largePurchase#sdk-retry-user#sdk-retry-evt-1', 'SENT']]),
  );

  // Not closable (standard SNS topics have no deduplication): the re-sent Publish is a second
  // notification, with the same alertId attribute and body id for subscribers to drop it.
  const messages: SnsEnvelope[] = [];
  for (let i = 0; i < 10 && messages.length < 2 * alerts.length; i += 1) {
    messages.push(...(await drain(p, p.resources.alertTapQueue, 1)).map((m) => m.json as SnsEnvelope));
  }
  const ids = messages.map((m) => m.MessageAttributes?.alertId?.Value).sort();
  const expected = alerts.map((a) => String(a.alertId));
  const first = ids.filter((id) => id === expected[0]);
  expect(first).toHaveLength(2);
  expect(new Set(ids)).toEqual(new Set(expected));
  expect(messages.every((m) => JSON.parse(m.Message).id === m.MessageAttributes?.alertId?.Value)).toBe(true);

  // Not closable (CloudWatch has no idempotency token): the re-sent PutMetricData counts every
  // datum of that request twice — here the batch's only request, so 1 purchase reads as 2.
  const read = async (metric: string, dims: Record<string, string> = {}) => {
    for (let i = 0; i < 50; i += 1) {
      const { sum } = await metricSum(p.clients, {
        namespace: p.resources.metricsNamespace,
        metric,
        dimensions: { Environment: p.resources.environment, ...dims },
        start: new Date(at - 120_000),
        end: new Date(Date.now() + 120_000),
      });
      if (sum > 0) return sum;
      await sleep(200);
    }
    return 0;
  };
  expect(await read('Purchases')).toBe(2);
  expect(await read('Revenue', { Currency: 'EUR' })).toBe(5001);
});
