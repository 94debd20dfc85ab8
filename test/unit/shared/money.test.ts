/**
 * Exact money across the three functions. Each of the first four cases failed on the code that
 * rounded to cents after every addition and summed every currency into one `totalSpent`.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { evaluatePurchases, newFraudState } from '../../../services/fraud-rules/rules.js';
import { aggregateSegments, eventTypeLabels } from '../../../services/metrics-emitter/windows.js';
import { applyRecords, newUserState } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { MAX_AMOUNT, type PulseEvent, validateEvent } from '../../../services/shared/event.js';
import { silentLogger } from '../../../services/shared/logger.js';
import {
  formatMicros,
  hasMoneyScale,
  microsToDecimal,
  microsToNumber,
  toMicros,
} from '../../../services/shared/money.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, anEvent, MINUTE, recordsFor, T0 } from '../../helpers/records.js';
import { harness, onlyRules, validRecords } from '../fraud-rules/support.js';

const SESSION_RULES = { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 200 };

function buy(amount: number, currency = 'USD', overrides: Partial<PulseEvent> = {}): PulseEvent {
  const e = anEvent({ eventType: 'purchase', ...overrides });
  return { ...e, data: { amount, currency, orderId: `o-${e.eventId}` } };
}

/** Session totals, fraud spend total (reason of the spend alert) and the metrics' Revenue sums. */
function everywhere(events: PulseEvent[]) {
  const records = validRecords(events);
  const { state } = applyRecords(newUserState('user-1'), records, SESSION_RULES);
  const rules = onlyRules(
    { spendVelocity: { amount: 0.000001, windowMinutes: 60 } },
    { maxRecentPurchases: 1000 },
  );
  const { alerts } = evaluatePurchases(newFraudState('user-1'), records, rules);
  const [segment] = aggregateSegments(records, {
    environment: 'test',
    functionName: 'fn',
    nowMs: T0 + 5 * MINUTE,
    labelOf: eventTypeLabels(records, 50).labelOf,
  });
  const revenue: Record<string, number | undefined> = {};
  for (const d of segment?.datums ?? []) {
    const currency = d.Dimensions?.find((x) => x.Name === 'Currency')?.Value;
    if (d.MetricName === 'Revenue' && currency) revenue[currency] = d.StatisticValues?.Sum;
  }
  return { spent: state.totals.spent, lastSpendReason: alerts.at(-1)?.reason, revenue };
}

describe('exact money', () => {
  it('1000 purchases of 0.004 sum to exactly 4', () => {
    const events = Array.from({ length: 1000 }, (_, i) => buy(0.004, 'USD', { timestamp: T0 + i }));
    const { spent, lastSpendReason, revenue } = everywhere(events);
    expect(spent).toEqual({ USD: '4000000' });
    expect(microsToDecimal(spent.USD as string)).toBe('4');
    expect(lastSpendReason).toBe('4.00 USD spent within 60 minutes.');
    expect(revenue).toEqual({ USD: 4 });
  });

  it('three purchases of 1.235 KWD sum to exactly 3.705', () => {
    const { spent, lastSpendReason, revenue } = everywhere([
      buy(1.235, 'KWD'),
      buy(1.235, 'KWD'),
      buy(1.235, 'KWD'),
    ]);
    expect(spent).toEqual({ KWD: '3705000' });
    expect(lastSpendReason).toBe('3.705 KWD spent within 60 minutes.');
    expect(revenue).toEqual({ KWD: 3.705 });
  });

  it('1.005 stays 1.005', () => {
    const { spent, lastSpendReason, revenue } = everywhere([buy(1.005)]);
    expect(spent).toEqual({ USD: '1005000' });
    expect(lastSpendReason).toBe('1.005 USD spent within 60 minutes.');
    expect(revenue).toEqual({ USD: 1.005 });
    expect(formatMicros(toMicros(1.005))).toBe('1.005');
  });

  it('EUR and USD never add together', () => {
    const { spent, revenue } = everywhere([buy(600, 'USD'), buy(600, 'EUR'), buy(600, 'USD')]);
    expect(spent).toEqual({ USD: '1200000000', EUR: '600000000' });
    expect(revenue).toEqual({ USD: 1200, EUR: 600 });
    // The spend rule sums one currency: 600 USD + 600 EUR is not 1200 of anything.
    const rules = onlyRules({ spendVelocity: { amount: 1000, windowMinutes: 60 } });
    const mixed = evaluatePurchases(
      newFraudState('user-1'),
      validRecords([buy(600, 'USD'), buy(600, 'EUR')]),
      rules,
    );
    expect(mixed.alerts).toEqual([]);
    const same = evaluatePurchases(
      newFraudState('user-1'),
      validRecords([buy(600, 'USD'), buy(600, 'USD')]),
      rules,
    );
    expect(same.alerts.map((a) => a.reason)).toEqual(['1,200.00 USD spent within 60 minutes.']);
  });

  it('thresholds can differ per currency; a currency without an entry uses the default', () => {
    const rules = onlyRules({ largePurchase: { threshold: 1000, perCurrency: { JPY: 150000 } } });
    const large = (events: PulseEvent[]) =>
      evaluatePurchases(newFraudState('user-1'), validRecords(events), rules).alerts.map((a) => a.currency);
    expect(large([buy(5000, 'JPY'), buy(149999.999999, 'JPY'), buy(150000.000001, 'JPY')])).toEqual(['JPY']);
    expect(large([buy(1000.000001, 'EUR')])).toEqual(['EUR']);
  });

  it('the schema rejects an amount with more than 6 decimal places and keeps every amount with 6', () => {
    const purchase = (amount: number) => ({
      eventId: 'e',
      userId: 'u',
      eventType: 'purchase',
      timestamp: T0,
      data: { amount, currency: 'USD', orderId: 'o' },
    });
    expect(validateEvent(purchase(1.0000001))).toEqual({
      ok: false,
      reason: 'data.amount must have at most 6 decimal places',
    });
    expect(validateEvent(purchase(0.1 + 0.2)).ok).toBe(false);
    for (const amount of [0, 0.000001, 1.005, 1.235, 999999999.999999, MAX_AMOUNT]) {
      expect(validateEvent(purchase(amount)).ok).toBe(true);
      expect(toMicros(amount) / 1e6).toBe(amount);
    }
    expect(hasMoneyScale(Number.NaN)).toBe(false);
  });

  it('converts an exact sum to the nearest double once', () => {
    expect(microsToNumber(10n ** 18n + 1n)).toBe(1e12);
    expect(microsToDecimal(-1_500_000)).toBe('-1.5');
    expect(formatMicros(1_234_567_000_000n)).toBe('1,234,567.00');
  });
});

