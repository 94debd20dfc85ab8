/**
 * Scenario 6: the runner is stopped abruptly mid-stream (environments killed mid-batch) and a new
 * one resumes from the persisted checkpoints; separately, the backing AWS emulator (moto) is
 * frozen with SIGSTOP while traffic flows, then thawed: functions back off, retry and catch up.
 * Totals stay exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTraffic, type Traffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { computeTruth } from '../../scripts/traffic/truth.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(240_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('restart');
});
afterAll(async () => {
  if (p?.stack.moto) process.kill(p.stack.moto.pid, 'SIGCONT');
  await p?.stop();
});

const sentSoFar: Traffic[] = [];
async function expectExact(): Promise<void> {
  const truth = computeTruth(
    sentSoFar.flatMap((t) => t.events),
    sentSoFar.flatMap((t) => t.truth.alerts),
  );
  await expectSessionsMatch(p, truth);
  await expectAlertsMatch(p, truth);
  await expectMetricsMatch(p, truth);
}

test('a runner stopped mid-stream resumes from its checkpoints on restart', async () => {
  const traffic = generateTraffic({
    seed: 606,
    users: 15,
    events: 600,
    rate: 60,
    fraud: { burst: 1, countryHop: 1 },
  });
  sentSoFar.push(traffic);
  const sending = sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  // Let part of the stream through, then pull the plug.
  await p.runner.waitForProcessed({ 'session-updater': 100 }, 60_000);
  await p.runner.crash();
  const atCrash = p.runner.stats();
  const checkpoint = JSON.parse(
    readFileSync(join(p.stateDir, 'checkpoints', 'session-updater.json'), 'utf8'),
  );
  expect(Object.keys(checkpoint.shards).length).toBeGreaterThan(0);
  expect((await sending).failed).toEqual([]);

  const runner = await p.restartRunner();
  // Everything not committed before the crash is processed by the new runner, nothing more is lost.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const after = runner.stats();
    const done = after.every(
      (s) => s.processed + atCrash.find((a) => a.fn === s.fn)!.processed >= traffic.events.length,
    );
    if (done) break;
    if (Date.now() > deadline) {
      throw new Error(
        `not caught up: ${JSON.stringify(after.map((s) => [s.fn, s.processed]))}\n${p.logs.slice(-30).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const s of runner.stats()) {
    const before = atCrash.find((a) => a.fn === s.fn)!.processed;
    // Re-delivery after a crash is allowed (at least once); the processed sum covers every record.
    expect(before + s.processed).toBeGreaterThanOrEqual(traffic.events.length);
  }
  expect(atCrash.find((s) => s.fn === 'session-updater')!.processed).toBeLessThan(traffic.events.length);
  await expectExact();
  console.log(
    `restart: crashed after ${atCrash.map((s) => `${s.fn} ${s.processed}`).join(', ')} of ${traffic.events.length}; resumed from checkpoints; totals exact`,
  );
});

test('freezing the AWS emulator stalls the functions; after thawing they catch up with exact totals', async () => {
  const moto = p.stack.moto!;
  const before = p.runner.stats();
  const traffic = generateTraffic({
    seed: 707,
    users: 10,
    events: 300,
    rate: 100,
    startTime: Date.now(),
    fraud: { largePurchase: 1 },
  });
  sentSoFar.push(traffic);
  const sending = sendTraffic(traffic.events, traffic.schedule, {
    kinesis: p.clients.kinesis,
    stream: p.resources.streamName,
  });
  await new Promise((r) => setTimeout(r, 1_000));
  process.kill(moto.pid, 'SIGSTOP');
  const frozenAt = Date.now();
  await new Promise((r) => setTimeout(r, 12_000));
  const during = p.runner.stats();
  process.kill(moto.pid, 'SIGCONT');
  const thawedAt = Date.now();
  expect((await sending).failed).toEqual([]); // Kinesis (kinesis-local) was not frozen
  const target = Object.fromEntries(
    before.map((s) => [s.fn, s.processed + s.sentToDestination + traffic.events.length]),
  );
  await p.runner.waitForProcessed(target, 150_000);
  const after = p.runner.stats();
  for (const s of after) {
    const b = before.find((x) => x.fn === s.fn)!;
    expect(s.sentToDestination).toBe(b.sentToDestination);
  }
  await expectExact();
  console.log(
    `outage: moto frozen ${((thawedAt - frozenAt) / 1000).toFixed(0)} s; errors during it ${during.map((s) => `${s.fn} ${s.functionErrors + s.partialFailures}`).join(', ')}; caught up ${((Date.now() - thawedAt) / 1000).toFixed(1)} s after thawing; totals exact`,
  );
});
