/**
 * `make smoke ENV=<env>`: after `make deploy`, proves the deployed pipeline works end to end (see
 * scripts/smoke/run.ts). Every name comes from `terraform output -json` of terraform/envs/<env>;
 * credentials and region from the usual AWS SDK chain (the region defaults to the environment's).
 * Exit code 0 only when all three functions passed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type FirstApplyTargets, formatChecks, runFirstApplyChecks } from './smoke/first-apply.js';
import { formatSmoke, runSmoke, type SmokeTargets } from './smoke/run.js';

const USAGE = `Usage: make smoke ENV=dev|staging|prod [SMOKE_ARGS="--timeout 300"]
       npx tsx scripts/smoke.ts --env <env> [--timeout <seconds>] [--amount <large purchase>]

Puts a test user's session and one large purchase on the deployed stream, waits for the session
item, the fraud alert (through a temporary SQS subscription to the alert topic) and the Events
datapoints, prints PASS/FAIL per function with its lag, then removes the test user's items and
the temporary subscription. Then the first-apply checks: every alarm in a valid state, each
stalled alarm's metric math returns a value, the parked-alerts metric filter matches the line
fraud-rules logs, and (with Slack configured) one test message to the channel. Needs AWS credentials and an initialised terraform/envs/<env>
(make deploy does that).`;

type Outputs = Record<string, { value: unknown }>;

/** The names runSmoke needs, from `terraform output -json`; a missing output is named. */
export function targetsFromOutputs(outputs: Outputs): SmokeTargets & { region?: string } {
  const get = <T>(name: string): T => {
    const o = outputs[name];
    if (!o || o.value === null || o.value === undefined) {
      throw new Error(`terraform output "${name}" is missing: deploy this version first (make deploy)`);
    }
    return o.value as T;
  };
  const topic = get<string>('alerts_topic_arn');
  return {
    environment: get<string>('environment'),
    streamName: get<string>('stream_name'),
    alertsTopicArn: topic,
    tableNames: get<Record<string, string>>('table_names'),
    metricsNamespace: get<string>('metrics_namespace'),
    region: (outputs.aws_region?.value as string | undefined) ?? topic.split(':')[3],
  };
}

/** The first-apply checks' names, from `terraform output -json`; a missing output is named. */
export function firstApplyTargetsFromOutputs(outputs: Outputs): FirstApplyTargets {
  const get = <T>(name: string): T => {
    const o = outputs[name];
    if (!o || o.value === undefined || o.value === null) {
      throw new Error(`terraform output "${name}" is missing: deploy this version first (make deploy)`);
    }
    return o.value as T;
  };
  const filter = get<{ name: string; log_group_name: string; pattern: string; message: string }>(
    'alerts_failed_metric_filter',
  );
  return {
    alarmNames: get<string[]>('alarm_names'),
    stalledAlarmNames: get<Record<string, string>>('stalled_alarm_names'),
    metricFilter: {
      name: filter.name,
      logGroupName: filter.log_group_name,
      pattern: filter.pattern,
      message: filter.message,
    },
    alertsTopicArn: get<string>('alerts_topic_arn'),
    chatbotConfigurationArn: (outputs.chatbot_configuration_arn?.value as string | null | undefined) ?? null,
    environment: get<string>('environment'),
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string' },
      timeout: { type: 'string', default: '300' },
      amount: { type: 'string', default: '100000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = values.env ?? '';
  if (!['dev', 'staging', 'prod'].includes(env)) {
    console.error(`smoke: --env must be dev, staging or prod (got '${env}')\n\n${USAGE}`);
    process.exit(2);
  }
  const timeoutS = Number(values.timeout);
  const amount = Number(values.amount);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || !Number.isFinite(amount) || amount <= 0) {
    console.error(`smoke: --timeout and --amount must be positive numbers\n\n${USAGE}`);
    process.exit(2);
  }
  const dir = join('terraform', 'envs', env);
  const raw = execFileSync(process.env.TERRAFORM ?? 'terraform', [`-chdir=${dir}`, 'output', '-json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const outputs = JSON.parse(raw) as Outputs;
  const { region, ...targets } = targetsFromOutputs(outputs);
  const firstApply = firstApplyTargetsFromOutputs(outputs);
  const config = { region: process.env.AWS_REGION ?? region };
  const clients = {
    kinesis: new KinesisClient(config),
    dynamodb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
  };
  try {
    console.log(`smoke: ${env} (${targets.streamName}, region ${config.region})`);
    const result = await runSmoke(clients, targets, {
      timeoutMs: timeoutS * 1000,
      pollMs: 5_000,
      largeAmount: amount,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(formatSmoke(result));
    console.log('first-apply checks:');
    const checks = await runFirstApplyChecks(clients, firstApply);
    console.log(formatChecks(checks));
    process.exitCode = result.ok && checks.every((c) => c.ok !== false) ? 0 : 1;
  } finally {
    for (const c of Object.values(clients)) c.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`smoke: ${(err as Error).message}`);
    process.exit(1);
  });
}
