// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations
// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output is untyped JSON walked by path
/**
 * A first deploy must not mail every ops subscriber one "OK" per alarm (each new alarm moves from
 * INSUFFICIENT_DATA to OK). Two layers, each attacked here:
 * - OK actions only on the alarms whose recovery is news (stalled, iterator age, anomaly);
 * - the ops email subscriptions filter CloudWatch's notification body: only changes into or out
 *   of ALARM are mailed. The filter file Terraform reads is applied to a real SNS topic on moto,
 *   and notifications of every transition are published through it.
 *
 * moto 5.2.5 evaluates `$or` in the MessageBody scope with its message-attribute matcher and fails
 * on every message, so here the same policy filters message attributes carrying the two fields of
 * CloudWatch's body (NewStateValue, OldStateValue): that proves the policy's logic; that SNS applies
 * it to the JSON body CloudWatch publishes is checked on first deploy (docs/deploy.md).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { convertFiles } from '@cdktf/hcl2json';
import {
  freePort,
  type Started,
  startProcess,
  stopProcess,
  waitHealthy,
} from '../../scripts/local/processes.js';

type Json = any;
const root = join(__dirname, '..', '..');
const tf = join(root, 'terraform');
const filterFile = join(tf, 'modules/pulse/policies/ops-email-filter.json');

describe('OK notifications only where they help', () => {
  test('fixed-threshold alarms: OK only for iterator age; stalled and anomaly alarms: OK (recovery is news)', async () => {
    const m = await convertFiles(join(tf, 'modules/observability'));
    const locals = Object.assign({}, ...(m.locals as Json[]));
    const alarm = m.resource.aws_cloudwatch_metric_alarm.this[0];
    expect(alarm.ok_actions).toBe('${each.value.notify_ok ? local.alarm_common.ok_actions : []}');
    const perFunction = String(locals.function_alarms);
    const flags = perFunction
      .split('"${key}/')
      .slice(1)
      .map((chunk) => [chunk.slice(0, chunk.indexOf('"')), /notify_ok\s+=\s+true/.test(chunk)]);
    expect(Object.fromEntries(flags)).toEqual({
      'iterator-age': true,
      errors: false,
      throttles: false,
      'on-failure-depth': false,
      // A set-aside user heals by itself; only an age past the threshold is news.
      'parked-user-age': false,
    });
    for (const [key, a] of Object.entries<Json>(locals.pipeline_alarms))
      expect({ key, notify_ok: a.notify_ok }).toEqual({ key, notify_ok: false });
    expect(m.resource.aws_cloudwatch_metric_alarm.stalled[0].ok_actions).toBe(
      '${local.alarm_common.ok_actions}',
    );
    expect(m.resource.aws_cloudwatch_metric_alarm.anomaly[0].ok_actions).toBe(
      '${local.alarm_common.ok_actions}',
    );
  });

  test('the ops email subscriptions carry the body filter; fraud-alert emails keep their severity filter', async () => {
    const pulse = await convertFiles(join(tf, 'modules/pulse'));
    expect(pulse.module.ops[0].email_body_filter_policy).toBe(
      '${file("${path.module}/policies/ops-email-filter.json")}',
    );
    expect(pulse.module.alerts[0].email_body_filter_policy).toBeUndefined();
    const alerts = await convertFiles(join(tf, 'modules/alerts'));
    const email = alerts.resource.aws_sns_topic_subscription.email[0];
    expect(email.filter_policy_scope).toBe(
      '${each.value.min_severity != null ? "MessageAttributes" : (var.email_body_filter_policy == null ? null : "MessageBody")}',
    );
    expect(email.filter_policy).toBe(
      '${each.value.min_severity != null ? local.severity_filter[each.value.min_severity] : var.email_body_filter_policy}',
    );
  });
});

describe('the ops filter on a real SNS topic (moto)', () => {
  let moto: Started;
  let dir: string;
  let sns: SNSClient;
  let sqs: SQSClient;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-ops-filter-'));
    const port = await freePort();
    moto = startProcess({
      name: 'moto_server',
      command: process.env.PULSE_MOTO_SERVER ?? join(root, '.venv/bin/moto_server'),
      args: ['-H', '127.0.0.1', '-p', String(port)],
      cwd: root,
      logFile: join(dir, 'moto.log'),
    });
    await waitHealthy(moto, async () => (await fetch(`http://127.0.0.1:${port}/moto-api/`)).ok, 30_000);
    const config = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    sns = new SNSClient(config);
    sqs = new SQSClient(config);
  }, 60_000);
  afterAll(async () => {
    sns?.destroy();
    sqs?.destroy();
    if (moto) await stopProcess(moto.pid);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The JSON body CloudWatch publishes for an alarm state change (the fields the filter reads). */
  const notification = (from: string, to: string) =>
    JSON.stringify({
      AlarmName: `pulse-dev-${from}-to-${to}`,
      NewStateValue: to,
      OldStateValue: from,
      NewStateReason: 'test',
      Region: 'EU (Ireland)',
      Trigger: { MetricName: 'Errors', Namespace: 'AWS/Lambda' },
    });

  test('a first deploy (INSUFFICIENT_DATA -> OK) mails nothing; into and out of ALARM is mailed', async () => {
    const topic = await sns.send(new CreateTopicCommand({ Name: 'pulse-dev-ops' }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'ops-mailbox' }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'sqs',
        Endpoint: attrs.Attributes?.QueueArn,
        Attributes: {
          RawMessageDelivery: 'true',
          FilterPolicyScope: 'MessageAttributes',
          FilterPolicy: readFileSync(filterFile, 'utf8'),
        },
      }),
    );
    const transitions: Array<[string, string]> = [
      ['INSUFFICIENT_DATA', 'OK'], // every new alarm on the first deploy
      ['OK', 'INSUFFICIENT_DATA'],
      ['INSUFFICIENT_DATA', 'ALARM'],
      ['OK', 'ALARM'],
      ['ALARM', 'OK'],
      ['ALARM', 'INSUFFICIENT_DATA'],
    ];
    for (const [from, to] of transitions)
      await sns.send(
        new PublishCommand({
          TopicArn: topic.TopicArn,
          Message: notification(from, to),
          MessageAttributes: {
            NewStateValue: { DataType: 'String', StringValue: to },
            OldStateValue: { DataType: 'String', StringValue: from },
          },
        }),
      );
    const received: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const msg of r.Messages ?? []) received.push(JSON.parse(msg.Body ?? '{}').AlarmName);
      if ((r.Messages ?? []).length === 0 && received.length > 0) break;
    }
    expect(received.sort()).toEqual(
      [
        'pulse-dev-INSUFFICIENT_DATA-to-ALARM',
        'pulse-dev-OK-to-ALARM',
        'pulse-dev-ALARM-to-OK',
        'pulse-dev-ALARM-to-INSUFFICIENT_DATA',
      ].sort(),
    );
  });
});
