/**
 * Scenarios 2 and 3: re-delivery and partial batch failure. Functions fail after their writes,
 * are killed mid-batch, and see transient DynamoDB/SNS/CloudWatch errors for one user (through
 * the fault proxy); Lambda-style retries (bisect, resume from the reported sequence number)
 * re-deliver records — and the stores still match the truth exactly: nothing lost, nothing
 * counted twice.
 */
import { FUNCTIONS } from '../../lib/config.js';
import { generateTraffic, type Traffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(240_000);

let p: Pipeline;
beforeAll(async () => {
  // The three functions whose faults it injects (archive-writer has its own tests).
  p = await startPipeline('redelivery', { faultProxy: true, functions: FUNCTIONS });
});
afterAll(async () => {
  await p?.stop();
});

// The tests share the pipeline: what it must hold is the truth of all traffic sent so far.
const sentSoFar: Traffic[] = [];
async function expectExact(traffic: Traffic) {
  sentSoFar.push(traffic);
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  await expectSessionsMatch(p, truth);
  await expectAlertsMatch(p, truth);
  await expectMetricsMatch(p, truth);
  for (const url of Object.values(p.resources.onFailureQueues)) expect(await drain(p, url)).toEqual([]);
  expect(await drain(p, p.resources.queues['invalid-records']!)).toEqual([]);
}

test('functions that fail after their writes or die mid-batch are retried without double counting', async () => {
  const { runner } = p;
  runner.injectFault('session-updater', { phase: 'after', action: 'exit' }, 3);
  runner.injectFault('fraud-rules', { phase: 'after', action: 'throw' }, 3);
  runner.injectFault('metrics-emitter', { phase: 'after', action: 'throw' }, 2);
  runner.injectFault('metrics-emitter', { phase: 'after', action: 'exit' }, 1);
  const traffic = generateTraffic({
    seed: 202,
    users: 20,
    events: 400,
    rate: 200,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const sending = sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  // And kill each function's environments while a batch may be in flight.
  await new Promise((r) => setTimeout(r, 1_500));
  for (const fn of ['session-updater', 'fraud-rules', 'metrics-emitter'] as const) runner.kill(fn);
  expect((await sending).failed).toEqual([]);
  await runner.waitForProcessed(traffic.events.length, 120_000);

  const stats = runner.stats();
  for (const s of stats) {
    expect(s.functionErrors).toBeGreaterThanOrEqual(3); // the injected faults happened and were retried
    expect(s.processed).toBe(traffic.events.length);
  }
  await expectExact(traffic);
  console.log(
    `re-delivery: ${stats.map((s) => `${s.fn} ${s.functionErrors} function errors, ${s.invocations} invocations, ${s.bisects} bisects`).join('; ')}`,
  );
});

test('a transient write failure for one user is retried from its sequence number; final state exact', async () => {
  const { runner } = p;
  const before = Object.fromEntries(runner.stats().map((s) => [s.fn, s]));
  const traffic = generateTraffic({
    seed: 303,
    users: 12,
    events: 300,
    rate: 200,
    startTime: Date.now(),
    fraud: { burst: 1 },
  });
  const victim = traffic.events[5]!.userId;
  // More failures than the SDK's own retries (4 attempts), and the handlers' own conflict retries: the handler must report the user's records.
  runner.proxy('session-updater').addRule({
    operation: 'PutItem',
    bodyIncludes: victim,
    times: 10,
    status: 500,
    errorType: 'InternalServerError',
  });
  runner.proxy('fraud-rules').addRule({
    operation: 'PutItem',
    bodyIncludes: 'fraud-burst-303-1',
    times: 10,
    status: 500,
    errorType: 'InternalServerError',
  });
  runner
    .proxy('metrics-emitter')
    .addRule({ operation: 'PutMetricData', times: 10, status: 500, errorType: 'InternalServiceError' });
  const sent = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  expect(sent.failed).toEqual([]);
  const target = Object.fromEntries(
    runner.stats().map((s) => [s.fn, before[s.fn]!.processed + traffic.events.length]),
  );
  await runner.waitForProcessed(target, 120_000);

  for (const fn of ['session-updater', 'fraud-rules', 'metrics-emitter'] as const) {
    expect(runner.proxy(fn).injected()).toBe(10);
    const s = runner.stats().find((x) => x.fn === fn)!;
    expect(s.partialFailures + s.functionErrors).toBeGreaterThan(
      before[fn]!.partialFailures + before[fn]!.functionErrors,
    );
  }
  await expectExact(traffic);
  console.log(
    `partial failure: ${runner
      .stats()
      .map((s) => `${s.fn} ${s.partialFailures} partial failures, ${s.retries} retries`)
      .join(
        '; ',
      )}; injected ${['session-updater', 'fraud-rules', 'metrics-emitter'].map((fn) => runner.proxy(fn as 'session-updater').injected()).join('/')}`,
  );
});
