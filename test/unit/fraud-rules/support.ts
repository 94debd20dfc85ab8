/** Shared set-up for the fraud-rules tests: rules with only some enabled, records, a wired detector. */
import type { KinesisStreamRecord } from 'aws-lambda';
import { loadResources } from '../../../lib/config.js';
import { AlertLog } from '../../../services/fraud-rules/alerts.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { republishPending } from '../../../services/fraud-rules/outbox.js';
import { type FraudRules, parseRules, type RuleName } from '../../../services/fraud-rules/rules.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { decodeBatch, type ValidRecord } from '../../../services/shared/kinesis.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { CallLog, FakeDynamo, FakeSns } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, recordsFor } from '../../helpers/records.js';

export const STATE_TABLE = 'pulse-test-fraud-state';
export const ALERTS_TABLE = 'pulse-test-alerts';
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:pulse-test-alerts';
export const NOW = Date.UTC(2026, 10, 25, 13, 0, 0);
export const LEASE_MS = 120_000;

/** Rules with every rule disabled except those given (merged over the defaults). */
export function onlyRules(
  enabled: Partial<Record<RuleName, Record<string, unknown>>>,
  extra: Record<string, unknown> = {},
): FraudRules {
  const config: Record<string, unknown> = { cooldownMinutes: 0, ...extra };
  for (const rule of ['largePurchase', 'purchaseVelocity', 'spendVelocity', 'countryHop'] as const) {
    config[rule] = { ...(enabled[rule] ?? {}), enabled: rule in enabled };
  }
  return parseRules(config);
}

export function validRecords(events: PulseEvent[]): ValidRecord[] {
  const { valid, invalid } = decodeBatch(recordsFor(events));
  if (invalid.length > 0) throw new Error(`test built an invalid record: ${invalid[0]?.reason}`);
  return valid;
}

export function harness(rules: FraudRules) {
  const log = new CallLog();
  /** Wall clock of the functions (record/claim times, leases); tests move it forward. */
  const clock = { now: NOW };
  const db = new FakeDynamo({ [STATE_TABLE]: 'userId', [ALERTS_TABLE]: 'alertId' }, log, {
    [ALERTS_TABLE]: loadResources().tables.alerts?.globalSecondaryIndexes ?? [],
  });
  const sns = new FakeSns(log);
  const store = new FraudStateStore({
    db,
    tableName: STATE_TABLE,
    ttlDays: 7,
    now: () => clock.now,
    sleep: async () => {},
  });
  const alerts = new AlertLog({
    db,
    sns,
    tableName: ALERTS_TABLE,
    topicArn: TOPIC_ARN,
    environment: 'test',
    ttlDays: 30,
    cooldownMinutes: rules.cooldownMinutes,
    leaseMs: LEASE_MS,
    now: () => clock.now,
  });
  const run = (records: KinesisStreamRecord[]) =>
    detectFraud(aKinesisEvent(records), { store, alerts, rules, logger: silentLogger });
  /** The scheduled sweep, as the handler runs it. */
  const sweep = () => republishPending(alerts, { logger: silentLogger });
  const alertItem = (alertId: string) => db.item(ALERTS_TABLE, alertId);
  const stateItem = (userId: string) => db.item(STATE_TABLE, userId);
  /** alertIds in the order they were published. */
  const publishedIds = () => sns.published.map((p) => (JSON.parse(p.Message as string) as { id: string }).id);
  return { log, db, sns, store, alerts, clock, run, sweep, alertItem, stateItem, publishedIds };
}
