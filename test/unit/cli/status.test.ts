import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO } from '../../../cli/src/command.js';
import { runCli } from '../../../cli/src/pulse.js';
import { fakeTarget, type Handlers } from './support.js';

function handlers(depths: Record<string, number>, extra: Handlers = {}): Handlers {
  return {
    GetQueueAttributesCommand: (input) => {
      const name = String(input.QueueUrl).split('/').pop()!;
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(depths[name] ?? 0),
          ApproximateNumberOfMessagesNotVisible: '0',
        },
      };
    },
    QueryCommand: () => ({ Items: [] }),
    ScanCommand: () => ({ Items: [] }),
    ...extra,
  };
}

async function status(argv: string[], h: Handlers, env: 'local' | 'dev', stateDir?: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive: false,
    env: {},
    ask: async () => '',
    connect: async () => ({ ...fakeTarget(h, [], env), localStateDir: stateDir }),
    now: () => Date.parse('2026-11-28T12:00:00Z'),
  };
  const code = await runCli(['status', ...argv], io);
  return { code, stdout, stderr };
}

test('AWS: mapping state, iterator age, on-failure depth; a queue with messages needs a look (exit 4)', async () => {
  const h = handlers(
    { 'pulse-dev-fraud-rules-on-failure': 2, 'pulse-dev-invalid-records': 5 },
    {
      ListEventSourceMappingsCommand: (input) => ({
        EventSourceMappings: [
          {
            EventSourceArn: 'arn:aws:kinesis:eu-west-1:1:stream/pulse-dev-events/consumer/pulse-dev-x:1',
            State: input.FunctionName === 'pulse-dev-metrics-emitter' ? 'Disabled' : 'Enabled',
            LastProcessingResult: 'OK',
          },
        ],
      }),
      GetMetricDataCommand: () => ({ MetricDataResults: [{ Values: [1_000, 95_000, 3_000] }] }),
      ScanCommand: (input) => ({
        Items:
          input.TableName === 'pulse-dev-replay-ledger'
            ? [
                {
                  pk: 'fraud-rules#shardId-000000000000',
                  status: 'parked',
                  parkedAt: '2026-11-28T10:00:00.000Z',
                },
                {
                  pk: 'fraud-rules#shardId-000000000000',
                  status: 'parked',
                  parkedAt: '2026-11-28T09:00:00.000Z',
                },
                { pk: 'fraud-rules#shardId-000000000001', status: 'failing' },
              ]
            : [],
      }),
    },
  );
  const r = await status([], h, 'dev');
  expect(r.code).toBe(4);
  expect(r.stdout).toMatch(/fraud-rules\s+Enabled\s+iterator age 95s\s+2\s+3\s+2\s+OK/);
  expect(r.stdout).toMatch(/metrics-emitter\s+Disabled/);
  expect(r.stdout).toContain('invalid records waiting: 5    PENDING alerts: 0');
  expect(r.stdout).toContain(
    'fraud-rules: 2 batch(es) in the on-failure queue (pulse replay --function fraud-rules)',
  );
  expect(r.stdout).toContain('metrics-emitter: mapping is Disabled');
  expect(r.stdout).toContain(
    'fraud-rules: 2 set aside (oldest since 2026-11-28T09:00:00.000Z); re-driven automatically, pulse replay --function fraud-rules --dry-run shows why',
  );
});

test('local: checkpoints and records behind them; --json; all quiet is exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-status-'));
  mkdirSync(join(dir, 'checkpoints'));
  writeFileSync(
    join(dir, 'checkpoints', 'session-updater.json'),
    JSON.stringify({ consumerArn: 'x', shards: { 'shardId-0': '100' } }),
  );
  const arrival = new Date(Date.parse('2026-11-28T11:59:00Z'));
  const h = handlers(
    {},
    {
      ListShardsCommand: () => ({ Shards: [{ ShardId: 'shardId-0' }] }),
      GetShardIteratorCommand: (input) => ({ ShardIterator: `it-${input.ShardIteratorType}` }),
      GetRecordsCommand: (input) =>
        input.ShardIterator === 'it-AFTER_SEQUENCE_NUMBER'
          ? { Records: [{ ApproximateArrivalTimestamp: arrival }, {}, {}], MillisBehindLatest: 0 }
          : { Records: [], MillisBehindLatest: 0 },
    },
  );
  const r = await status(['--json'], h, 'local', dir);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.functions[0]).toMatchObject({
    function: 'session-updater',
    mapping: { state: 'local runner' },
    behind: { records: 3, capped: false, oldestAgeMs: 60_000 },
    onFailureDepth: 0,
    ledgerEntries: 0,
  });
  expect(doc.functions[1]).toMatchObject({
    function: 'fraud-rules',
    mapping: { state: 'no checkpoints' },
    behind: { records: 0 },
  });
  expect(doc.attention).toEqual([]);
  const text = await status([], h, 'local', dir);
  expect(text.stdout).toMatch(/session-updater\s+local runner\s+3 record\(s\), oldest 60s/);
  expect(text.stdout).toContain('Nothing needs a look.');
});

test('argument errors', async () => {
  const r = await status(['extra'], {}, 'local');
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('pulse status: unexpected argument "extra"');
});
