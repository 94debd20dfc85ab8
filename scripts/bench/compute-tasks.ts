/**
 * (4) Pure compute with I/O stubbed: µs per record through each function's domain entry (decode,
 * validate, group, evaluate/aggregate, build requests), every SDK `send` answering at once (reads
 * find nothing, writes succeed). The floor is what any design must pay: JSON.parse of the payload,
 * and base64 decode + JSON.parse. compute.ts runs this module bundled as the functions ship.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { type FunctionName, loadFunction } from '../../lib/config.js';
import { AlertLog } from '../../services/fraud-rules/alerts.js';
import { detectFraud } from '../../services/fraud-rules/detector.js';
import { parseRules } from '../../services/fraud-rules/rules.js';
import { FraudStateStore } from '../../services/fraud-rules/store.js';
import { emitBatchMetrics } from '../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../services/metrics-emitter/watermarks.js';
import { loadConfig as loadSessionConfig } from '../../services/session-updater/config.js';
import { SessionStore } from '../../services/session-updater/store.js';
import { updateSessions } from '../../services/session-updater/updater.js';
import { KNOWN_EVENT_TYPES } from '../../services/shared/event.js';
import { decodeBatch } from '../../services/shared/kinesis.js';
import { silentLogger } from '../../services/shared/logger.js';
import { seedDetectFraud } from './baseline/fraud-rules.js';
import { seedEmitMetrics } from './baseline/metrics-emitter.js';
import { seedUpdateSessions } from './baseline/session-updater.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { median } from './stats.js';
import type { Row } from './types.js';

/** An SDK client stand-in: every request answers at once, reads find nothing. */
// biome-ignore lint/suspicious/noExplicitAny: stands in for several SDK client types
const instantAws: any = { send: async () => ({ MessageId: 'bench-message' }) };

/** The clients the functions' domain code takes, by service. */
export interface StubClients<T = typeof instantAws> {
  dynamodb: T;
  cloudwatch: T;
  sns: T;
  sqs: T;
}

const INSTANT: StubClients = {
  dynamodb: instantAws,
  cloudwatch: instantAws,
  sns: instantAws,
  sqs: instantAws,
};

type Item = Record<string, unknown>;
/** The parts of a DocumentClient command's input the DynamoDB stand-in reads. */
interface DocumentInput {
  TableName: string;
  Item: Item;
  Key: Item;
  RequestItems: unknown;
}

/**
 * Stand-ins whose every request answers after the service's given latency, as a network round trip
 * would: the wall time of a batch then shows how the code overlaps its requests (concurrency,
 * batching), which a CPU measurement cannot. DynamoDB keeps what is put in `items` and answers gets
 * from it (the functions write their state as whole items), so state from an earlier batch is
 * found, and sessions can close, as on AWS. A latency of 0 answers at once.
 */
export function latencyClients(ms: StubClients<number>, items = new Map<string, unknown>()): StubClients {
  const later = (delay: number, answer: unknown) =>
    delay === 0
      ? Promise.resolve(answer)
      : new Promise((resolve) => setTimeout(() => resolve(answer), delay));
  const answering = (delay: number) => ({ send: () => later(delay, { MessageId: 'bench-message' }) });
  // The key attributes of every Pulse table: userId (+ sk for sessions) or pk.
  const keyOf = (table: string, o: Record<string, unknown>) => `${table}|${o.userId ?? o.pk}|${o.sk ?? ''}`;
  const dynamodb = {
    send: (command: { constructor: { name: string }; input: DocumentInput }) => {
      const { input } = command;
      switch (command.constructor.name) {
        case 'PutCommand':
          items.set(keyOf(input.TableName, input.Item), input.Item);
          return later(ms.dynamodb, {});
        case 'BatchWriteCommand':
          for (const [table, requests] of Object.entries(
            input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item } }>>,
          ))
            for (const r of requests)
              if (r.PutRequest) items.set(keyOf(table, r.PutRequest.Item), r.PutRequest.Item);
          return later(ms.dynamodb, {});
        case 'GetCommand':
          return later(ms.dynamodb, { Item: items.get(keyOf(input.TableName, input.Key)) });
        case 'BatchGetCommand': {
          const Responses: Record<string, unknown[]> = {};
          for (const [table, request] of Object.entries(
            input.RequestItems as Record<string, { Keys: Item[] }>,
          ))
            Responses[table] = request.Keys.map((k) => items.get(keyOf(table, k))).filter(
              (found: unknown) => found !== undefined,
            );
          return later(ms.dynamodb, { Responses });
        }
        default:
          return later(ms.dynamodb, {});
      }
    },
  };
  return {
    dynamodb,
    cloudwatch: answering(ms.cloudwatch),
    sns: answering(ms.sns),
    sqs: answering(ms.sqs),
  };
}

