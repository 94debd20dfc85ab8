/**
 * Property: however fast or slow several deliverers are and whatever their clocks say, no alert
 * is published twice, and none is lost once the sweeps settle.
 *
 * A small virtual-time simulation: every DynamoDB and SNS call of every deliverer takes a random
 * (virtual) time, a deliverer may be paused right after its claim lands (a GC pause, a frozen
 * Lambda sandbox: up to three leases, or for good, but never all of them), and a Publish may take up to two leases. Each
 * deliverer's wall clock is skewed by up to ten minutes and its monotonic clock has its own origin.
 * Some deliverers raise alerts and deliver them at once (the batch path); all of them sweep
 * (`republishPending`) at their own period. After two simulated hours the faults stop (a frozen
 * deliverer stays frozen) and the sweeps go on for half an hour: then every alert must be SENT.
 *
 * A pause between SNS accepting a Publish and the SENT mark being sent is not generated: SNS
 * standard topics cannot de-duplicate, so that one is the documented at-least-once case.
 */
import fc from 'fast-check';
import { loadResources } from '../../../lib/config.js';
import { AlertLog } from '../../../services/fraud-rules/alerts.js';
import { republishPending } from '../../../services/fraud-rules/outbox.js';
import type { Alert } from '../../../services/fraud-rules/rules.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { ALERTS_TABLE, LEASE_MS, NOW, TOPIC_ARN } from './support.js';

const MINUTE = 60_000;
/** Faults (latencies, pauses) until here; then the deliverers not frozen are well and keep sweeping. */
const HORIZON_MS = 2 * 60 * MINUTE;
const SETTLE_MS = 30 * MINUTE;

/** Virtual time: timers fire in order once every task is waiting on one. */
class VirtualTime {
  now = 0;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(ms, resolve));
  }

  abortAfter(ms: number): AbortSignal {
    const controller = new AbortController();
    this.at(ms, () => controller.abort());
    return controller.signal;
  }

  private at(ms: number, fire: () => void): void {
    this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, fire });
  }

  async run(): Promise<void> {
    for (;;) {
      // Every pending promise chain runs before the next macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift() as (typeof this.timers)[number];
      this.now = next.at;
      next.fire();
    }
  }
}

interface DelivererPlan {
  skewMs: number;
  monoOrigin: number;
  sweepEveryMs: number;
  firstSweepMs: number;
  /** Latency of each call before it takes effect (ms). */
  callMs: number[];
  /** After each claim lands: usually nothing, sometimes a pause; Infinity: frozen for good. */
  pauses: number[];
  publishMs: number[];
}

const delivererArb: fc.Arbitrary<DelivererPlan> = fc.record({
  skewMs: fc.integer({ min: -10 * MINUTE, max: 10 * MINUTE }),
  monoOrigin: fc.integer({ min: 0, max: 1e9 }),
  sweepEveryMs: fc.integer({ min: 30_000, max: 5 * MINUTE }),
  firstSweepMs: fc.integer({ min: 0, max: 5 * MINUTE }),
  callMs: fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 8 }),
  pauses: fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 * LEASE_MS }) },
      { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
    ),
    { minLength: 1, maxLength: 8 },
  ),
  publishMs: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 2_000, max: 2 * LEASE_MS }) },
    ),
    { minLength: 1, maxLength: 8 },
  ),
});

const planArb = fc.record({
  deliverers: fc.array(delivererArb, { minLength: 2, maxLength: 4 }),
  /** Alerts raised by the batch path: [raised at (ms), by deliverer index]. */
  raised: fc.array(fc.tuple(fc.integer({ min: 0, max: 30 * MINUTE }), fc.nat()), {
    minLength: 1,
    maxLength: 8,
  }),
});

function anAlert(n: number): Alert {
  return {
    alertId: `largePurchase#u-${n}#e-${n}`,
    rule: 'largePurchase',
    severity: 'high',
    userId: `u-${n}`,
    eventId: `e-${n}`,
    orderId: `o-${n}`,
    amount: 5000,
    currency: 'USD',
    eventTime: NOW,
    shardId: 'shardId-000000000000',
    sequenceNumber: String(n),
    reason: 'r',
    threshold: 't',
  } as unknown as Alert;
}

// Virtual time makes a run fast, but 60 runs of 2.5 simulated hours need more than jest's 5 s.
jest.setTimeout(120_000);

