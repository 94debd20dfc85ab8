import {
  alertIdOf,
  DEFAULT_RULES,
  evaluatePurchases,
  type FraudRules,
  type FraudState,
  newFraudState,
} from '../../../services/fraud-rules/rules.js';
import { eventIdHash } from '../../../services/shared/idempotency.js';
import { aPurchase, MINUTE, T0 } from '../../helpers/records.js';
import { onlyRules, validRecords } from './support.js';

const evaluate = (events: Parameters<typeof validRecords>[0], rules: FraudRules, state?: FraudState) =>
  evaluatePurchases(state ?? newFraudState('user-1'), validRecords(events), rules);

describe('largePurchase', () => {
  const rules = onlyRules({ largePurchase: { threshold: 1000 } });

  it('alerts on an amount above the threshold, with a deterministic id and high severity', () => {
    const p = aPurchase({ amount: 1000.01 });
    const { alerts } = evaluate([p], rules);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      alertId: `largePurchase#${p.userId}#${p.eventId}`,
      rule: 'largePurchase',
      severity: 'high',
      userId: 'user-1',
      eventId: p.eventId,
      amount: 1000.01,
      currency: 'USD',
      eventTime: T0,
      threshold: 'amount > 1,000.00 USD',
      reason: 'A purchase of 1,000.01 USD is above the large-purchase threshold of 1,000.00 USD.',
    });
  });

  it('does not alert on an amount equal to the threshold', () => {
    expect(evaluate([aPurchase({ amount: 1000 })], rules).alerts).toEqual([]);
  });

  it('uses the configured threshold', () => {
    const low = onlyRules({ largePurchase: { threshold: 500 } });
    expect(evaluate([aPurchase({ amount: 500.5 })], low).alerts.map((a) => a.rule)).toEqual([
      'largePurchase',
    ]);
    expect(evaluate([aPurchase({ amount: 499 })], low).alerts).toEqual([]);
  });

  it('defaults to 1000 when the threshold is not configured', () => {
    expect(DEFAULT_RULES.largePurchase.threshold).toBe(1000);
    const defaults = onlyRules({ largePurchase: {} });
    expect(evaluate([aPurchase({ amount: 1000 })], defaults).alerts).toEqual([]);
    expect(evaluate([aPurchase({ amount: 1001 })], defaults).alerts).toHaveLength(1);
  });
});

describe('purchaseVelocity', () => {
  const rules = onlyRules({ purchaseVelocity: { count: 3, windowMinutes: 10 } });

  it('alerts on the purchase that makes count purchases within the window', () => {
    const events = [
      aPurchase({ timestamp: T0 }),
      aPurchase({ timestamp: T0 + 4 * MINUTE }),
      aPurchase({ timestamp: T0 + 10 * MINUTE - 1 }),
    ];
    const { alerts } = evaluate(events, rules);
    expect(alerts.map((a) => [a.alertId, a.severity])).toEqual([
      [`purchaseVelocity#${events[2]?.userId}#${events[2]?.eventId}`, 'medium'],
    ]);
    expect(alerts[0]?.reason).toBe('3 purchases within 10 minutes.');
    expect(alerts[0]?.threshold).toBe('>= 3 purchases within 10 minutes');
  });

  it('does not count a purchase exactly windowMinutes earlier', () => {
    const events = [
      aPurchase({ timestamp: T0 }),
      aPurchase({ timestamp: T0 + 4 * MINUTE }),
      aPurchase({ timestamp: T0 + 10 * MINUTE }),
    ];
    expect(evaluate(events, rules).alerts).toEqual([]);
  });

  it('does not alert below the count', () => {
    expect(
      evaluate([aPurchase({ timestamp: T0 }), aPurchase({ timestamp: T0 + MINUTE })], rules).alerts,
    ).toEqual([]);
  });

  it('counts purchases kept in state from earlier batches, and forgets them once the window has passed', () => {
    const first = evaluate([aPurchase({ timestamp: T0 }), aPurchase({ timestamp: T0 + MINUTE })], rules);
    expect(first.alerts).toEqual([]);
    const inside = evaluate([aPurchase({ timestamp: T0 + 9 * MINUTE })], rules, first.state);
    expect(inside.alerts.map((a) => a.rule)).toEqual(['purchaseVelocity']);
    const expired = evaluate([aPurchase({ timestamp: T0 + 11 * MINUTE })], rules, first.state);
    expect(expired.alerts).toEqual([]);
  });
});

