/**
 * The local event-source-mapping runner against the real emulators, with a recording stand-in
 * handler (fixtures/recorder.mjs): the exact Lambda event and context, per-shard order, partial
 * batch failures resumed from the reported record, bisect + bounded retries + the on-failure
 * destination in AWS's invocation-record format, record age, re-subscription and checkpoints.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { repoRoot } from '../../lib/paths.js';
import { drain, type Pipeline, startPipeline } from '../helpers/pipeline.js';

jest.setTimeout(120_000);

const fixture = join(repoRoot(), 'test', 'integration', 'fixtures', 'recorder.mjs');
const recorderFile = join(repoRoot(), '.local', 'test', `recorder-${process.pid}.jsonl`);

interface Invocation {
  functionName: string;
  remainingMs: number;
  env: Record<string, string>;
  records: Array<{
    eventID: string;
    eventSourceARN: string;
    eventSource: string;
    eventName: string;
    awsRegion: string;
    kinesis: {
      sequenceNumber: string;
      partitionKey: string;
      data: string;
      approximateArrivalTimestamp: number;
      kinesisSchemaVersion: string;
    };
  }>;
}

function invocations(): Invocation[] {
  try {
    return readFileSync(recorderFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Invocation);
  } catch {
    return [];
  }
}

let p: Pipeline;
beforeAll(async () => {
  rmSync(recorderFile, { force: true });
  process.env.RECORDER_FILE = recorderFile;
  p = await startPipeline('runner', {
    functions: ['session-updater'],
    handlers: { 'session-updater': fixture },
    esm: {
      'session-updater': {
        batchSize: 10,
        maximumBatchingWindowInSeconds: 1,
        maximumRetryAttempts: 2,
        bisectBatchOnFunctionError: true,
      },
    },
    resubscribeMs: 4_000,
  });
});
afterAll(async () => {
  await p?.stop();
  rmSync(recorderFile, { force: true });
  delete process.env.RECORDER_FILE;
});

async function put(records: Array<{ key: string; body: unknown }>) {
  const out = await p.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: p.resources.streamName,
      Records: records.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(JSON.stringify(r.body)) })),
    }),
  );
  expect(out.FailedRecordCount).toBe(0);
  return out.Records!.map((r, i) => ({ ...records[i]!, shardId: r.ShardId!, seq: r.SequenceNumber! }));
}

test('builds the exact Kinesis event and context; per-shard order; partial failure resumes at the reported record; poison is bisected out to the on-failure queue', async () => {
  const sentAt = Date.now();
  const first = await put(
    Array.from({ length: 30 }, (_, i) => ({
      key: `k${i % 3}`,
      body: { k: i === 7 ? 'fail-once' : i === 20 ? 'poison' : 'ok', i },
    })),
  );
  // After a 5-second pause (past a re-subscription), more records on the same shards.
  await new Promise((r) => setTimeout(r, 5_000));
  const second = await put(
    Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, body: { k: 'ok', i: 100 + i } })),
  );
  const all = [...first, ...second];
  await p.runner.waitForProcessed(all.length, 60_000);

  const calls = invocations();
  const stats = p.runner.stats()[0]!;
  expect(stats.processed).toBe(all.length - 1);
  expect(stats.sentToDestination).toBe(1);
  expect(stats.subscriptions).toBeGreaterThan(stats.shards.length); // re-subscribed before expiry

  // The event and context Lambda sends.
  const record = calls[0]!.records[0]!;
  const sent = all.find((r) => r.seq === record.kinesis.sequenceNumber)!;
  expect(record).toEqual({
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: sent.key,
      sequenceNumber: sent.seq,
      data: Buffer.from(JSON.stringify(sent.body)).toString('base64'),
      approximateArrivalTimestamp: expect.any(Number),
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${sent.shardId}:${sent.seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/pulse-local-session-updater',
    awsRegion: 'us-east-1',
    eventSourceARN: p.resources.streamArn,
  });
  expect(Math.abs(record.kinesis.approximateArrivalTimestamp * 1000 - sentAt)).toBeLessThan(10_000);
  expect(calls[0]!.functionName).toBe('pulse-local-session-updater');
  expect(calls[0]!.remainingMs).toBeGreaterThan(50_000);
  expect(calls[0]!.env).toEqual({ ENVIRONMENT: 'local', SESSIONS_TABLE: 'pulse-local-sessions' });
  expect(calls.every((c) => c.records.length <= 10)).toBe(true);

  // Per shard, invocations never go backwards except to retry: the first delivery of each record is in sequence order.
  const firstSeen = new Map<string, string[]>();
  const seenSeq = new Set<string>();
  for (const c of calls) {
    for (const r of c.records) {
      const shard = r.eventID.split(':')[0]!;
      if (seenSeq.has(r.kinesis.sequenceNumber)) continue;
      seenSeq.add(r.kinesis.sequenceNumber);
      firstSeen.set(shard, [...(firstSeen.get(shard) ?? []), r.kinesis.sequenceNumber]);
    }
  }
  for (const seqs of firstSeen.values())
    expect(seqs).toEqual([...seqs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
  expect(seenSeq.size).toBe(all.length);

  // The fail-once record: the invocation after the one that reported it starts with it.
  const failOnce = first[7]!;
  const reportedIn = calls.findIndex((c) => c.records.some((r) => r.kinesis.sequenceNumber === failOnce.seq));
  const retry = calls
    .slice(reportedIn + 1)
    .find((c) => c.records[0]!.eventID.startsWith(`${failOnce.shardId}:`))!;
  expect(retry.records[0]!.kinesis.sequenceNumber).toBe(failOnce.seq);

  // The poison record ends alone in the on-failure queue, in AWS's invocation-record format.
  const poison = first[20]!;
  const poisonCalls = calls.filter((c) => c.records.some((r) => r.kinesis.sequenceNumber === poison.seq));
  expect(poisonCalls.filter((c) => c.records.length === 1)).toHaveLength(3); // 1 + maximumRetryAttempts (2)
  const dlq = await drain(p, p.resources.onFailureQueues['session-updater'], 2);
  expect(dlq).toHaveLength(1);
  expect(dlq[0]!.json).toEqual({
    requestContext: {
      requestId: expect.any(String),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:pulse-local-session-updater',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    KinesisBatchInfo: {
      shardId: poison.shardId,
      startSequenceNumber: poison.seq,
      endSequenceNumber: poison.seq,
      approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
      approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
      batchSize: 1,
      streamArn: p.resources.streamArn,
    },
  });

  // Checkpoints: the last record of each shard.
  const checkpoint = JSON.parse(
    readFileSync(join(p.stateDir, 'checkpoints', 'session-updater.json'), 'utf8'),
  );
  for (const [shard, seqs] of firstSeen) expect(checkpoint.shards[shard]).toBe(seqs[seqs.length - 1]);
});

test('records older than MaximumRecordAgeInSeconds go to the on-failure destination unprocessed', async () => {
  await p.runner.stop();
  const old = await put([{ key: 'aged', body: { k: 'ok', aged: true } }]);
  await new Promise((r) => setTimeout(r, 2_500));
  const before = invocations().length;
  // A new runner with a 1-second record age: the record is already older when it is read.
  const { startRunner } = await import('../../scripts/local/runner.js');
  const runner = await startRunner({
    endpoints: p.stack.endpoints,
    resources: p.resources,
    stateDir: p.stateDir,
    functions: ['session-updater'],
    handlers: { 'session-updater': fixture },
    esm: {
      'session-updater': { batchSize: 10, maximumBatchingWindowInSeconds: 1, maximumRecordAgeInSeconds: 1 },
    },
    log: () => undefined,
  });
  p.runner = runner;
  await runner.waitForProcessed(1, 30_000);
  expect(runner.stats()[0]!.sentToDestination).toBe(1);
  expect(invocations().length).toBe(before);
  const [message] = await drain(p, p.resources.onFailureQueues['session-updater'], 2);
  expect(message!.json).toMatchObject({
    requestContext: { condition: 'RecordAgeExceeded' },
    KinesisBatchInfo: { startSequenceNumber: old[0]!.seq, batchSize: 1 },
  });
});
