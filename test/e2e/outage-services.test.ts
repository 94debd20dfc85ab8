/**
 * The other dependencies go away mid-traffic for two minutes, then come back, and nobody runs
 * anything: CloudWatch PutMetricData (metrics-emitter's shards wait and retry), SNS (alerts wait
 * PENDING in the outbox; the scheduled sweep delivers them), and one user's DynamoDB writes (that
 * user's records wait; everyone else flows). Each is exact within five minutes of the return:
 * sessions, alerts once in the table and once on SNS, metric sums, nothing given up.
 */
import { OutageScenario, outageWave, startOutagePipeline } from '../helpers/outage.js';
import type { Pipeline } from '../helpers/pipeline.js';

const MINUTE = 60_000;
const OUTAGE_MS = 2 * MINUTE;
// Jest's own timeouts (a hung test fails instead of blocking CI), not assertions.
jest.setTimeout(12 * MINUTE);

let p: Pipeline;
let scenario: OutageScenario;
beforeAll(async () => {
  p = await startOutagePipeline('outage-services');
  scenario = new OutageScenario(p);
});
afterAll(async () => {
  await p?.stop();
});

function noneGivenUp(): void {
  for (const s of p.runner.stats())
    expect({ fn: s.fn, toDestination: s.sentToDestination }).toEqual({ fn: s.fn, toDestination: 0 });
}

test('CloudWatch and SNS down for 2 minutes mid-traffic: exact within 5 minutes of their return, with no command', async () => {
  const before = {
    cw: p.runner.proxy('metrics-emitter').injected(),
    sns: p.runner.proxy('fraud-rules').injected(),
  };
  const wave = outageWave(2501, 40_000 + OUTAGE_MS + 30_000, 50_000);
  const { restoredAt } = await scenario.run(wave, {
    downAtMs: 40_000,
    downForMs: OUTAGE_MS,
    takeDown: () => {
      const cw = p.runner.takeDown({ service: 'cloudwatch' }, ['metrics-emitter']);
      const sns = p.runner.takeDown({ service: 'sns' }, ['fraud-rules']);
      return () => {
        cw();
        sns();
      };
    },
  });
  expect(p.runner.proxy('metrics-emitter').injected()).toBeGreaterThan(before.cw);
  expect(p.runner.proxy('fraud-rules').injected()).toBeGreaterThan(before.sns);
  const recoveredMs = await scenario.exactWithin(restoredAt, 5 * MINUTE);
  noneGivenUp();
  console.log(
    JSON.stringify({
      scenario: 'cloudwatch-and-sns',
      outageMs: OUTAGE_MS,
      recoveredMs,
      ...scenario.progress(),
    }),
  );
});

test("one user's DynamoDB writes fail for 2 minutes: exact within 5 minutes, with no command", async () => {
  const wave = outageWave(2502, 40_000 + OUTAGE_MS + 30_000, 50_000);
  const before = p.runner.stats().map((s) => [s.fn, p.runner.proxy(s.fn).injected()] as const);
  const { restoredAt } = await scenario.run(wave, {
    downAtMs: 40_000,
    downForMs: OUTAGE_MS,
    // The fraud-burst user: its sessions, fraud state and four alerts are all written during the outage.
    takeDown: () => p.runner.takeDown({ service: 'dynamodb', user: wave.burstUser }),
  });
  const failed = before.map(([fn, n]) => p.runner.proxy(fn).injected() - n);
  // The functions that write this user's state (metrics-emitter and archive-writer keep none per user).
  const perUser = new Set(['session-updater', 'fraud-rules']);
  expect(failed.filter((_, i) => perUser.has(before[i]![0])).every((n) => n > 0)).toBe(true);
  const recoveredMs = await scenario.exactWithin(restoredAt, 5 * MINUTE);
  noneGivenUp();
  console.log(
    JSON.stringify({
      scenario: 'dynamodb-one-user',
      outageMs: OUTAGE_MS,
      recoveredMs,
      ...scenario.progress(),
    }),
  );
});
