/**
 * fraud-rules under generated streams: producer duplicates, Lambda re-deliveries, arbitrary batch
 * splits, partial failures (DynamoDB and SNS faults before or after a call takes effect — after
 * is what an SDK retry or a timed-out caller sees), late and out-of-order purchases, and invalid
 * records. However the stream is delivered, the final rule state and the set of alert ids equal a
 * plain reference model applied once to the unique valid purchases; after SNS recovers and the
 * sweep runs, every alert is SENT and was published at least once, and nothing else was.
 */

import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { fraudRedriveTarget } from '../../../services/fraud-rules/redrive.js';
import type { FraudRules, FraudState, RecentPurchase } from '../../../services/fraud-rules/rules.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { FailureLedger } from '../../../services/shared/failure/ledger.js';
import type { RangeRecord, RangeSource } from '../../../services/shared/failure/range-source.js';
import { redrive } from '../../../services/shared/failure/redrive.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { toMicros } from '../../../services/shared/money.js';
import { compareSequence } from '../../../services/shared/sequence.js';
import { awsError, type Call, FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, aRawRecord, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import { ALERTS_TABLE, harness, onlyRules, STATE_TABLE, TAKEOVER_MS } from './support.js';

// ---------------------------------------------------------------------------------------------
// The reference: the documented rules, written plainly, applied once per unique purchase.
// ---------------------------------------------------------------------------------------------

interface RefUser {
  kept: RecentPurchase[];
  lastCountry?: { country: string; timestamp: number; eventId: string };
  lastAlertAt: Record<string, number>;
}

function reference(events: PulseEvent[], rules: FraudRules) {
  const users = new Map<string, RefUser>();
  const alertIds: string[] = [];
  const within = (u: RefUser, t: number, minutes: number) =>
    u.kept.filter((q) => q.timestamp <= t && t - q.timestamp < minutes * MINUTE);
  const limit = (s: { perCurrency: Record<string, number> }, base: number, currency: string) =>
    toMicros(s.perCurrency[currency] ?? base);
  for (const e of events) {
    const u = users.get(e.userId) ?? { kept: [], lastAlertAt: {} };
    users.set(e.userId, u);
    const d = e.data as { amount: number; currency: string; country?: string };
    const p: RecentPurchase = {
      eventId: e.eventId,
      timestamp: e.timestamp,
      amountMicros: toMicros(d.amount),
      currency: d.currency,
      ...(d.country ? { country: d.country } : {}),
    };
    const matched: string[] = [];
    const { largePurchase: lp, purchaseVelocity: pv, spendVelocity: sv, countryHop: ch } = rules;
    if (lp.enabled && p.amountMicros > limit(lp, lp.threshold, p.currency)) matched.push('largePurchase');
    if (pv.enabled && within(u, p.timestamp, pv.windowMinutes).length + 1 >= pv.count)
      matched.push('purchaseVelocity');
    const spent = within(u, p.timestamp, sv.windowMinutes)
      .filter((q) => q.currency === p.currency)
      .reduce((sum, q) => sum + q.amountMicros, p.amountMicros);
    if (sv.enabled && spent >= limit(sv, sv.amount, p.currency)) matched.push('spendVelocity');
    const prev = u.lastCountry;
    if (
      ch.enabled &&
      p.country &&
      prev &&
      prev.country !== p.country &&
      Math.abs(p.timestamp - prev.timestamp) < ch.windowMinutes * MINUTE
    )
      matched.push('countryHop');
    for (const rule of matched) {
      const last = u.lastAlertAt[rule];
      const cooldown = rules.cooldownMinutes * MINUTE;
      if (last !== undefined && cooldown > 0 && p.timestamp < last + cooldown) continue;
      u.lastAlertAt[rule] = Math.max(last ?? p.timestamp, p.timestamp);
      alertIds.push(`${rule}#${e.userId}#${e.eventId}`);
    }
    // Kept: by event time (a tie goes after the earlier arrival), inside the longest window
    // measured from the newest purchase, the newest maxRecentPurchases of each currency, of the
    // maxCurrencies currencies with the newest purchases.
    const at = u.kept.filter((q) => q.timestamp <= p.timestamp).length;
    u.kept.splice(at, 0, p);
    const newest = u.kept[u.kept.length - 1]?.timestamp ?? p.timestamp;
    const keep = Math.max(pv.windowMinutes, sv.windowMinutes) * MINUTE;
    const inWindow = u.kept.filter((q) => newest - q.timestamp < keep);
    const latestCurrencies = [...new Set(inWindow.map((q) => q.currency).reverse())].slice(
      0,
      rules.maxCurrencies,
    );
    u.kept = inWindow.filter((q, i) => {
      if (!latestCurrencies.includes(q.currency)) return false;
      const newer = inWindow.slice(i + 1).filter((r) => r.currency === q.currency).length;
      return newer < rules.maxRecentPurchases;
    });
    if (p.country && (!u.lastCountry || p.timestamp >= u.lastCountry.timestamp))
      u.lastCountry = { country: p.country, timestamp: p.timestamp, eventId: p.eventId };
  }
  return { users, alertIds: alertIds.sort() };
}

// ---------------------------------------------------------------------------------------------
// Generated streams and deliveries
// ---------------------------------------------------------------------------------------------

/** function.json maximumRetryAttempts. */
const MAX_RETRIES = 10;
const FAULTY_INVOCATIONS = 8;
/** An SNS outage outlasts the retry budget of any batch. */
const OUTAGE_INVOCATIONS = 3 * MAX_RETRIES;
const throttled = () => awsError('ThrottlingException', 'Rate exceeded');
const ARRIVAL = T0 + 4 * 60 * MINUTE; // every event time is at or before arrival (late, never ahead)

interface GenPurchase {
  user: string;
  minute: number;
  second: number;
  amount: number;
  currency: string;
  country: string | undefined;
}

const purchaseArb: fc.Arbitrary<GenPurchase> = fc.record({
  user: fc.constantFrom('u1', 'u2', 'u3'),
  minute: fc.integer({ min: 0, max: 150 }),
  second: fc.integer({ min: 0, max: 59 }),
  amount: fc.constantFrom(5, 12.5, 0.004, 1.235, 400, 999.999999, 1000, 1000.000001, 1600),
  currency: fc.constantFrom('USD', 'EUR'),
  country: fc.constantFrom(undefined, 'US', 'FR'),
});

const itemArb = fc.oneof(
  { weight: 6, arbitrary: purchaseArb.map((p) => ({ kind: 'purchase' as const, p })) },
  { weight: 2, arbitrary: fc.nat().map((of) => ({ kind: 'duplicate' as const, of })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'invalid' as const }) },
);

