/** fraud-rules settings, read once per cold start. */
import { decodeOptions, type Env, jsonValue, positiveInt, requireString } from '../shared/config.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import { type FraudRules, parseRules } from './rules.js';

export interface FraudRulesConfig {
  stateTableName: string;
  alertsTableName: string;
  alertTopicArn: string;
  /** dev, staging, prod...: shown in every alert and set as the `environment` message attribute. */
  environment: string;
  alertTtlDays: number;
  stateTtlDays: number;
  /** How long a deliverer's claim on an alert lasts; must exceed the function timeout. */
  alertLeaseSeconds: number;
  rules: FraudRules;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): FraudRulesConfig {
  return {
    stateTableName: requireString(env, 'FRAUD_STATE_TABLE'),
    alertsTableName: requireString(env, 'ALERTS_TABLE'),
    alertTopicArn: requireString(env, 'ALERT_TOPIC_ARN'),
    environment: requireString(env, 'ENVIRONMENT'),
    alertTtlDays: positiveInt(env, 'ALERT_TTL_DAYS', 30),
    stateTtlDays: positiveInt(env, 'STATE_TTL_DAYS', 7),
    alertLeaseSeconds: positiveInt(env, 'ALERT_LEASE_SECONDS', 120),
    rules: parseRules(jsonValue(env, 'FRAUD_RULES'), 'FRAUD_RULES'),
    decode: decodeOptions(env),
  };
}
