/**
 * The first-apply checks' decisions where moto cannot answer (GetMetricData of metric math,
 * TestMetricFilter): fake clients return what AWS would, and each check must pass or fail for the
 * right reason. The alarm-state and Slack checks run against moto in test/e2e/smoke.test.ts.
 */
import {
  type CheckResult,
  checkMetricFilter,
  checkStalled,
  type FirstApplyClients,
  type FirstApplyTargets,
  parkedAlertSample,
  runFirstApplyChecks,
} from '../../../scripts/smoke/first-apply.js';
import { ALERT_PARKED_MESSAGE } from '../../../services/fraud-rules/alerts.js';

type Handler = (input: Record<string, unknown>) => unknown;
/** A client whose send() answers per command name; an unexpected command fails the test. */
function fake(handlers: Record<string, Handler>) {
  const calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  return {
    calls,
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push({ command: name, input: command.input });
      const h = handlers[name];
      if (!h) throw new Error(`unexpected ${name}`);
      return h(command.input);
    },
  };
}

const pattern = `{ ($.level = "ERROR") && ($.message = "${ALERT_PARKED_MESSAGE}") }`;
const targets: FirstApplyTargets = {
  alarmNames: [],
  stalledAlarmNames: { 'fraud-rules': 'pulse-dev-fraud-rules-stalled' },
  metricFilter: {
    name: 'pulse-dev-alerts-failed',
    logGroupName: '/aws/lambda/pulse-dev-fraud-rules',
    pattern,
    message: ALERT_PARKED_MESSAGE,
  },
  alertsTopicArn: 'arn:aws:sns:eu-west-1:000000000000:pulse-dev-alerts',
  chatbotConfigurationArn: null,
  environment: 'dev',
};
const stalledQueries = [
  { Id: 'stalled', Expression: 'IF(records > 0 AND (0 * records + batches) == 0, 1, 0)', ReturnData: true },
  {
    Id: 'records',
    ReturnData: false,
    MetricStat: { Metric: { MetricName: 'IncomingRecords' }, Period: 300, Stat: 'Sum' },
  },
];
const describeAlarms = () => ({
  MetricAlarms: [{ AlarmName: 'pulse-dev-fraud-rules-stalled', StateValue: 'OK', Metrics: stalledQueries }],
});
const clients = (cloudwatch: unknown, logs: unknown = fake({})) =>
  ({ cloudwatch, logs, sns: fake({}) }) as unknown as FirstApplyClients;

describe("stalled: the alarm's own metric math, evaluated once", () => {
  test("passes with a value, and sends exactly the alarm's queries", async () => {
    const cw = fake({
      DescribeAlarmsCommand: describeAlarms,
      GetMetricDataCommand: () => ({
        MetricDataResults: [{ Id: 'stalled', Values: [0], StatusCode: 'Complete' }],
      }),
    });
    const r = await checkStalled(clients(cw), targets, () => Date.UTC(2026, 0, 1, 12));
    expect(r).toEqual({
      check: 'stalled',
      ok: true,
      detail: 'latest values pulse-dev-fraud-rules-stalled=0',
    });
    const get = cw.calls.find((c) => c.command === 'GetMetricDataCommand');
    expect(get?.input.MetricDataQueries).toEqual(stalledQueries);
    expect(get?.input.StartTime).toEqual(new Date(Date.UTC(2026, 0, 1, 11)));
  });

  test('no value, or an error message from CloudWatch, is a failure naming the alarm', async () => {
    for (const answer of [
      { MetricDataResults: [{ Id: 'stalled', Values: [] }] },
      { MetricDataResults: [] },
      {
        MetricDataResults: [
          { Id: 'stalled', Values: [1], Messages: [{ Code: 'ArithmeticError', Value: 'bad' }] },
        ],
      },
    ]) {
      const cw = fake({ DescribeAlarmsCommand: describeAlarms, GetMetricDataCommand: () => answer });
      const r = await checkStalled(clients(cw), targets);
      expect({ ok: r.ok, detail: r.detail.startsWith('pulse-dev-fraud-rules-stalled: no value') }).toEqual({
        ok: false,
        detail: true,
      });
    }
  });

  test('an alarm without metric math (or missing) fails before any GetMetricData', async () => {
    const cw = fake({ DescribeAlarmsCommand: () => ({ MetricAlarms: [] }) });
    const r = await checkStalled(clients(cw), targets);
    expect(r).toEqual({
      check: 'stalled',
      ok: false,
      detail: 'pulse-dev-fraud-rules-stalled: no metric math on the alarm',
    });
  });
});