type Target = 'BatchGet' | 'Get' | 'PutAlert' | 'PutState' | 'Claim' | 'Publish' | 'Mark';
const faultArb: fc.Arbitrary<Fault> = fc.record({
  target: fc.constantFrom<Target>('BatchGet', 'Get', 'PutAlert', 'PutState', 'Claim', 'Publish', 'Mark'),
  when: fc.constantFrom<'before' | 'after'>('before', 'after'),
  /** A landed state write answered as the SDK's retry sees it: the version condition failed. */
  asRetry: fc.boolean(),
  times: fc.integer({ min: 1, max: 3 }),
  user: fc.constantFrom(undefined, 'u1', 'u2'),
});

interface Fault {
  target: Target;
  when: 'before' | 'after';
  asRetry: boolean;
  times: number;
  user: string | undefined;
}
interface Plan {
  size: number;
  faults: Fault[];
  redeliver: boolean;
}

const invocationArb: fc.Arbitrary<Plan> = fc.record({
  size: fc.integer({ min: 1, max: 12 }),
  faults: fc.array(faultArb, { maxLength: 2 }),
  redeliver: fc.boolean(),
});

const matches: Record<Target, (c: Call) => boolean> = {
  BatchGet: (c) => c.kind === 'BatchGet',
  Get: (c) => c.kind === 'Get',
  PutAlert: (c) => c.kind === 'Put' && c.table === ALERTS_TABLE,
  PutState: (c) => c.kind === 'Put' && c.table === STATE_TABLE,
  Claim: (c) => c.kind === 'Update' && String(c.input.UpdateExpression).startsWith('SET claimId'),
  Publish: (c) => c.kind === 'Publish',
  Mark: (c) => c.kind === 'Update' && String(c.input.UpdateExpression).includes('#status = :sent'),
};

