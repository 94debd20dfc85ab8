/**
 * Outage scenarios on the local stack: traffic flows, a dependency is taken away between the
 * functions and moto (the fault proxy) and given back, and then nobody does anything. The test
 * only watches: within a deadline every session, every alert (in DynamoDB, and on SNS exactly
 * once) and every metric sum must equal the truth of everything sent so far.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionName } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import type { SnsEnvelope } from '../../scripts/local/readback.js';
import { exponentialBackoff, LOCAL_BACKOFF } from '../../scripts/local/shard-processor.js';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { type AlertTruth, computeTruth } from '../../scripts/traffic/truth.js';
import { alertIdOf, evaluatePurchases, newFraudState, parseRules } from '../../services/fraud-rules/rules.js';
import type { PulseEvent } from '../../services/shared/event.js';
import { validRecords } from '../unit/fraud-rules/support.js';
import { drain, type Pipeline, type PipelineOptions, startPipeline } from './pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from './pipeline-truth.js';

/**
 * The pipeline as deployed, retries included: function.json's -1/-1 and the runner's own
 * back-off (500 ms doubling to 30 s). Only the alert sweep runs more often than on AWS (5 s
 * instead of 5 minutes, alerts swept from 5 s old) so the test stays short.
 */
export function startOutagePipeline(name: string, options: PipelineOptions = {}): Promise<Pipeline> {
  return startPipeline(name, {
    faultProxy: true,
    backoffMs: exponentialBackoff(LOCAL_BACKOFF.baseMs, LOCAL_BACKOFF.capMs),
    scheduleEveryMs: 5_000,
    ...options,
    environment: {
      ...options.environment,
      'fraud-rules': { ALERT_SWEEP_MIN_AGE_SECONDS: '5', ...options.environment?.['fraud-rules'] },
    },
  });
}

export interface Wave {
  events: PulseEvent[];
  /** Send offsets (ms from the wave's start), same order as events. */
  schedule: number[];
  alerts: AlertTruth[];
  /** The fraud-burst user: a 1,500 USD purchase, then six purchases in two minutes from two countries. */
  burstUser: string;
}

function fraudRules() {
  const fn = JSON.parse(readFileSync(join(repoRoot(), 'services', 'fraud-rules', 'function.json'), 'utf8'));
  return parseRules(JSON.parse(fn.environment.FRAUD_RULES));
}

/**
 * Generated traffic lasting `durationMs` (16 users, with their fraud patterns), plus the fraud
 * burst, whose seven purchases are sent from `burstAtMs` on, 20 s apart.
 */
