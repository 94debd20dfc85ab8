/**
 * The local stack: health-checked start on free ports, resources created from resources.json
 * with the names, keys and TTL Terraform uses, and nothing left running after stop.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { makeClients } from '../../lib/aws.js';
import {
  FUNCTIONS,
  loadFunction,
  loadResources,
  onFailureQueueName,
  physicalName,
} from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import { isAlive } from '../../scripts/local/processes.js';
import { createResources, functionEnvironment } from '../../scripts/local/resources.js';
import { readState, startStack, stopStack } from '../../scripts/local/stack.js';

jest.setTimeout(90_000);

test('starts healthy emulators, creates the resources as Terraform names them, and stops without leftovers', async () => {
  const stateDir = join('.local', 'test', `stack-${process.pid}`);
  const stack = await startStack({ stateDir });
  const pids = [stack.kinesis!.pid, stack.moto!.pid];
  try {
    expect(readState(stateDir)).toEqual(stack);
    for (const url of [stack.endpoints.default, stack.endpoints.kinesis])
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const clients = makeClients(stack.endpoints);
    try {
      const res = await createResources(clients, { shards: 3 });
      await createResources(clients, { shards: 3 }); // idempotent
      const spec = loadResources();
      expect(res.streamName).toBe(physicalName('local', spec.stream.name));
      expect((await clients.kinesis.send(new ListStreamsCommand({}))).StreamNames).toEqual([res.streamName]);
      expect(
        (await clients.kinesis.send(new ListShardsCommand({ StreamName: res.streamName }))).Shards,
      ).toHaveLength(3);
      for (const [key, table] of Object.entries(spec.tables)) {
        const { Table } = await clients.dynamodb.send(
          new DescribeTableCommand({ TableName: physicalName('local', key) }),
        );
        expect(Table!.KeySchema).toEqual([
          { AttributeName: table.hashKey, KeyType: 'HASH' },
          ...(table.rangeKey ? [{ AttributeName: table.rangeKey, KeyType: 'RANGE' }] : []),
        ]);
        const ttl = await clients.dynamodb.send(
          new DescribeTimeToLiveCommand({ TableName: physicalName('local', key) }),
        );
        expect(ttl.TimeToLiveDescription?.AttributeName).toBe(table.ttlAttribute);
      }
      for (const fn of FUNCTIONS)
        expect(res.onFailureQueues[fn]).toMatch(new RegExp(`/${onFailureQueueName('local', fn)}$`));
      expect(res.queues['invalid-records']).toMatch(/\/pulse-local-invalid-records$/);
      // The size the sender fits messages to (issue 8, item 4); SQS's default would be 256 KiB.
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: res.queues['invalid-records'],
          AttributeNames: ['MaximumMessageSize'],
        }),
      );
      expect(Number(Attributes?.MaximumMessageSize)).toBe(spec.queues['invalid-records']?.maxMessageBytes);
      expect(Number(Attributes?.MaximumMessageSize)).toBe(1_048_576);
      const subs = await clients.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: res.topics.alerts }),
      );
      expect(subs.Subscriptions?.map((s) => s.Protocol)).toEqual(['sqs']);
      // The environment contract, as Terraform builds it.
      expect(functionEnvironment('metrics-emitter', res)).toEqual({
        ...loadFunction('metrics-emitter').environment,
        ENVIRONMENT: 'local',
        WATERMARKS_TABLE: 'pulse-local-watermarks',
        REPLAY_LEDGER_TABLE: 'pulse-local-replay-ledger',
        ERASURES_TABLE: 'pulse-local-erasures',
        ERASURE_KEY_SECRET: 'pulse-local-erasure-key',
        // Read-only: the re-drive's source when the stream no longer holds a set-aside range.
        ARCHIVE_BUCKET: 'pulse-local-archive',
        METRICS_NAMESPACE: 'Pulse',
      });
    } finally {
      clients.destroy();
    }
  } finally {
    await stopStack(stack);
  }
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
  expect(readState(stateDir)).toBeUndefined();
  rmSync(join(repoRoot(), stateDir), { recursive: true, force: true });
});

test('local names follow the same templates as the Terraform modules', () => {
  const tf = (path: string) => {
    const file = join(repoRoot(), 'terraform', 'modules', path);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
  const pulse = tf('pulse/main.tf');
  const consumer = tf('consumer-function/main.tf');
  if (!pulse || !consumer) return; // terraform/ not in this checkout
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
  expect(pulse).toContain('prefix       = "pulse-${var.environment}"');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
  expect(pulse).toContain('"${local.prefix}-${local.resources.stream.name}"'); // stream
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
  expect(pulse).toContain('"${local.prefix}-${each.key}"'); // tables, queues, functions
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
  expect(pulse).toContain('"${local.prefix}-alerts"'); // topic
  expect(pulse).toMatch(/ENVIRONMENT = var\.environment/);
  expect(pulse).toMatch(/METRICS_NAMESPACE = local\.namespace/);
  expect(consumer).toMatch(/resource "aws_kinesis_stream_consumer" "this" \{\s+name\s+= var\.name/); // consumer = function name
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation, not a JS template
  expect(consumer).toContain('"${var.name}-on-failure"');
});
