/**
 * `make smoke` against the local stack: the very code that checks a deployment (scripts/smoke/run.ts)
 * runs here on every `make test`, with the names the local stack created instead of Terraform's
 * outputs, so it cannot rot between deployments.
 *
 * The first-apply checks (scripts/smoke/first-apply.ts) run here where moto emulates them: alarm
 * states (describe-alarms) and the Slack check's decisions. moto evaluates no metric math in
 * GetMetricData and has no TestMetricFilter, so the stalled and metric-filter checks are listed in
 * docs/deploy.md as checked on first deploy.
 */

import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { scanTable } from '../../scripts/local/readback.js';
import {
  checkAlarms,
  checkSlack,
  type FirstApplyTargets,
  formatChecks,
} from '../../scripts/smoke/first-apply.js';
import { formatSmoke, runSmoke, type SmokeTargets } from '../../scripts/smoke/run.js';
import { createDocumentClient } from '../../services/shared/dynamo.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

jest.setTimeout(180_000);

let p: Pipeline;
let targets: SmokeTargets;
beforeAll(async () => {
  p = await startPipeline('smoke');
  const alertsTopicArn = p.resources.topics.alerts;
  if (!alertsTopicArn) throw new Error('local stack has no alerts topic');
  targets = {
    environment: p.resources.environment,
    streamName: p.resources.streamName,
    alertsTopicArn,
    tableNames: p.resources.tables,
    metricsNamespace: p.resources.metricsNamespace,
  };
});
afterAll(async () => {
  await p?.stop();
});

test('every function passes, and the test user and the temporary subscription are gone afterwards', async () => {
  const lines: string[] = [];
  const result = await runSmoke(p.clients, targets, {
    timeoutMs: 90_000,
    pollMs: 500,
    log: (l) => lines.push(l),
  });
  const report = formatSmoke(result);
  expect({ ok: result.ok, report }).toEqual({ ok: true, report: expect.any(String) });
  expect(result.results.map((r) => [r.fn, r.ok])).toEqual([
    ['session-updater', true],
    ['fraud-rules', true],
    ['metrics-emitter', true],
  ]);
  for (const r of result.results) expect(r.lagMs).toBeGreaterThanOrEqual(0);
  expect(report).toMatch(/^PASS {2}session-updater +\d+\.\d s/m);
  expect(result.cleanupErrors).toEqual([]);
  expect(lines.some((l) => l.includes('temporary alert subscription'))).toBe(true);

  // cleaned up: no item of the test user, no extra subscription or queue
  const doc = createDocumentClient(p.clients.dynamodb);
  const sessions = await doc.send(
    new QueryCommand({
      TableName: targets.tableNames.sessions!,
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': result.userId },
    }),
  );
  expect(sessions.Items ?? []).toEqual([]);
  const state = await doc.send(
    new GetCommand({ TableName: targets.tableNames['fraud-state']!, Key: { userId: result.userId } }),
  );
  expect(state.Item).toBeUndefined();
  const alerts = await scanTable(p.clients, targets.tableNames.alerts!);
  expect(alerts.filter((a) => a.userId === result.userId)).toEqual([]);
  const subs = await p.clients.sns.send(
    new ListSubscriptionsByTopicCommand({ TopicArn: targets.alertsTopicArn }),
  );
  expect((subs.Subscriptions ?? []).filter((s) => s.Endpoint?.includes('-smoke-'))).toEqual([]);
  const queues = await p.clients.sqs.send(
    new ListQueuesCommand({ QueueNamePrefix: `pulse-${targets.environment}-smoke-` }),
  );
  expect(queues.QueueUrls ?? []).toEqual([]);
});

test('a function whose output never comes is a FAIL with its cause; the others still pass and clean up', async () => {
  // A purchase below every largePurchase threshold: fraud-rules rightly raises no alert.
  const result = await runSmoke(p.clients, targets, { timeoutMs: 20_000, pollMs: 500, largeAmount: 10 });
  expect(result.results.map((r) => [r.fn, r.ok])).toEqual([
    ['session-updater', true],
    ['fraud-rules', false],
    ['metrics-emitter', true],
  ]);
  expect(result.ok).toBe(false);
  const report = formatSmoke(result);
  expect(report).toMatch(/^FAIL {2}fraud-rules .*no alert/m);
  expect(report).toContain('smoke: 2 passed, 1 failed');
  expect(result.cleanupErrors).toEqual([]);
});

describe('first-apply checks on the local stack', () => {
  const first = (over: Partial<FirstApplyTargets> = {}): FirstApplyTargets => ({
    alarmNames: [],
    stalledAlarmNames: {},
    metricFilter: { name: 'f', logGroupName: 'g', pattern: 'p', message: 'm' },
    alertsTopicArn: targets.alertsTopicArn,
    chatbotConfigurationArn: null,
    environment: targets.environment,
    ...over,
  });
  const clients = () => ({
    cloudwatch: p.clients.cloudwatch,
    sns: p.clients.sns,
    // not called by these checks; a real client so the types hold
    logs: new CloudWatchLogsClient({ region: 'us-east-1', endpoint: p.stack.endpoints.default }),
  });

  test('alarms: every named alarm exists in a valid state; a missing one is named', async () => {
    const env = targets.environment;
    const names = [`pulse-${env}-events-per-minute`, `pulse-${env}-fraud-rules-stalled`];
    await p.clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: names[0],
        Namespace: 'Pulse',
        MetricName: 'Events',
        Dimensions: [{ Name: 'Environment', Value: env }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1000,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    await p.clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: names[1],
        EvaluationPeriods: 3,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: [
          {
            Id: 'stalled',
            Expression: 'IF(records > 0 AND (0 * records + batches) == 0, 1, 0)',
            ReturnData: true,
          },
          {
            Id: 'records',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Kinesis',
                MetricName: 'IncomingRecords',
                Dimensions: [{ Name: 'StreamName', Value: targets.streamName }],
              },
              Period: 300,
              Stat: 'Sum',
            },
          },
          {
            Id: 'batches',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'IteratorAge',
                Dimensions: [{ Name: 'FunctionName', Value: `pulse-${env}-fraud-rules` }],
              },
              Period: 300,
              Stat: 'SampleCount',
            },
          },
        ],
      }),
    );
    const ok = await checkAlarms(clients(), first({ alarmNames: names }));
    expect(ok).toEqual({ check: 'alarms', ok: true, detail: '2 alarms in a valid state' });
    const missing = await checkAlarms(
      clients(),
      first({ alarmNames: [...names, `pulse-${env}-never-created`] }),
    );
    expect(missing).toEqual({ check: 'alarms', ok: false, detail: `missing: pulse-${env}-never-created` });
    expect(formatChecks([missing])).toMatch(/^FAIL {2}alarms +missing: /);
    expect((await checkAlarms(clients(), first())).ok).toBe(false); // no alarm names is a failure, not a pass
  });

  test('slack: not applicable without a channel; a configuration without a Chatbot subscription fails', async () => {
    expect(await checkSlack(clients(), first())).toEqual({
      check: 'slack',
      ok: undefined,
      detail: 'no Slack channel configured (alert_slack = null)',
    });
    const r = await checkSlack(
      clients(),
      first({
        chatbotConfigurationArn: 'arn:aws:chatbot::000000000000:chat-configuration/slack-channel/pulse-x',
      }),
    );
    expect(r).toEqual({
      check: 'slack',
      ok: false,
      detail: 'AWS Chatbot is not subscribed to the alert topic',
    });
  });
});
