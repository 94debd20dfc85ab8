/** `make smoke` reads every name from `terraform output -json`; the names are the roots' outputs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { smokeEvents } from '../../../scripts/smoke/run.js';
import { firstApplyTargetsFromOutputs, targetsFromOutputs } from '../../../scripts/smoke.js';
import { validateEvent } from '../../../services/shared/event.js';

const outputs = {
  environment: { value: 'dev' },
  aws_region: { value: 'eu-west-1' },
  stream_name: { value: 'pulse-dev-events' },
  alerts_topic_arn: { value: 'arn:aws:sns:eu-west-1:000000000000:pulse-dev-alerts' },
  table_names: {
    value: {
      sessions: 'pulse-dev-sessions',
      'fraud-state': 'pulse-dev-fraud-state',
      alerts: 'pulse-dev-alerts',
    },
  },
  metrics_namespace: { value: 'Pulse' },
};

test('targets come from the outputs, the region from aws_region', () => {
  expect(targetsFromOutputs(outputs)).toEqual({
    environment: 'dev',
    streamName: 'pulse-dev-events',
    alertsTopicArn: 'arn:aws:sns:eu-west-1:000000000000:pulse-dev-alerts',
    tableNames: outputs.table_names.value,
    metricsNamespace: 'Pulse',
    region: 'eu-west-1',
  });
});

test('a missing output is named, with what to do', () => {
  const { metrics_namespace: _dropped, ...older } = outputs;
  expect(() => targetsFromOutputs(older)).toThrow(
    /terraform output "metrics_namespace" is missing: deploy this version first/,
  );
});

test('every output the smoke check reads is declared by the environment roots', () => {
  const declared = readFileSync(join(__dirname, '../../../terraform/envs/_shared/outputs.tf'), 'utf8');
  for (const name of Object.keys(outputs)) expect(declared).toContain(`output "${name}" {`);
});

test('the seeded events are valid: a session and one purchase, all by the test user', () => {
  const events = smokeEvents('smoke-u1', Date.UTC(2026, 0, 1), 100_000);
  for (const e of events)
    expect({ id: e.eventId, v: validateEvent(e).ok }).toEqual({ id: e.eventId, v: true });
  expect(new Set(events.map((e) => e.userId))).toEqual(new Set(['smoke-u1']));
  expect(events.filter((e) => e.eventType === 'purchase')).toHaveLength(1);
});

const firstApplyOutputs = {
  ...outputs,
  alarm_names: { value: ['pulse-dev-errors', 'pulse-dev-fraud-rules-stalled'] },
  stalled_alarm_names: { value: { 'fraud-rules': 'pulse-dev-fraud-rules-stalled' } },
  alerts_failed_metric_filter: {
    value: {
      name: 'pulse-dev-alerts-failed',
      log_group_name: '/aws/lambda/x',
      pattern: '{ $.level = "ERROR" }',
      message: 'm',
    },
  },
  chatbot_configuration_arn: { value: null },
};

test('first-apply checks read their names from the outputs; no Slack channel is null, not an error', () => {
  expect(firstApplyTargetsFromOutputs(firstApplyOutputs)).toEqual({
    alarmNames: ['pulse-dev-errors', 'pulse-dev-fraud-rules-stalled'],
    stalledAlarmNames: { 'fraud-rules': 'pulse-dev-fraud-rules-stalled' },
    metricFilter: {
      name: 'pulse-dev-alerts-failed',
      logGroupName: '/aws/lambda/x',
      pattern: '{ $.level = "ERROR" }',
      message: 'm',
    },
    alertsTopicArn: outputs.alerts_topic_arn.value,
    chatbotConfigurationArn: null,
    environment: 'dev',
  });
  const { alarm_names: _dropped, ...older } = firstApplyOutputs;
  expect(() => firstApplyTargetsFromOutputs(older)).toThrow(/terraform output "alarm_names" is missing/);
  const declared = readFileSync(join(__dirname, '../../../terraform/envs/_shared/outputs.tf'), 'utf8');
  for (const name of Object.keys(firstApplyOutputs)) expect(declared).toContain(`output "${name}" {`);
});