export function outageWave(seed: number, durationMs: number, burstAtMs: number): Wave {
  const rate = 3;
  const startTime = Date.now();
  const traffic = generateTraffic({
    seed,
    users: 16,
    events: Math.round((durationMs / 1000) * rate),
    rate,
    startTime,
    returningUsers: 0.3,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const burstUser = `burst-${seed}`;
  const amounts = [1_500, 300, 300, 300, 300, 300, 300];
  const burst: PulseEvent[] = amounts.map((amount, i) => ({
    eventId: `burst-${seed}-${i}`,
    userId: burstUser,
    eventType: 'purchase',
    timestamp: startTime + burstAtMs + i * 20_000,
    data: {
      amount,
      currency: 'USD',
      orderId: `burst-order-${seed}-${i}`,
      country: i % 2 === 0 ? 'US' : 'FR',
    },
  }));
  const { alerts } = evaluatePurchases(newFraudState(burstUser), validRecords(burst), fraudRules());
  // The scenario of the report: large purchase, velocity, spend and country hop, once each.
  if (alerts.length !== 4) throw new Error(`the fraud burst raises ${alerts.length} alerts, expected 4`);
  const merged = [
    ...traffic.events.map((e, i) => ({ e, at: traffic.schedule[i]! })),
    ...burst.map((e) => ({ e, at: e.timestamp - startTime })),
  ].sort((a, b) => a.at - b.at); // stable: each user's order is kept
  return {
    events: merged.map((m) => m.e),
    schedule: merged.map((m) => m.at),
    alerts: [
      ...traffic.truth.alerts,
      ...alerts.map((a) => ({ userId: a.userId, rule: a.rule, eventId: a.eventId })),
    ],
    burstUser,
  };
}

export class OutageScenario {
  private readonly sent: Wave[] = [];
  /** Deliveries seen on the SNS tap, per alertId (the tap is drained, so they are kept here). */
  private readonly deliveries = new Map<string, number>();

  constructor(readonly p: Pipeline) {}

  /**
   * Sends the wave on its schedule; `takeDown` starts at `downAtMs` and lasts `downForMs`.
   * Resolves when the outage is over and the wave sent, with the time the dependency came back.
   */
  async run(
    wave: Wave,
    outage: { downAtMs: number; downForMs: number; takeDown: () => () => void },
  ): Promise<{ restoredAt: number }> {
    const started = Date.now();
    const sending = this.send(wave);
    await sleepUntil(started + outage.downAtMs);
    const restore = outage.takeDown();
    await sleepUntil(started + outage.downAtMs + outage.downForMs);
    restore();
    const restoredAt = Date.now();
    await sending;
    return { restoredAt };
  }

  /** Puts the wave on the stream on its schedule; it joins the truth. */
  async send(wave: Wave): Promise<void> {
    this.sent.push(wave);
    const result = await sendTraffic(wave.events, wave.schedule, {
      kinesis: this.p.clients.kinesis,
      stream: this.p.resources.streamName,
    });
    if (result.failed.length > 0)
      throw new Error(`${result.failed.length} records were not put on the stream`);
  }

  /**
   * The truth of every wave sent, compared with DynamoDB, CloudWatch and the SNS tap. `setAside`:
   * events whose user is expected to be set aside (not in sessions or alerts yet; metrics count them).
   */
  async expectExact(setAside: (e: PulseEvent) => boolean = () => false): Promise<void> {
    const events = this.sent.flatMap((w) => w.events);
    const applied = events.filter((e) => !setAside(e));
    const appliedIds = new Set(applied.map((e) => e.eventId));
    const alerts = this.sent.flatMap((w) => w.alerts).filter((a) => appliedIds.has(a.eventId));
    const truth = computeTruth(applied, alerts);
    await expectSessionsMatch(this.p, truth);
    await expectAlertsMatch(this.p, truth);
    await expectMetricsMatch(this.p, computeTruth(events, alerts));
    for (const m of await drain(this.p, this.p.resources.alertTapQueue)) {
      const id = (m.json as SnsEnvelope).MessageAttributes?.alertId?.Value ?? '';
      this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1);
    }
    // Every alert reached SNS exactly once: the ids the rules give the true triggering purchases.
    const expected = alerts.map((a) => [alertIdOf(a.rule, a.userId, a.eventId), 1] as const);
    expect(Object.fromEntries([...this.deliveries].sort())).toEqual(Object.fromEntries(expected.sort()));
  }

  /**
   * Waits, doing nothing else, until the stores are exact; returns how long that took after
   * `since`. After `withinMs` the last comparison's failure is thrown.
   */
  async exactWithin(since: number, withinMs: number, setAside?: (e: PulseEvent) => boolean): Promise<number> {
    const deadline = since + withinMs;
    for (;;) {
      try {
        await this.expectExact(setAside);
        return Date.now() - since;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 3_000));
    }
  }

  /** Records processed or given up, per function. */
  progress(): Record<string, string> {
    return Object.fromEntries(
      this.p.runner
        .stats()
        .map((s) => [
          s.fn,
          `${s.processed} processed, ${s.sentToDestination} to the destination, ${s.invocations} invocations, ${s.retries} retries, max ${s.maxAttempts} attempts`,
        ]),
    );
  }

  stats(fn: FunctionName) {
    return this.p.runner.stats().find((s) => s.fn === fn)!;
  }
}

async function sleepUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
