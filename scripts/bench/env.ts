/**
 * The emulator every measurement runs against: the project's local stack (kinesis-local + moto),
 * its resources created as `make demo` creates them (environment "bench"), two extra tables for
 * the baseline, and one set of SDK clients, each with a request counter attached. Ours and the
 * baseline use the very same clients.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Clients, makeClients } from '../../lib/aws.js';
import { loadResources } from '../../lib/config.js';
import { createDocumentClient } from '../../services/shared/dynamo.js';
import { createResources, type LocalResources } from '../local/resources.js';
import { type StackState, startStack, stopStack } from '../local/stack.js';
import { RequestCounter } from './counting.js';

export const BASELINE_TABLES = {
  sessions: 'pulse-bench-baseline-sessions',
  fraud: 'pulse-bench-baseline-fraud-state',
} as const;

export interface BenchEnv {
  state: StackState;
  clients: Clients;
  db: DynamoDBDocumentClient;
  counter: RequestCounter;
  resources: LocalResources;
  close(): Promise<void>;
}

async function createBaselineTable(clients: Clients, name: string): Promise<void> {
  try {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'userId', AttributeType: 'S' }],
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function openBenchEnv(stateDir: string): Promise<BenchEnv> {
  const state = await startStack({ stateDir });
  try {
    const clients = makeClients(state.endpoints, { maxAttempts: 5 });
    const resources = await createResources(clients, { environment: 'bench', shards: 2 });
    await Promise.all(Object.values(BASELINE_TABLES).map((t) => createBaselineTable(clients, t)));
    const counter = new RequestCounter();
    counter.attach(clients.dynamodb, 'dynamodb');
    counter.attach(clients.sns, 'sns');
    counter.attach(clients.sqs, 'sqs');
    counter.attach(clients.cloudwatch, 'cloudwatch');
    counter.attach(clients.kinesis, 'kinesis');
    const spec = loadResources();
    for (const [key, table] of Object.entries(resources.tables)) {
      const t = spec.tables[key];
      if (t)
        counter.setKeySchema(table, t.rangeKey ? [t.hashKey, t.rangeKey] : [t.hashKey], {
          indexes: (t.globalSecondaryIndexes ?? []).map((i) => ({
            name: i.name,
            keys: i.rangeKey ? [i.hashKey, i.rangeKey] : [i.hashKey],
          })),
          ttl: t.ttlAttribute,
        });
    }
    for (const table of Object.values(BASELINE_TABLES)) counter.setKeySchema(table, ['userId']);
    const db = createDocumentClient(clients.dynamodb);
    return {
      state,
      clients,
      db,
      counter,
      resources,
      async close() {
        clients.destroy();
        await stopStack(state);
      },
    };
  } catch (err) {
    await stopStack(state);
    throw err;
  }
}
