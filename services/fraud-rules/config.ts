/** fraud-rules settings, read once per cold start. */
import { clientConfig } from '../shared/clients.js';
import { decodeOptions, type Env, jsonValue, positiveInt, requireString, ttlDays } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { itemBytes } from '../shared/item-size.js';
import type { DecodeOptions } from '../shared/kinesis.js';
// Bundled at build time: Lambda exposes no timeout variable, and Terraform sets the function's
// timeout from this same file, so the two cannot disagree.
import fn from './function.json' with { type: 'json' };
import { type FraudRules, parseRules } from './rules.js';
import { checkStateBudget } from './state-size.js';
import { stateItem } from './store.js';

/** The function timeout (function.json `timeout`, what Terraform deploys). */
export const FUNCTION_TIMEOUT_SECONDS: number = fn.timeout;

/**
 * The longest one Publish can take with the shared client settings: every attempt connecting and
 * then timing out, plus the SDK's back-off between attempts (well under 2 s for 4 attempts).
 */
export const PUBLISH_MAX_SECONDS =
  Math.ceil(
    (clientConfig.maxAttempts *
      (clientConfig.requestHandler.connectionTimeout + clientConfig.requestHandler.requestTimeout)) /
      1000,
  ) + 2;

/**
 * The shortest lease that outlasts any holder: one that claimed at the start of an invocation is
 * done or dead by the timeout, and a holder's last Publish may start just before it.
 */
export const MIN_ALERT_LEASE_SECONDS = FUNCTION_TIMEOUT_SECONDS + PUBLISH_MAX_SECONDS + 1;

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
    // A shorter lease lets a second deliverer claim an alert its holder is still publishing.
    throw new ConfigError(
      `environment variable ALERT_LEASE_SECONDS must be at least ${MIN_ALERT_LEASE_SECONDS} (the ${FUNCTION_TIMEOUT_SECONDS} s function timeout plus ${PUBLISH_MAX_SECONDS} s for one Publish), got ${config.alertLeaseSeconds}`,
    );
  }
  // The widest timestamp: a far-future write time has the same ISO length and number width.
  checkStateBudget(config.rules, (s) => itemBytes(stateItem(s, Date.UTC(2999, 0), config.stateTtlDays)));
  return config;
}