function forUser(call: Call, user: string | undefined): boolean {
  return user === undefined || JSON.stringify(call.input).includes(`"${user}"`);
}

let n = 0;
function build(items: Array<{ kind: string; p?: GenPurchase; of?: number }>) {
  const records: KinesisStreamRecord[] = [];
  const unique: PulseEvent[] = [];
  const options = { arrivalMs: ARRIVAL };
  for (const item of items) {
    if (item.kind === 'purchase' && item.p) {
      n += 1;
      const { user, minute, second, amount, currency, country } = item.p;
      const event: PulseEvent = {
        eventId: `prop-${n}`,
        userId: user,
        eventType: 'purchase',
        timestamp: T0 + minute * MINUTE + second * 1000,
        data: { amount, currency, orderId: `order-${n}`, ...(country ? { country } : {}) },
      };
      unique.push(event);
      records.push(aRecord(event, options));
    } else if (item.kind === 'duplicate' && unique.length > 0) {
      // A producer retry: the same event again, as a new record.
      records.push(aRecord(unique[(item.of ?? 0) % unique.length] as PulseEvent, options));
    } else {
      records.push(aRawRecord('{"eventId": "broken"', { ...options, partitionKey: 'u1' }));
    }
  }
  return { records, unique };
}

const rulesArb = fc.constantFrom(0, 15).map((cooldownMinutes) =>
  onlyRules(
    {
      largePurchase: { threshold: 1000, perCurrency: { EUR: 999.999999 } },
      purchaseVelocity: { count: 3, windowMinutes: 10 },
      spendVelocity: { amount: 1500, windowMinutes: 60 },
      countryHop: { windowMinutes: 60 },
    },
    { cooldownMinutes },
  ),
);

const stateView = (s: Record<string, unknown> | undefined) => {
  const state = s as unknown as FraudState | undefined;
  return {
    recentPurchases: state?.recentPurchases ?? [],
    lastCountry: state?.lastCountry,
    lastAlertAt: state?.lastAlertAt ?? {},
  };
};

/** The batch's records as the re-drive reads them back from the stream (one shard). */
function streamOf(records: KinesisStreamRecord[]): RangeSource {
  return {
    async *pages(_at, from, to) {
      const page: RangeRecord[] = records
        .filter(
          (r) =>
            compareSequence(r.kinesis.sequenceNumber, from) >= 0 &&
            compareSequence(r.kinesis.sequenceNumber, to) <= 0,
        )
        .map((r) => ({
          shardId: 'shardId-000000000000',
          sequenceNumber: r.kinesis.sequenceNumber,
          partitionKey: r.kinesis.partitionKey,
          data: Buffer.from(r.kinesis.data, 'base64'),
          arrivalMs: r.kinesis.approximateArrivalTimestamp * 1000,
        }));
      for (let i = 0; i < page.length; i += 4) yield page.slice(i, i + 4);
    },
  };
}

