/**
 * What an operator would otherwise check by hand after a first apply, run by `make smoke` after
 * the pipeline checks (scripts/smoke/run.ts):
 * - alarms:        every alarm Terraform created exists and is in a valid state (describe-alarms);
 * - stalled:       each stalled alarm's own metric math, read back from the alarm, evaluated once
 *                  with GetMetricData, returns a value (right after the smoke's records went in);
 * - metric-filter: the parked-alerts filter's pattern matches a sample of the very line fraud-rules
 *                  logs (TestMetricFilter), and the deployed filter has that pattern;
 * - slack:         with a Chatbot channel configured, one test message is published to the alert
 *                  topic that Chatbot is subscribed to (seen in the channel, not by this script).
 */
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  type CloudWatchLogsClient,
  DescribeMetricFiltersCommand,
  TestMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ListSubscriptionsByTopicCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ALERT_PARKED_MESSAGE } from '../../services/fraud-rules/alerts.js';

export interface FirstApplyClients {
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  sns: SNSClient;
}

/** From `terraform output -json`: alarm_names, stalled_alarm_names, alerts_failed_metric_filter, chatbot_configuration_arn. */
export interface FirstApplyTargets {
  alarmNames: string[];
  stalledAlarmNames: Record<string, string>;
  metricFilter: { name: string; logGroupName: string; pattern: string; message: string };
  alertsTopicArn: string;
  /** null: no Slack channel configured, the Slack check is not applicable. */
  chatbotConfigurationArn: string | null;
  environment: string;
}

export type FirstApplyCheck = 'alarms' | 'stalled' | 'metric-filter' | 'slack';
export const FIRST_APPLY_CHECKS: readonly FirstApplyCheck[] = ['alarms', 'stalled', 'metric-filter', 'slack'];

export interface CheckResult {
  check: FirstApplyCheck;
  /** undefined: not applicable here (e.g. no Slack channel). */
  ok: boolean | undefined;
  detail: string;
}

const VALID_STATES = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

async function describe(cloudwatch: CloudWatchClient, names: string[]): Promise<Map<string, MetricAlarm>> {
  const found = new Map<string, MetricAlarm>();
  for (let i = 0; i < names.length; i += 100) {
    let token: string | undefined;
    do {
      const r = await cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), NextToken: token }),
      );
      for (const a of r.MetricAlarms ?? []) if (a.AlarmName) found.set(a.AlarmName, a);
      token = r.NextToken;
    } while (token);
  }
  return found;
}

export async function checkAlarms(
  clients: FirstApplyClients,
  targets: FirstApplyTargets,
): Promise<CheckResult> {
  const found = await describe(clients.cloudwatch, targets.alarmNames);
  const missing = targets.alarmNames.filter((n) => !found.has(n));
  const invalid = [...found.values()].filter((a) => !VALID_STATES.has(String(a.StateValue)));
  const inAlarm = [...found.values()].filter((a) => a.StateValue === 'ALARM').map((a) => a.AlarmName);
  if (targets.alarmNames.length === 0)
    return { check: 'alarms', ok: false, detail: 'terraform output alarm_names is empty' };
  if (missing.length > 0 || invalid.length > 0)
    return {
      check: 'alarms',
      ok: false,
      detail: [
        missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
        invalid.length > 0
          ? `invalid state: ${invalid.map((a) => `${a.AlarmName}=${a.StateValue}`).join(', ')}`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
    };
  return {
    check: 'alarms',
    ok: true,
    detail: `${found.size} alarms in a valid state${inAlarm.length > 0 ? ` (in ALARM: ${inAlarm.join(', ')})` : ''}`,
  };
}

export async function checkStalled(
  clients: FirstApplyClients,
  targets: FirstApplyTargets,
  now: () => number = Date.now,
): Promise<CheckResult> {
  const names = Object.values(targets.stalledAlarmNames);
  if (names.length === 0)
    return { check: 'stalled', ok: false, detail: 'terraform output stalled_alarm_names is empty' };
  const found = await describe(clients.cloudwatch, names);
  const problems: string[] = [];
  const values: string[] = [];
  for (const name of names) {
    const queries = found.get(name)?.Metrics;
    if (!queries || queries.length === 0) {
      problems.push(`${name}: no metric math on the alarm`);
      continue;
    }
    const returned = queries.find((q) => q.ReturnData !== false && q.Expression)?.Id;
    const r = await clients.cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(now() - 60 * 60_000),
        EndTime: new Date(now()),
      }),
    );
    const result = r.MetricDataResults?.find((x) => x.Id === returned);
    const messages = [...(r.Messages ?? []), ...(result?.Messages ?? [])].map((m) => `${m.Code}: ${m.Value}`);
    if (!result || (result.Values ?? []).length === 0 || messages.length > 0)
      problems.push(`${name}: no value${messages.length > 0 ? ` (${messages.join('; ')})` : ''}`);
    else values.push(`${name}=${result.Values?.[0]}`);
  }
  return problems.length > 0
    ? { check: 'stalled', ok: false, detail: problems.join('; ') }
    : { check: 'stalled', ok: true, detail: `latest values ${values.join(', ')}` };
}

