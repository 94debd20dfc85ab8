/**
 * Rule-state items are bounded by bytes: the cold start computes the worst case the rules allow,
 * and the store trims before writing. Ids are MAX_ID_BYTES long in 4-byte characters.
 */
import { loadConfig } from '../../../services/fraud-rules/config.js';
import { evaluatePurchases, type FraudRules, newFraudState } from '../../../services/fraud-rules/rules.js';
import {
  checkStateBudget,
  trimStateToBudget,
  worstCaseState,
} from '../../../services/fraud-rules/state-size.js';
import { FraudStateStore, stateItem } from '../../../services/fraud-rules/store.js';
import { ConfigError } from '../../../services/shared/errors.js';
import { MAX_ID_BYTES } from '../../../services/shared/event.js';
import { EVENT_HASH_BYTES } from '../../../services/shared/idempotency.js';
import { ITEM_BYTE_BUDGET, itemBytes, widestId } from '../../../services/shared/item-size.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aPurchase, T0 } from '../../helpers/records.js';
import { onlyRules, STATE_TABLE, validRecords } from './support.js';

const ENV = {
  FRAUD_STATE_TABLE: 't',
  ALERTS_TABLE: 'a',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:x',
  ENVIRONMENT: 'test',
};
const maxima = (): FraudRules =>
  onlyRules(
    { purchaseVelocity: { count: 5, windowMinutes: 7 * 24 * 60 } },
    { maxRecentPurchases: 1_000, maxCurrencies: 1, maxRecentEventIds: 1_000 },
  );
const size = (s: Parameters<typeof stateItem>[0]) => itemBytes(stateItem(s, Date.UTC(2999, 0), 7));
const longId = (tag: string, i: number) => `${widestId(MAX_ID_BYTES - 8)}${tag}${String(i).padStart(7, '0')}`;

describe('rule-state item bytes', () => {
  it('the worst case at the allowed maxima fits the budget, so the cold start accepts them', () => {
    const worst = size(worstCaseState(maxima()));
    expect(worst).toBeLessThan(ITEM_BYTE_BUDGET);
    expect(() =>
      loadConfig({
        ...ENV,
        FRAUD_RULES: '{"maxRecentPurchases":1000,"maxCurrencies":1,"maxRecentEventIds":1000}',
      }),
    ).not.toThrow();
    console.log(`fraud-state item, worst case at the maxima with ${MAX_ID_BYTES}-byte ids: ${worst} bytes`);
  });

  it('counts every kept currency full: the defaults (100 purchases in each of 4 currencies) fit, 1000 in 4 do not', () => {
    const defaults = onlyRules({});
    expect(worstCaseState(defaults).recentPurchases).toHaveLength(100 * 4);
    expect(size(worstCaseState(defaults))).toBeLessThan(ITEM_BYTE_BUDGET);
    expect(() => loadConfig({ ...ENV, FRAUD_RULES: '{}' })).not.toThrow();
    expect(() =>
      loadConfig({ ...ENV, FRAUD_RULES: '{"maxRecentPurchases":1000,"maxCurrencies":4}' }),
    ).toThrow(
      /FRAUD_RULES.maxRecentPurchases=1000, FRAUD_RULES.maxCurrencies=4 and .* above the \d+-byte budget/,
    );
  });

  it('fails the cold start naming the settings when they allow an item above the budget', () => {
    expect(() => checkStateBudget(maxima(), size, 100_000)).toThrow(ConfigError);
    expect(() => checkStateBudget(maxima(), size, 100_000)).toThrow(
      /FRAUD_RULES.maxRecentPurchases=1000, FRAUD_RULES.maxCurrencies=1 and FRAUD_RULES.maxRecentEventIds=1000 allow a rule-state item of \d+ bytes/,
    );
  });

  it('at the maxima with 128-byte multi-byte ids, the written item stays within the computed worst case', async () => {
    const rules = maxima();
    const userId = longId('u', 0);
    const events = Array.from({ length: 1_100 }, (_, i) =>
      aPurchase({ userId, eventId: longId('e', i), amount: 1, country: 'DE', timestamp: T0 + i * 1000 }),
    );
    const { state } = evaluatePurchases(newFraudState(userId), validRecords(events), rules);
    const db = new FakeDynamo({ [STATE_TABLE]: 'userId' });
    const store = new FraudStateStore({ db, tableName: STATE_TABLE, ttlDays: 7 });
    await store.saveUser(state);
    const item = db.item(STATE_TABLE, userId) as Record<string, unknown>;
    expect(item.recentPurchases).toHaveLength(1_000);
    expect(itemBytes(item)).toBeLessThanOrEqual(size(worstCaseState(rules)));
    console.log(`fraud-state item written at the maxima: ${itemBytes(item)} bytes`);
  });

  it('trims the oldest hashes first, then the oldest purchases, until the item fits', () => {
    const state = {
      ...worstCaseState(maxima()),
      version: 0,
    };
    const full = size(state);
    const fewerHashes = trimStateToBudget(state, size, full - 800);
    expect(fewerHashes.recentEventHashes).toHaveLength(900 * EVENT_HASH_BYTES);
    expect(fewerHashes.recentPurchases).toHaveLength(1_000);
    const fewerPurchases = trimStateToBudget(state, size, 100_000);
    expect(fewerPurchases.recentEventHashes).toHaveLength(0);
    expect(size(fewerPurchases)).toBeLessThanOrEqual(100_000);
    expect(fewerPurchases.recentPurchases.length).toBeGreaterThan(400);
    expect(state.recentPurchases).toHaveLength(1_000); // the input is not modified
  });
});