test('final state and alert ids equal the reference, whatever the delivery; every alert delivered after recovery', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(itemArb, { minLength: 1, maxLength: 40 }),
      fc.array(invocationArb, { minLength: 1, maxLength: 30 }),
      rulesArb,
      fc.boolean(),
      // A poison user whose state writes fail (a bug) until the fix lands after some invocations.
      fc.option(fc.record({ user: fc.constantFrom('u1', 'u2', 'u3'), fixAfter: fc.nat(40) }), { freq: 2 }),
      async (items, invocations, rules, outage, poison) => {
        const { records, unique } = build(items);
        const h = harness(rules);
        const ledger = new FailureLedger({
          db: new FakeDynamo({ ledger: ['pk', 'sk'] }, h.log).asClient(),
          tableName: 'ledger',
          functionName: 'fraud-rules',
          parkAfter: 2,
        });
        let broken = poison !== null;
        const saveUser = h.store.saveUser.bind(h.store);
        h.store.saveUser = async (state) => {
          if (broken && state.userId === poison?.user) throw new Error('bug: this state cannot be written');
          return saveUser(state);
        };
        const deps = { store: h.store, alerts: h.alerts, rules, logger: silentLogger };
        const redriveAll = () =>
          redrive({
            ledger,
            source: streamOf(records),
            target: fraudRedriveTarget(deps),
            logger: silentLogger,
            force: true,
          });
        // Lambda's side: batches from the checkpoint, a failure resumes from the reported record;
        // after MAX_RETRIES failures in a row the batch is given up (on-failure destination).
        let position = 0;
        let i = 0;
        let failuresInARow = 0;
        while (position < records.length) {
          const plan = invocations[i % invocations.length] as Plan;
          // An SNS outage outlasts the retry budget; point faults hit fewer invocations than the
          // budget, so a batch is only ever given up if the code fails it over SNS.
          if (outage && i < OUTAGE_INVOCATIONS) h.log.fail(matches.Publish, throttled, { times: 1_000 });
          const faulty = i < FAULTY_INVOCATIONS;
          i += 1;
          if (poison && i > poison.fixAfter) broken = false;
          // The scheduled re-drive runs between live batches now and then.
          if (plan.redeliver && i % 3 === 0) await redriveAll();
          const batch = records.slice(position, position + plan.size);
          if (faulty) {
            for (const f of plan.faults) {
              const error =
                f.target === 'PutState' && f.when === 'after' && f.asRetry
                  ? () => awsError('ConditionalCheckFailedException')
                  : throttled;
              h.log.fail((c) => matches[f.target](c) && forUser(c, f.user), error, {
                when: f.when,
                times: f.times,
              });
            }
          }
          const run = () => detectFraud(aKinesisEvent(batch), { ...deps, ledger });
          const { response } = await run();
          h.log.clearFaults();
          const failed = response.batchItemFailures[0]?.itemIdentifier;
          if (plan.redeliver) await run(); // at-least-once: the same batch again
          failuresInARow = failed ? failuresInARow + 1 : 0;
          if (failuresInARow > MAX_RETRIES) {
            position += batch.length;
            failuresInARow = 0;
          } else if (failed) position = records.findIndex((r) => r.kinesis.sequenceNumber === failed);
          else position += batch.length;
        }
        // The fix has landed; the re-drive applies what was set aside, then nothing is left.
        broken = false;
        for (let run = 0; run < 3 && (await ledger.all()).length > 0; run++) await redriveAll();
        expect(await ledger.all()).toEqual([]);
        // SNS is back; the scheduled sweep runs after the lease, then one lease later again (a
        // claim left by a crash is taken over by the sweep that saw it a lease ago), then again.
        h.clock.now += TAKEOVER_MS;
        await h.sweep();
        h.clock.now += TAKEOVER_MS;
        await h.sweep();
        await h.sweep();

        const ref = reference(unique, rules);
        for (const userId of ['u1', 'u2', 'u3']) {
          const expected = ref.users.get(userId);
          expect(stateView(h.stateItem(userId))).toEqual(
            stateView(expected && { recentPurchases: expected.kept, ...expected }),
          );
        }
        const alerts = h.db.items(ALERTS_TABLE);
        expect(alerts.map((a) => a.alertId).sort()).toEqual(ref.alertIds);
        expect(alerts.filter((a) => a.status !== 'SENT')).toEqual([]);
        const published = new Set(h.publishedIds());
        expect([...published].sort()).toEqual(ref.alertIds);
      },
    ),
    { numRuns: 300 },
  );
});

test('the reference model itself: out-of-order purchases and currencies', () => {
  const rules = onlyRules({ spendVelocity: { amount: 1000, windowMinutes: 60 } });
  const e = (id: string, minute: number, amount: number, currency = 'USD'): PulseEvent => ({
    eventId: id,
    userId: 'u1',
    eventType: 'purchase',
    timestamp: T0 + minute * MINUTE,
    data: { amount, currency, orderId: id },
  });
  const ref = reference([e('a', 30, 600), e('b', 0, 600, 'EUR'), e('c', 10, 400)], rules);
  expect(ref.alertIds).toEqual([]);
  expect(reference([e('a', 30, 600), e('b', 0, 400)], rules).alertIds).toEqual([]);
  expect(reference([e('a', 0, 400), e('b', 30, 600)], rules).alertIds).toEqual(['spendVelocity#u1#b']);
});
