import { readFileSync } from 'node:fs';
import { loadConfig } from '../../../services/fraud-rules/config.js';
import { DEFAULT_RULES, parseRules } from '../../../services/fraud-rules/rules.js';
import { ConfigError } from '../../../services/shared/errors.js';

const functionJson = JSON.parse(
  readFileSync(new URL('../../../services/fraud-rules/function.json', `file://${__filename}`), 'utf8'),
) as { environment: Record<string, string> };

const env = (overrides: Record<string, string | undefined> = {}) => ({
  FRAUD_STATE_TABLE: 'pulse-dev-fraud-state',
  ALERTS_TABLE: 'pulse-dev-alerts',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:pulse-dev-alerts',
  ENVIRONMENT: 'dev',
  FRAUD_RULES: '{}',
  ...overrides,
});

const configError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('reads names, TTLs and rules, with defaults for omitted settings', () => {
    expect(loadConfig(env({ ALERT_TTL_DAYS: '90' }))).toEqual({
      stateTableName: 'pulse-dev-fraud-state',
      alertsTableName: 'pulse-dev-alerts',
      alertTopicArn: 'arn:aws:sns:us-east-1:000000000000:pulse-dev-alerts',
      environment: 'dev',
      alertTtlDays: 90,
      stateTtlDays: 7,
      alertLeaseSeconds: 120,
      alertSweepMinAgeSeconds: 120,
      rules: DEFAULT_RULES,
      decode: { maxEventAheadMs: 300_000 },
    });
  });

  it('parses the FRAUD_RULES shipped in function.json', () => {
    const config = loadConfig(env({ ...functionJson.environment }));
    expect(config.rules).toEqual({
      largePurchase: { enabled: true, threshold: 1000, perCurrency: {} },
      purchaseVelocity: { enabled: true, count: 5, windowMinutes: 10 },
      spendVelocity: { enabled: true, amount: 3000, windowMinutes: 60, perCurrency: {} },
      countryHop: { enabled: true, windowMinutes: 60 },
      cooldownMinutes: 15,
      maxRecentPurchases: 100,
      maxCurrencies: 4,
      maxRecentEventIds: 200,
    });
    expect(config.stateTtlDays).toBe(Number(functionJson.environment.STATE_TTL_DAYS));
  });

  it.each(['FRAUD_STATE_TABLE', 'ALERTS_TABLE', 'ALERT_TOPIC_ARN', 'ENVIRONMENT', 'FRAUD_RULES'])(
    'requires %s',
    (name) => {
      expect(configError(() => loadConfig(env({ [name]: undefined })))).toBe(
        `environment variable ${name} is required but not set`,
      );
    },
  );

  it('names malformed values', () => {
    expect(configError(() => loadConfig(env({ FRAUD_RULES: '{threshold: 5}' })))).toMatch(
      /^environment variable FRAUD_RULES is not valid JSON: /,
    );
    expect(configError(() => loadConfig(env({ STATE_TTL_DAYS: 'seven' })))).toBe(
      'environment variable STATE_TTL_DAYS must be a positive integer, got "seven"',
    );
  });
});

describe('parseRules', () => {
  it('merges partial rule settings over the defaults', () => {
    expect(parseRules({ purchaseVelocity: { count: 3 }, countryHop: { enabled: false } })).toEqual({
      ...DEFAULT_RULES,
      purchaseVelocity: { enabled: true, count: 3, windowMinutes: 10 },
      countryHop: { enabled: false, windowMinutes: 60 },
    });
  });

  it.each([
    [[1], 'FRAUD_RULES must be a JSON object'],
    [{ largePurchse: {} }, 'FRAUD_RULES.largePurchse is not a known setting'],
    [{ largePurchase: 5 }, 'FRAUD_RULES.largePurchase must be a JSON object'],
    [{ largePurchase: { treshold: 5 } }, 'FRAUD_RULES.largePurchase.treshold is not a known setting'],
    [
      { largePurchase: { threshold: -1 } },
      'FRAUD_RULES.largePurchase.threshold must be a finite number >= 0, got -1',
    ],
    [
      { largePurchase: { threshold: '1000' } },
      'FRAUD_RULES.largePurchase.threshold must be a finite number >= 0, got "1000"',
    ],
    [
      { largePurchase: { enabled: 'yes' } },
      'FRAUD_RULES.largePurchase.enabled must be true or false, got "yes"',
    ],
    [
      { purchaseVelocity: { count: 1 } },
      'FRAUD_RULES.purchaseVelocity.count must be an integer between 2 and 100, got 1',
    ],
    [
      { purchaseVelocity: { count: 2.5 } },
      'FRAUD_RULES.purchaseVelocity.count must be an integer between 2 and 100, got 2.5',
    ],
    [
      { maxRecentPurchases: 10, purchaseVelocity: { count: 11 } },
      'FRAUD_RULES.purchaseVelocity.count must be an integer between 2 and 10, got 11',
    ],
    [
      { purchaseVelocity: { windowMinutes: 0 } },
      'FRAUD_RULES.purchaseVelocity.windowMinutes must be a number of minutes > 0 and <= 10080, got 0',
    ],
    [{ spendVelocity: { amount: 0 } }, 'FRAUD_RULES.spendVelocity.amount must be a finite number > 0, got 0'],
    [
      { countryHop: { windowMinutes: 20000 } },
      'FRAUD_RULES.countryHop.windowMinutes must be a number of minutes > 0 and <= 10080, got 20000',
    ],
    [{ cooldownMinutes: -5 }, 'FRAUD_RULES.cooldownMinutes must be a finite number >= 0, got -5'],
    [{ maxRecentEventIds: 0 }, 'FRAUD_RULES.maxRecentEventIds must be an integer between 1 and 1000, got 0'],
  ])('rejects %j', (value, message) => {
    expect(configError(() => parseRules(value))).toMatch(
      new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });
});
