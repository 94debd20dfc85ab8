/**
 * Try fraud rules on past traffic without touching live state: the archived purchases of a range
 * go through fraud-rules' pure evaluation (evaluatePurchases) from an empty rule state per user,
 * once with the deployed rules and once with the candidate rules; nothing is read from or
 * written to DynamoDB or SNS. The alerts each would raise go to a scratch output.
 */
import {
  type Alert,
  evaluatePurchases,
  type FraudRules,
  newFraudState,
} from '../../../services/fraud-rules/rules.js';
import { groupByUser } from '../../../services/shared/batch.js';
import { isPurchase } from '../../../services/shared/event.js';
import type { ValidRecord } from '../../../services/shared/kinesis.js';

export interface RuleTrial {
  purchases: number;
  users: number;
  alerts: Alert[];
  byRule: Record<string, number>;
  suppressed: number;
}

export function trialOf(records: readonly ValidRecord[], rules: FraudRules): RuleTrial {
  const purchases = records.filter((r) => isPurchase(r.event));
  const alerts: Alert[] = [];
  let suppressed = 0;
  const groups = groupByUser(purchases);
  for (const [userId, list] of groups) {
    const result = evaluatePurchases(newFraudState(userId), list, rules);
    alerts.push(...result.alerts);
    suppressed += result.suppressed;
  }
  const byRule: Record<string, number> = {};
  for (const a of alerts) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
  return { purchases: purchases.length, users: groups.size, alerts, byRule, suppressed };
}