describe('spendVelocity', () => {
  const rules = onlyRules({ spendVelocity: { amount: 1000, windowMinutes: 60 } });

  it('alerts when the total within the window reaches the amount', () => {
    const events = [
      aPurchase({ amount: 400, timestamp: T0 }),
      aPurchase({ amount: 600, timestamp: T0 + 59 * MINUTE }),
    ];
    const { alerts } = evaluate(events, rules);
    expect(alerts.map((a) => [a.alertId, a.severity])).toEqual([
      [`spendVelocity#${events[1]?.userId}#${events[1]?.eventId}`, 'medium'],
    ]);
    expect(alerts[0]?.reason).toBe('1,000.00 USD spent within 60 minutes.');
    expect(alerts[0]?.threshold).toBe('total >= 1,000.00 USD within 60 minutes');
  });

  it('does not alert a cent below the amount (sums are exact to the cent)', () => {
    const events = [
      aPurchase({ amount: 0.1, timestamp: T0 }),
      aPurchase({ amount: 0.2, timestamp: T0 + MINUTE }),
      aPurchase({ amount: 999.69, timestamp: T0 + 2 * MINUTE }),
    ];
    expect(evaluate(events, rules).alerts).toEqual([]);
    const exact = evaluate(
      [...events.slice(0, 2), aPurchase({ amount: 999.7, timestamp: T0 + 2 * MINUTE })],
      rules,
    );
    expect(exact.alerts.map((a) => a.rule)).toEqual(['spendVelocity']);
  });

  it('does not count spend exactly windowMinutes earlier', () => {
    const events = [
      aPurchase({ amount: 400, timestamp: T0 }),
      aPurchase({ amount: 600, timestamp: T0 + 60 * MINUTE }),
    ];
    expect(evaluate(events, rules).alerts).toEqual([]);
  });
});

describe('countryHop', () => {
  const rules = onlyRules({ countryHop: { windowMinutes: 60 } });

  it('alerts when the country differs from the previous purchase within the window', () => {
    const us = aPurchase({ country: 'US', timestamp: T0 });
    const fr = aPurchase({ country: 'FR', timestamp: T0 + 30 * MINUTE });
    const { alerts } = evaluate([us, fr], rules);
    expect(alerts.map((a) => [a.alertId, a.severity, a.country])).toEqual([
      [`countryHop#${fr.userId}#${fr.eventId}`, 'high', 'FR'],
    ]);
    expect(alerts[0]?.reason).toBe(
      `A purchase from FR 30 minutes from a purchase from US (event ${us.eventId}).`,
    );
  });

  it('does not alert at exactly windowMinutes apart, for the same country, or on a first purchase', () => {
    expect(
      evaluate(
        [
          aPurchase({ country: 'US', timestamp: T0 }),
          aPurchase({ country: 'FR', timestamp: T0 + 60 * MINUTE }),
        ],
        rules,
      ).alerts,
    ).toEqual([]);
    expect(
      evaluate(
        [aPurchase({ country: 'US', timestamp: T0 }), aPurchase({ country: 'US', timestamp: T0 + MINUTE })],
        rules,
      ).alerts,
    ).toEqual([]);
    expect(evaluate([aPurchase({ country: 'US' })], rules).alerts).toEqual([]);
  });

  it('compares with the last purchase that had a country, skipping purchases without one', () => {
    const events = [
      aPurchase({ country: 'US', timestamp: T0 }),
      aPurchase({ timestamp: T0 + MINUTE }),
      aPurchase({ country: 'DE', timestamp: T0 + 2 * MINUTE }),
    ];
    expect(evaluate(events, rules).alerts.map((a) => a.eventId)).toEqual([events[2]?.eventId]);
  });

  it('treats a late purchase by the gap in event time, either way', () => {
    const events = [
      aPurchase({ country: 'US', timestamp: T0 + 30 * MINUTE }),
      aPurchase({ country: 'FR', timestamp: T0 }),
    ];
    const { alerts, state } = evaluate(events, rules);
    expect(alerts.map((a) => a.eventId)).toEqual([events[1]?.eventId]);
    // The latest purchase by event time stays the reference.
    expect(state.lastCountry).toEqual({
      country: 'US',
      timestamp: T0 + 30 * MINUTE,
      eventId: events[0]?.eventId,
    });
  });
});