test('several deliverers with skewed clocks, slow Publishes and pauses publish every alert exactly once', async () => {
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      const vt = new VirtualTime();
      const db = new FakeDynamo({ [ALERTS_TABLE]: 'alertId' }, undefined, {
        [ALERTS_TABLE]: loadResources().tables.alerts?.globalSecondaryIndexes ?? [],
      });
      const published: string[] = [];
      const never = new Promise<never>(() => undefined);
      const cycle = (values: number[], i: number) => values[i % values.length] as number;

      // The first deliverer is never frozen for good: someone is left to settle the sweeps.
      plan.deliverers[0] = {
        ...(plan.deliverers[0] as DelivererPlan),
        pauses: (plan.deliverers[0] as DelivererPlan).pauses.map((p) => (Number.isFinite(p) ? p : 0)),
      };
      const deliverers = plan.deliverers.map((d) => {
        let calls = 0;
        let claims = 0;
        let publishes = 0;
        let frozen = false;
        const dbClient = {
          async send(command: { input: { UpdateExpression?: string } }) {
            // A frozen deliverer starts nothing more, except the mark after a Publish SNS accepted
            // (that window is the excluded one, see above).
            if (frozen && !command.input.UpdateExpression?.includes('#status = :sent')) return never;
            const faulty = vt.now < HORIZON_MS;
            await vt.sleep(faulty ? cycle(d.callMs, calls++) : 0);
            const out = await db.send(command);
            if (command.input.UpdateExpression?.startsWith('SET claimId')) {
              const pause = faulty ? cycle(d.pauses, claims++) : 0;
              if (pause === Number.POSITIVE_INFINITY) {
                frozen = true;
                return never;
              }
              await vt.sleep(pause);
            }
            return out;
          },
        };
        const sns = {
          async send(
            command: { input: { MessageAttributes?: Record<string, { StringValue?: string }> } },
            options?: { abortSignal?: AbortSignal },
          ) {
            if (frozen) return never;
            const signal = options?.abortSignal;
            await new Promise<void>((resolve, reject) => {
              vt.sleep(vt.now < HORIZON_MS ? cycle(d.publishMs, publishes++) : 0).then(resolve);
              signal?.addEventListener('abort', () =>
                reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
              );
            });
            if (signal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
            published.push(String(command.input.MessageAttributes?.alertId?.StringValue));
            return { MessageId: `m-${published.length}` };
          },
        };
        const alerts = new AlertLog({
          db: dbClient as never,
          sns: sns as never,
          tableName: ALERTS_TABLE,
          topicArn: TOPIC_ARN,
          environment: 'test',
          ttlDays: 30,
          cooldownMinutes: 15,
          leaseMs: LEASE_MS,
          now: () => NOW + d.skewMs + vt.now,
          monotonic: () => d.monoOrigin + vt.now,
          abortAfter: (ms) => vt.abortAfter(ms),
        });
        return { plan: d, alerts };
      });

      const tasks: Promise<unknown>[] = [];
      // The batch path: record, then deliver at once (errors leave the alert to the sweeps).
      plan.raised.forEach(([at, who], n) => {
        const d = deliverers[who % deliverers.length] as (typeof deliverers)[number];
        tasks.push(
          (async () => {
            await vt.sleep(at);
            const alert = anAlert(n);
            if ((await d.alerts.record(alert)) === 'PENDING') await d.alerts.deliver(alert);
          })().catch(() => undefined),
        );
      });
      // Every deliverer sweeps at its own period until the horizon.
      for (const d of deliverers) {
        tasks.push(
          (async () => {
            await vt.sleep(d.plan.firstSweepMs);
            while (vt.now < HORIZON_MS + SETTLE_MS) {
              await republishPending(d.alerts, { logger: silentLogger, minAgeMs: 0 }).catch(() => undefined);
              await vt.sleep(d.plan.sweepEveryMs);
            }
          })(),
        );
      }
      // A deliverer frozen for good never finishes; the others settle by the horizon.
      await vt.run();

      // Every alert recorded (one raised by a deliverer frozen before it recorded it never was).
      const ids = db
        .items(ALERTS_TABLE)
        .map((a) => String(a.alertId))
        .sort();
      const counts = new Map<string, number>();
      for (const id of published) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect([...counts.entries()].filter(([, c]) => c > 1)).toEqual([]);
      expect([...counts.keys()].sort()).toEqual(ids);
      expect(db.items(ALERTS_TABLE).filter((a) => a.status !== 'SENT')).toEqual([]);
    }),
    { numRuns: 60 },
  );
});