describe('no total makes a write fail', () => {
  it('one user with 3000 purchases of the maximum amount: session totals stay exact and every write lands', async () => {
    const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'] });
    const store = new SessionStore({
      db: dynamo.asClient(),
      tableName: 'sessions',
      closedSessionTtlDays: 90,
    });
    const deps = {
      store,
      sqs: new FakeSqs().asClient(),
      invalidRecordsQueueUrl: 'q',
      functionName: 'session-updater',
      rules: SESSION_RULES,
      logger: silentLogger,
    };
    for (let b = 0; b < 3; b += 1) {
      const events = Array.from({ length: 1000 }, (_, i) =>
        buy(MAX_AMOUNT, 'USD', { timestamp: T0 + b * 1000 + i }),
      );
      const { response } = await updateSessions(aKinesisEvent(recordsFor(events)), deps);
      expect(response.batchItemFailures).toEqual([]);
    }
    const item = dynamo.get('sessions', { userId: 'user-1', sk: CURRENT_SK });
    // 3e18 micros: far past 2^53, exact as a decimal string.
    expect(item).toMatchObject({
      totals: { spent: { USD: '3000000000000000000' } },
      session: { spent: { USD: '3000000000000000000' } },
    });
  });

  it('fraud rules: 1000 maximum purchases in one batch raise the spend alert with the exact total and the state write lands', async () => {
    const h = harness(
      onlyRules({ spendVelocity: { amount: 1e12, windowMinutes: 60 } }, { maxRecentPurchases: 1000 }),
    );
    const events = Array.from({ length: 1000 }, (_, i) => buy(MAX_AMOUNT, 'USD', { timestamp: T0 + i }));
    const records: KinesisStreamRecord[] = recordsFor(events);
    const { response } = await h.run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.stateItem('user-1')?.recentPurchases).toHaveLength(1000);
    const reason = JSON.parse(h.sns.published[0]?.Message as string).content.description;
    expect(reason).toContain('1,000,000,000,000.00 USD spent within 60 minutes.');
  });

  it('metrics: 5000 maximum purchases in a minute sum exactly', () => {
    const records = validRecords(
      Array.from({ length: 5000 }, (_, i) => buy(MAX_AMOUNT, 'USD', { timestamp: T0 + i })),
    );
    const segments = aggregateSegments(records, {
      environment: 'test',
      functionName: 'fn',
      nowMs: T0 + MINUTE,
      labelOf: () => 'purchase',
    });
    const revenue = segments.flatMap((s) => s.datums).filter((d) => d.MetricName === 'Revenue');
    expect(revenue.map((d) => d.StatisticValues)).toEqual([
      { SampleCount: 5000, Sum: 5e12, Minimum: MAX_AMOUNT, Maximum: MAX_AMOUNT },
    ]);
  });
});
