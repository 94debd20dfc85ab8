/** fraud-rules settings, read once per cold start. */
import { decodeOptions, type Env, jsonValue, positiveInt, requireString, ttlDays } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { itemBytes } from '../shared/item-size.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import { MARK_SENT_RESERVE_MS, PUBLISH_BUDGET_MS } from './publish-budget.js';
import { type FraudRules, parseRules } from './rules.js';
import { checkStateBudget } from './state-size.js';
import { stateItem } from './store.js';

/** The longest one Publish can take with the SNS client settings (shared/clients.ts), rounded up. */
export const PUBLISH_MAX_SECONDS = Math.ceil(PUBLISH_BUDGET_MS / 1000);

/**
 * The shortest lease in which a fresh claim can still publish: a holder publishes only when a
 * whole Publish and the SENT mark after it fit in what is left of its lease (alerts.ts).
 */
export const MIN_ALERT_LEASE_SECONDS = PUBLISH_MAX_SECONDS + Math.ceil(MARK_SENT_RESERVE_MS / 1000) + 1;

export interface FraudRulesConfig {
  stateTableName: string;
  alertsTableName: string;
  alertTopicArn: string;
  /** dev, staging, prod...: shown in every alert and set as the `environment` message attribute. */
  environment: string;
  alertTtlDays: number;
  stateTtlDays: number;
  /** How long a deliverer's claim on an alert lasts; at least MIN_ALERT_LEASE_SECONDS. */
  alertLeaseSeconds: number;
  /**
   * The sweep takes PENDING alerts at least this old (younger ones are being delivered by the
   * batch that raised them). Only contention depends on it, never correctness: claims do.
   */
  alertSweepMinAgeSeconds: number;
  rules: FraudRules;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): FraudRulesConfig {
  const alertLeaseSeconds = positiveInt(env, 'ALERT_LEASE_SECONDS', 120);
  const config = {
    stateTableName: requireString(env, 'FRAUD_STATE_TABLE'),
    alertsTableName: requireString(env, 'ALERTS_TABLE'),
    alertTopicArn: requireString(env, 'ALERT_TOPIC_ARN'),
    environment: requireString(env, 'ENVIRONMENT'),
    alertTtlDays: ttlDays(env, 'ALERT_TTL_DAYS', 30),
    stateTtlDays: ttlDays(env, 'STATE_TTL_DAYS', 7),
    alertLeaseSeconds,
    alertSweepMinAgeSeconds: positiveInt(env, 'ALERT_SWEEP_MIN_AGE_SECONDS', alertLeaseSeconds, 86_400),
    rules: parseRules(jsonValue(env, 'FRAUD_RULES'), 'FRAUD_RULES'),
    decode: decodeOptions(env),
  };
  if (config.alertLeaseSeconds < MIN_ALERT_LEASE_SECONDS) {
    // With a shorter lease no claim would leave room for a Publish: nothing would be delivered.
    throw new ConfigError(
      `environment variable ALERT_LEASE_SECONDS must be at least ${MIN_ALERT_LEASE_SECONDS} (${PUBLISH_MAX_SECONDS} s for one Publish plus ${Math.ceil(MARK_SENT_RESERVE_MS / 1000)} s to mark it SENT), got ${config.alertLeaseSeconds}`,
    );
  }
  // The widest timestamp: a far-future write time has the same ISO length and number width.
  checkStateBudget(config.rules, (s) => itemBytes(stateItem(s, Date.UTC(2999, 0), config.stateTtlDays)));
  return config;
}