/** One line exactly as fraud-rules logs it when it parks an alert (Powertools JSON). */
export function parkedAlertSample(functionName: string): string {
  return JSON.stringify({
    level: 'ERROR',
    message: ALERT_PARKED_MESSAGE,
    timestamp: new Date(0).toISOString(),
    service: 'fraud-rules',
    function_name: functionName,
    alertId: 'smoke-sample',
  });
}

export async function checkMetricFilter(
  clients: FirstApplyClients,
  targets: FirstApplyTargets,
): Promise<CheckResult> {
  const f = targets.metricFilter;
  const problems: string[] = [];
  if (f.message !== ALERT_PARKED_MESSAGE)
    problems.push(`the filter matches "${f.message}" but fraud-rules logs "${ALERT_PARKED_MESSAGE}"`);
  const deployed = await clients.logs.send(
    new DescribeMetricFiltersCommand({ logGroupName: f.logGroupName, filterNamePrefix: f.name }),
  );
  const filter = deployed.metricFilters?.find((m) => m.filterName === f.name);
  if (!filter) problems.push(`no metric filter ${f.name} on ${f.logGroupName}`);
  else if (filter.filterPattern !== f.pattern)
    problems.push(`deployed pattern differs: ${filter.filterPattern}`);
  const sample = parkedAlertSample(`pulse-${targets.environment}-fraud-rules`);
  const other = JSON.stringify({ level: 'ERROR', message: 'user evaluation failed' });
  const tested = await clients.logs.send(
    new TestMetricFilterCommand({ filterPattern: f.pattern, logEventMessages: [sample, other] }),
  );
  const matched = (tested.matches ?? []).map((m) => m.eventMessage);
  if (matched.length !== 1 || matched[0] !== sample)
    problems.push(
      `pattern matched ${matched.length} of [parked-alert line, another ERROR] (expected only the first)`,
    );
  return problems.length > 0
    ? { check: 'metric-filter', ok: false, detail: problems.join('; ') }
    : {
        check: 'metric-filter',
        ok: true,
        detail: `${f.name} matches the parked-alert line and nothing else`,
      };
}

export async function checkSlack(
  clients: FirstApplyClients,
  targets: FirstApplyTargets,
): Promise<CheckResult> {
  if (!targets.chatbotConfigurationArn)
    return { check: 'slack', ok: undefined, detail: 'no Slack channel configured (alert_slack = null)' };
  const subs = await clients.sns.send(
    new ListSubscriptionsByTopicCommand({ TopicArn: targets.alertsTopicArn }),
  );
  const chatbot = (subs.Subscriptions ?? []).find((s) => /chatbot/i.test(s.Endpoint ?? ''));
  if (!chatbot)
    return { check: 'slack', ok: false, detail: 'AWS Chatbot is not subscribed to the alert topic' };
  // Chatbot's custom notification format; no severity attribute, so severity-filtered email and
  // SQS subscriptions do not receive it.
  const message = JSON.stringify({
    version: '1.0',
    source: 'custom',
    content: {
      title: `Pulse ${targets.environment}: smoke test`,
      description: 'make smoke checks that fraud alerts reach this channel. No action needed.',
    },
  });
  const published = await clients.sns.send(
    new PublishCommand({
      TopicArn: targets.alertsTopicArn,
      Message: message,
      MessageAttributes: { rule: { DataType: 'String', StringValue: 'smoke-test' } },
    }),
  );
  return {
    check: 'slack',
    ok: Boolean(published.MessageId),
    detail: `test message ${published.MessageId} published; it shows in the Slack channel as "Pulse ${targets.environment}: smoke test"`,
  };
}

export async function runFirstApplyChecks(
  clients: FirstApplyClients,
  targets: FirstApplyTargets,
  checks: readonly FirstApplyCheck[] = FIRST_APPLY_CHECKS,
): Promise<CheckResult[]> {
  const run: Record<FirstApplyCheck, () => Promise<CheckResult>> = {
    alarms: () => checkAlarms(clients, targets),
    stalled: () => checkStalled(clients, targets),
    'metric-filter': () => checkMetricFilter(clients, targets),
    slack: () => checkSlack(clients, targets),
  };
  const results: CheckResult[] = [];
  for (const c of checks) {
    try {
      results.push(await run[c]());
    } catch (err) {
      results.push({ check: c, ok: false, detail: `${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  return results;
}

export function formatChecks(results: CheckResult[]): string {
  return results
    .map((r) => `${r.ok === undefined ? 'N/A ' : r.ok ? 'PASS' : 'FAIL'}  ${r.check.padEnd(16)} ${r.detail}`)
    .join('\n');
}