/**
 * Median wall milliseconds of one function's domain code over `event`, after a warm-up run; each
 * run gets its own clients from `clients` (fresh state, so no run is a re-delivery of the last).
 */
export async function batchMillis(
  fn: FunctionName,
  event: KinesisStreamEvent,
  clients: () => Promise<StubClients>,
  samples = 3,
): Promise<number> {
  const runs: number[] = [];
  for (let s = 0; s <= samples; s++) {
    const task = domainTasks(event, await clients())[fn].ours;
    const start = performance.now();
    await task();
    if (s > 0) runs.push(performance.now() - start);
  }
  return median(runs);
}

/** Runs one function's domain code over `event` with `clients` (state for a later batch to find). */
export async function runDomain(
  fn: FunctionName,
  event: KinesisStreamEvent,
  clients: StubClients,
): Promise<void> {
  await domainTasks(event, clients)[fn].ours();
}

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

/**
 * µs per record of two tasks, their samples interleaved (ours, seed, ours, seed...), so load from
 * other processes on a shared machine falls on both alike and their ratio stays meaningful.
 */
export async function pairedMicrosPerRecord(
  records: number,
  minMs: number,
  samples: number,
  a: () => unknown,
  b: () => unknown,
): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let s = 0; s < samples; s++) {
    as.push(await microsPerRecord(records, minMs, 1, a));
    bs.push(await microsPerRecord(records, minMs, 1, b));
  }
  return [median(as), median(bs)];
}

function domainTasks(
  event: KinesisStreamEvent,
  aws: StubClients = INSTANT,
): Record<FunctionName, { ours: () => unknown; baseline: () => unknown }> {
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
          store: new SessionStore({ db: aws.dynamodb, tableName: 'bench', closedSessionTtlDays: 90 }),
          sqs: aws.sqs,
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
          store: new FraudStateStore({ db: aws.dynamodb, tableName: 'bench', ttlDays: 7 }),
          alerts: new AlertLog({
            db: aws.dynamodb,
            sns: aws.sns,
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
          cloudwatch: aws.cloudwatch,
          watermarks: new WatermarkStore({ db: aws.dynamodb, tableName: 'bench' }),
          namespace: 'Pulse',
          environment: 'bench',
          functionName: 'bench',
          maxEventTypes: 50,
          eventTypes: new Set(KNOWN_EVENT_TYPES),
          recentEventIdsLimit: 5000,
          duplicateWindowSeconds: 120,
          logger: silentLogger,
        }),
      baseline: () =>
        seedEmitMetrics(event, { cloudwatch: instantAws, namespace: 'Pulse', environment: 'bench' }),
    },
  };
}

export interface ComputeOptions {
  batch: number;
  minMs: number;
  samples: number;
}

export async function computeRows(
  { batch, minMs, samples }: ComputeOptions,
  log: (message: string) => void,
): Promise<Row[]> {
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
    const [ours, baseline] = await pairedMicrosPerRecord(batch, minMs, samples, tasks.ours, tasks.baseline);
    rows.push({
      area: 'compute',
      metric: `${fn}: decode + validate + aggregate, I/O stubbed`,
      unit: 'µs/record',
      ours,
      baseline,
      runs: samples,
      note: `${note}; ${(ours / base64Parse).toFixed(1)}× the floor; esbuild bundle as shipped (minified, node22 target)`,
    });
    log(`  ${fn}: ${ours.toFixed(2)} µs/record (baseline ${baseline.toFixed(2)})`);
  }
  return rows;
}
