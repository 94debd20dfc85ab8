/** fraud-rules settings, read once per cold start. */
import { decodeOptions, type Env, jsonValue, positiveInt, requireString } from '../shared/config.js';
import { itemBytes } from '../shared/item-size.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import { type FraudRules, parseRules } from './rules.js';
import { checkStateBudget } from './state-size.js';
import { stateItem } from './store.js';

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
  const config = {
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
  // The widest timestamp: a far-future write time has the same ISO length and number width.
  checkStateBudget(config.rules, (s) => itemBytes(stateItem(s, Date.UTC(2999, 0), config.stateTtlDays)));
  return config;
}