describe('metric-filter: the deployed pattern matches the line fraud-rules logs, and only it', () => {
  const logs = (deployedPattern: string, matches: (messages: string[]) => string[]) =>
    fake({
      DescribeMetricFiltersCommand: () => ({
        metricFilters: [{ filterName: 'pulse-dev-alerts-failed', filterPattern: deployedPattern }],
      }),
      TestMetricFilterCommand: (input) => ({
        matches: matches(input.logEventMessages as string[]).map((m, i) => ({
          eventNumber: i,
          eventMessage: m,
        })),
      }),
    });

  test('passes when only the parked-alert sample matches', async () => {
    const l = logs(pattern, (m) => m.filter((x) => x.includes(ALERT_PARKED_MESSAGE)));
    const r = await checkMetricFilter(clients(fake({}), l), targets);
    expect(r.ok).toBe(true);
    const sent = l.calls.find((c) => c.command === 'TestMetricFilterCommand')?.input ?? {};
    expect(sent.filterPattern).toBe(pattern);
    const [first] = sent.logEventMessages as string[];
    expect(JSON.parse(first ?? '')).toMatchObject({
      level: 'ERROR',
      message: ALERT_PARKED_MESSAGE,
      function_name: 'pulse-dev-fraud-rules',
    });
  });

  test('fails when the pattern matches nothing, matches every ERROR, or differs from what was deployed', async () => {
    const cases: Array<[ReturnType<typeof logs>, RegExp]> = [
      [logs(pattern, () => []), /matched 0 of/],
      [logs(pattern, (m) => m), /matched 2 of/],
      [logs('{ $.level = "ERROR" }', (m) => m.slice(0, 1)), /deployed pattern differs/],
    ];
    for (const [l, why] of cases) {
      const r: CheckResult = await checkMetricFilter(clients(fake({}), l), targets);
      expect({ ok: r.ok, why: why.test(r.detail) }).toEqual({ ok: false, why: true });
    }
  });

  test('a filter matching another message than the code logs is named', async () => {
    const l = logs(pattern, (m) => m.slice(0, 1));
    const r = await checkMetricFilter(clients(fake({}), l), {
      ...targets,
      metricFilter: { ...targets.metricFilter, message: 'alert parked' },
    });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain(`but fraud-rules logs "${ALERT_PARKED_MESSAGE}"`);
  });

  test('the sample is one JSON line as the Powertools logger writes it', () => {
    expect(JSON.parse(parkedAlertSample('pulse-prod-fraud-rules'))).toMatchObject({
      level: 'ERROR',
      message: ALERT_PARKED_MESSAGE,
      function_name: 'pulse-prod-fraud-rules',
    });
  });
});

test('a check that throws is a FAIL with the error, and the others still run', async () => {
  const cw = fake({
    DescribeAlarmsCommand: () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
    },
  });
  const results = await runFirstApplyChecks(clients(cw), targets, ['alarms', 'stalled', 'slack']);
  expect(results.map((r) => [r.check, r.ok])).toEqual([
    ['alarms', false],
    ['stalled', false],
    ['slack', undefined],
  ]);
  expect(results[1]?.detail).toBe('AccessDenied: denied');
});
