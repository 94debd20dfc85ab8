/**
 * (4) Pure compute with I/O stubbed: µs per record through each function's domain entry (decode,
 * validate, group, evaluate/aggregate, build requests), every SDK `send` answering at once (reads
 * find nothing, writes succeed). The floor is what any design must pay: JSON.parse of the payload,
 * and base64 decode + JSON.parse.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { loadFunction } from '../../lib/config.js';
import { AlertLog } from '../../services/fraud-rules/alerts.js';
import { detectFraud } from '../../services/fraud-rules/detector.js';
import { parseRules } from '../../services/fraud-rules/rules.js';
import { FraudStateStore } from '../../services/fraud-rules/store.js';
import { emitBatchMetrics } from '../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../services/metrics-emitter/watermarks.js';
import { loadConfig as loadSessionConfig } from '../../services/session-updater/config.js';
import { SessionStore } from '../../services/session-updater/store.js';
import { updateSessions } from '../../services/session-updater/updater.js';
import { decodeBatch } from '../../services/shared/kinesis.js';
import { silentLogger } from '../../services/shared/logger.js';
import { seedDetectFraud } from './baseline/fraud-rules.js';
import { seedEmitMetrics } from './baseline/metrics-emitter.js';
import { seedUpdateSessions } from './baseline/session-updater.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { median } from './stats.js';
import type { BenchContext, Row } from './types.js';

/** An SDK client stand-in: every request answers at once, reads find nothing. */
// biome-ignore lint/suspicious/noExplicitAny: stands in for several SDK client types
const instantAws: any = { send: async () => ({ MessageId: 'bench-message' }) };

/** µs per record: repeat `task` until `minMs` has passed, `samples` times, median. */
export async function microsPerRecord(
  records: number,
  minMs: number,
  samples: number,
  task: () => unknown,
): Promise<number> {
  await task(); // warm-up: JIT, caches
  const results: number[] = [];
  for (let s = 0; s < samples; s++) {
    let iterations = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await task();
      iterations += 1;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    results.push((elapsed * 1000) / (iterations * records));
  }
  return median(results);
}

function domainTasks(
  event: KinesisStreamEvent,
): Record<string, { ours: () => unknown; baseline: () => unknown }> {
  const sessionEnv = {
    ...loadFunction('session-updater').environment,
    SESSIONS_TABLE: 'bench',
    INVALID_RECORDS_QUEUE_URL: 'bench',
  };
  const sessionConfig = loadSessionConfig(sessionEnv);
  const fraudRules = parseRules(
    JSON.parse(loadFunction('fraud-rules').environment.FRAUD_RULES ?? '{}'),
    'FRAUD_RULES',
  );
  return {
    'session-updater': {
      ours: () =>
        updateSessions(event, {
          store: new SessionStore({ db: instantAws, tableName: 'bench', closedSessionTtlDays: 90 }),
          sqs: instantAws,
          invalidRecordsQueueUrl: 'bench',
          functionName: 'bench',
          rules: sessionConfig.rules,
          logger: silentLogger,
        }),
      baseline: () => seedUpdateSessions(event, { db: instantAws, tableName: 'bench' }),
    },
    'fraud-rules': {
      ours: () =>
        detectFraud(event, {
          store: new FraudStateStore({ db: instantAws, tableName: 'bench', ttlDays: 7 }),
          alerts: new AlertLog({
            db: instantAws,
            sns: instantAws,
            tableName: 'bench',
            topicArn: 'arn:aws:sns:us-east-1:000000000000:bench',
            environment: 'bench',
            ttlDays: 30,
            cooldownMinutes: fraudRules.cooldownMinutes,
          }),
          rules: fraudRules,
          logger: silentLogger,
        }),
      baseline: () =>
        seedDetectFraud(event, {
          db: instantAws,
          sns: instantAws,
          tableName: 'bench',
          topicArn: 'bench',
          readEveryRecord: true,
        }),
    },
    'metrics-emitter': {
      ours: () =>
        emitBatchMetrics(event, {
          cloudwatch: instantAws,
          watermarks: new WatermarkStore({ db: instantAws, tableName: 'bench' }),
          namespace: 'Pulse',
          environment: 'bench',
          functionName: 'bench',
          maxEventTypes: 50,
          recentEventIdsLimit: 5000,
          duplicateWindowSeconds: 120,
          logger: silentLogger,
        }),
      baseline: () =>
        seedEmitMetrics(event, { cloudwatch: instantAws, namespace: 'Pulse', environment: 'bench' }),
    },
  };
}

export async function benchCompute(ctx: BenchContext): Promise<Row[]> {
  const { batch, minMs, samples } = ctx.options.compute;
  const event = toKinesisEvent(makeEvents({ count: batch, users: Math.max(1, batch / 10), prefix: 'c' }));
  const payloads = event.Records.map((r) => r.kinesis.data);
  const texts = payloads.map((p) => Buffer.from(p, 'base64').toString('utf8'));
  const measure = (task: () => unknown) => microsPerRecord(batch, minMs, samples, task);
  const note = `batch of ${batch.toLocaleString('en-US')}, ${(batch / 10).toLocaleString('en-US')} users, every SDK call stubbed`;

  const parseOnly = await measure(() => {
    for (const text of texts) JSON.parse(text);
  });
  const base64Parse = await measure(() => {
    for (const p of payloads) JSON.parse(Buffer.from(p, 'base64').toString('utf8'));
  });
  const decode = await measure(() => decodeBatch(event.Records));
  const rows: Row[] = [
    {
      area: 'compute',
      metric: 'floor: JSON.parse alone',
      unit: 'µs/record',
      ours: parseOnly,
      baseline: null,
      runs: samples,
    },
    {
      area: 'compute',
      metric: 'floor: base64 decode + JSON.parse',
      unit: 'µs/record',
      ours: base64Parse,
      baseline: null,
      runs: samples,
    },
    {
      area: 'compute',
      metric: 'shared decodeBatch (UTF-8 check, parse, schema, partition key)',
      unit: 'µs/record',
      ours: decode,
      baseline: null,
      runs: samples,
      note: `${(decode / base64Parse).toFixed(2)}× the base64 + parse floor`,
    },
  ];
  for (const [fn, tasks] of Object.entries(domainTasks(event))) {
    const ours = await measure(tasks.ours);
    const baseline = await measure(tasks.baseline);
    rows.push({
      area: 'compute',
      metric: `${fn}: decode + validate + aggregate, I/O stubbed`,
      unit: 'µs/record',
      ours,
      baseline,
      runs: samples,
      note: `${note}; ${(ours / base64Parse).toFixed(1)}× the floor`,
    });
    ctx.log(`  ${fn}: ${ours.toFixed(2)} µs/record (baseline ${baseline.toFixed(2)})`);
  }
  return rows;
}
