/**
 * DynamoDB goes away mid-traffic for two minutes, then comes back, and nobody runs anything.
 * Lambda's retries are -1/-1 (function.json), so every shard waits and retries with back-off:
 * within five minutes of DynamoDB's return every session, every alert (once in the table, once
 * on SNS — the fraud burst's four included) and every metric sum is exact, and nothing went to
 * an on-failure destination. Second, the same with only one table throttled (fraud-state).
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
  p = await startOutagePipeline('outage-dynamodb');
  scenario = new OutageScenario(p);
});
afterAll(async () => {
  await p?.stop();
});

function noneGivenUp(): void {
  for (const s of p.runner.stats())
    expect({ fn: s.fn, toDestination: s.sentToDestination }).toEqual({ fn: s.fn, toDestination: 0 });
}

test('every table down for 2 minutes mid-traffic: exact within 5 minutes of its return, with no command', async () => {
  const wave = outageWave(1501, 40_000 + OUTAGE_MS + 30_000, 50_000);
  const { restoredAt } = await scenario.run(wave, {
    downAtMs: 40_000,
    downForMs: OUTAGE_MS,
    takeDown: () => p.runner.takeDown({ service: 'dynamodb' }),
  });
  const injected = (['session-updater', 'fraud-rules', 'metrics-emitter'] as const).map((fn) =>
    p.runner.proxy(fn).injected(),
  );
  // The outage was real for every function: requests failed and batches were retried.
  expect(injected.every((n) => n > 0)).toBe(true);
  expect(p.runner.stats().every((s) => s.retries > 0)).toBe(true);

  const recoveredMs = await scenario.exactWithin(restoredAt, 5 * MINUTE);
  noneGivenUp();
  console.log(
    JSON.stringify({
      scenario: 'dynamodb-all-tables',
      outageMs: OUTAGE_MS,
      recoveredMs,
      ...scenario.progress(),
    }),
  );
});

test('fraud-state throttled for 2 minutes mid-traffic: exact within 5 minutes, with no command', async () => {
  const before = p.runner.proxy('fraud-rules').injected();
  const wave = outageWave(1502, 40_000 + OUTAGE_MS + 30_000, 50_000);
  const { restoredAt } = await scenario.run(wave, {
    downAtMs: 40_000,
    downForMs: OUTAGE_MS,
    takeDown: () =>
      p.runner.takeDown({ service: 'dynamodb', table: p.resources.tables['fraud-state']! }, ['fraud-rules']),
  });
  expect(p.runner.proxy('fraud-rules').injected()).toBeGreaterThan(before);
  const recoveredMs = await scenario.exactWithin(restoredAt, 5 * MINUTE);
  noneGivenUp();
  console.log(
    JSON.stringify({
      scenario: 'dynamodb-one-table',
      outageMs: OUTAGE_MS,
      recoveredMs,
      ...scenario.progress(),
    }),
  );
});
