/**
 * Scenario 1: seeded traffic through all three bundled functions on the local pipeline; sessions,
 * alerts and metric sums equal the generator's truth exactly.
 */
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import {
  expectAlertsMatch,
  expectAllProcessed,
  expectMetricsMatch,
  expectSessionsMatch,
} from '../helpers/pipeline-truth.js';

jest.setTimeout(180_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('happy');
});
afterAll(async () => {
  await p?.stop();
});

test('every event is processed once by each function and the stores match the truth', async () => {
  const traffic = generateTraffic({
    seed: 101,
    users: 25,
    events: 500,
    rate: 250,
    returningUsers: 0.3,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const sentAt = Date.now();
  const sent = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  expect(sent.failed).toEqual([]);
  await p.runner.waitForProcessed(traffic.events.length, 90_000);
  const firstProcessed = Math.min(
    ...p.runner.stats().map((s) => s.firstProcessedAt ?? Number.POSITIVE_INFINITY),
  );

  expectAllProcessed(p, traffic.events.length);
  await expectSessionsMatch(p, traffic.truth);
  await expectAlertsMatch(p, traffic.truth);
  await expectMetricsMatch(p, traffic.truth, { invalid: 0 });
  expect(await drain(p, p.resources.queues['invalid-records']!)).toEqual([]);
  for (const url of Object.values(p.resources.onFailureQueues)) expect(await drain(p, url)).toEqual([]);

  const alerts = await drain(p, p.resources.alertTapQueue, 2);
  expect(
    alerts
      .map(
        (m) =>
          (m.json as { MessageAttributes: Record<string, { Value: string }> }).MessageAttributes.rule!.Value,
      )
      .sort(),
  ).toEqual(traffic.truth.alerts.map((a) => a.rule).sort());
  // Figures for the record (jest prints console output on failure and with --verbose).
  const stats = p.runner.stats();
  console.log(
    `happy path: ${traffic.events.length} events sent at ${sent.rate.toFixed(0)}/s; first processed ${firstProcessed - sentAt} ms after sending began; ` +
      stats.map((s) => `${s.fn} lag avg ${s.lagMs.avg} ms max ${s.lagMs.max} ms`).join('; '),
  );
});