describe('cool-down', () => {
  const rules = onlyRules({ largePurchase: { threshold: 100 }, countryHop: {} }, { cooldownMinutes: 15 });

  it('sends at most one alert per user per rule per cool-down, by event time', () => {
    const events = [
      aPurchase({ amount: 500, timestamp: T0 }),
      aPurchase({ amount: 500, timestamp: T0 + 15 * MINUTE - 1 }),
      aPurchase({ amount: 500, timestamp: T0 + 15 * MINUTE }),
    ];
    const result = evaluate(events, rules);
    expect(result.alerts.map((a) => a.eventId)).toEqual([events[0]?.eventId, events[2]?.eventId]);
    expect(result.suppressed).toBe(1);
    expect(result.state.lastAlertAt).toEqual({ largePurchase: T0 + 15 * MINUTE });
  });

  it('is kept in state across batches', () => {
    const first = evaluate([aPurchase({ amount: 500, timestamp: T0 })], rules);
    const second = evaluate([aPurchase({ amount: 500, timestamp: T0 + 10 * MINUTE })], rules, first.state);
    expect(second.alerts).toEqual([]);
    expect(second.suppressed).toBe(1);
  });

  it('is separate per rule: one purchase can raise two different alerts', () => {
    const events = [
      aPurchase({ amount: 500, country: 'US', timestamp: T0 }),
      aPurchase({ amount: 50, country: 'FR', timestamp: T0 + MINUTE }),
    ];
    const first = evaluate(events, rules);
    expect(first.alerts.map((a) => a.alertId)).toEqual([
      alertIdOf('largePurchase', events[0]?.userId as string, events[0]?.eventId as string),
      alertIdOf('countryHop', events[1]?.userId as string, events[1]?.eventId as string),
    ]);
  });

  it('damps late purchases older than the latest alert, so a replayed burst raises one alert', () => {
    const events = [
      aPurchase({ amount: 500, timestamp: T0 + 100 * MINUTE }),
      aPurchase({ amount: 500, timestamp: T0 + 50 * MINUTE }),
      aPurchase({ amount: 500, timestamp: T0 + 52 * MINUTE }),
      aPurchase({ amount: 500, timestamp: T0 + 54 * MINUTE }),
    ];
    const result = evaluate(events, rules);
    expect(result.alerts.map((a) => a.eventId)).toEqual([events[0]?.eventId]);
    expect(result.suppressed).toBe(3);
  });

  it('is off with cooldownMinutes 0', () => {
    const noCooldown = onlyRules({ largePurchase: { threshold: 100 } }, { cooldownMinutes: 0 });
    const events = [aPurchase({ amount: 500, timestamp: T0 }), aPurchase({ amount: 500, timestamp: T0 })];
    expect(evaluate(events, noCooldown).alerts).toHaveLength(2);
  });
});

describe('idempotency and bounded state', () => {
  const rules = onlyRules({
    largePurchase: { threshold: 100 },
    purchaseVelocity: { count: 2, windowMinutes: 10 },
  });

  it('re-evaluating the same records against the state they produced changes nothing and alerts nothing', () => {
    const records = validRecords([
      aPurchase({ amount: 500 }),
      aPurchase({ amount: 20, timestamp: T0 + MINUTE }),
    ]);
    const first = evaluatePurchases(newFraudState('user-1'), records, rules);
    expect(first.alerts).toHaveLength(2);
    const again = evaluatePurchases(first.state, records, rules);
    expect(again).toEqual({
      state: first.state,
      alerts: [],
      evaluated: 0,
      duplicates: 2,
      suppressed: 0,
      changed: false,
    });
  });

  it('ignores a second record with the same eventId (producer retry), but moves the watermark', () => {
    const p = aPurchase({ amount: 500 });
    const [one, two] = validRecords([p, p]);
    const result = evaluatePurchases(newFraudState('user-1'), [one!, two!], rules);
    expect(result.alerts.map((a) => a.alertId)).toEqual([`largePurchase#${p.userId}#${p.eventId}`]);
    expect(result.evaluated).toBe(1);
    expect(result.duplicates).toBe(1);
    expect(result.state.recentPurchases).toHaveLength(1);
    expect(result.state.watermarks).toEqual([[two?.shardId, two?.sequenceNumber]]);
  });

  it('does not modify the state it is given', () => {
    const state = newFraudState('user-1');
    const snapshot = structuredClone(state);
    evaluate([aPurchase({ amount: 500 })], rules, state);
    expect(state).toEqual(snapshot);
  });

  it('keeps only purchases inside the largest window', () => {
    const wide = onlyRules({
      purchaseVelocity: { count: 5, windowMinutes: 10 },
      spendVelocity: { windowMinutes: 30 },
    });
    const events = [
      aPurchase({ timestamp: T0 }),
      aPurchase({ timestamp: T0 + 20 * MINUTE }),
      aPurchase({ timestamp: T0 + 30 * MINUTE }),
    ];
    const { state } = evaluate(events, wide);
    expect(state.recentPurchases.map((p) => p.timestamp)).toEqual([T0 + 20 * MINUTE, T0 + 30 * MINUTE]);
  });

  it('caps the purchases and eventIds kept per user', () => {
    const capped = onlyRules(
      { purchaseVelocity: { count: 2 } },
      { maxRecentPurchases: 3, maxRecentEventIds: 4 },
    );
    const events = Array.from({ length: 6 }, (_, i) => aPurchase({ timestamp: T0 + i * 1000 }));
    const { state } = evaluate(events, capped);
    expect(state.recentPurchases.map((p) => p.eventId)).toEqual(events.slice(3).map((e) => e.eventId));
    expect(Buffer.from(state.recentEventHashes)).toEqual(
      Buffer.concat(events.slice(2).map((e) => eventIdHash(e.eventId))),
    );
  });

  it('keeps recent purchases ordered by event time when one arrives late', () => {
    const events = [
      aPurchase({ timestamp: T0 + 2 * MINUTE }),
      aPurchase({ timestamp: T0 }),
      aPurchase({ timestamp: T0 + MINUTE }),
    ];
    const { state } = evaluate(events, rules);
    expect(state.recentPurchases.map((p) => p.timestamp)).toEqual([T0, T0 + MINUTE, T0 + 2 * MINUTE]);
  });
});
