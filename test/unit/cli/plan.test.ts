/**
 * The capacity planner's arithmetic on a synthetic cost model (figures chosen so every result can
 * be worked out by hand), and its argument errors.
 */

import {
  ASSUMED_AWS_LATENCY_MS,
  awsBatchSeconds,
  DEFAULT_ALERT_RATE,
  interpolateUsage,
  type PlanInput,
  parsePlanArgs,
  plan,
  recommendMode,
  shardsFor,
  userBatchesPerEvent,
} from '../../../cli/src/plan.js';
import { type FunctionName, loadFunction } from '../../../lib/config.js';
import { latencyClients, runDomain } from '../../../scripts/bench/compute-tasks.js';
import {
  deployedSettings,
  type FunctionUsage,
  loadPrices,
  MONTH_HOURS,
  type SystemUsage,
  sampledShare,
  withMode,
} from '../../../scripts/bench/cost-model.js';
import { makeEvents, toKinesisEvent } from '../../../scripts/bench/data.js';
import type { CostModel, ShapeResult } from '../../../scripts/bench/types.js';
import { run } from './support.js';

const fnUsage = (over: Partial<FunctionUsage> = {}): FunctionUsage => ({
  readUnits: 0,
  writeUnits: 0,
  putMetricDataRequests: 0,
  snsPublishes: 0,
  sqsRequests: 0,
  gbSeconds: 0,
  invocations: 0.001,
  indexWriteUnits: 0,
  storedByteDays: 0,
  ...over,
});

function system(sessionUnits: number): SystemUsage {
  return {
    functions: {
      'session-updater': fnUsage({ readUnits: sessionUnits, writeUnits: sessionUnits, gbSeconds: 0.0005 }),
      // 1 alert per 1,000 events, each 3 index write units (recorded, claimed, marked SENT).
      'fraud-rules': fnUsage({
        readUnits: 0.01,
        writeUnits: 0.01,
        snsPublishes: 0.001,
        indexWriteUnits: 0.003,
        gbSeconds: 0.0001,
      }),
      // 2 requests, 2 reads, 2 writes per invocation of 1,000 events over the bench's 2 shards.
      'metrics-emitter': fnUsage({
        readUnits: 0.002,
        writeUnits: 0.002,
        putMetricDataRequests: 0.002,
        gbSeconds: 0.0001,
      }),
    },
    customMetrics: 9,
    recordBytes: 200,
    recordBytesWithKey: 220,
    consumers: 3,
  };
}

function shape(key: ShapeResult['shape'], x: number, sessionUnits: number): ShapeResult {
  const usage = system(sessionUnits);
  return {
    shape: key,
    label: key,
    events: 1000,
    users: 10,
    purchaseShare: 0.01,
    averageEventBytes: 200,
    userBatchesPerEvent: x,
    history: 'test',
    pulse: usage,
    seed: usage,
    dollarsPerMillion: { pulse: {} as never, seed: {} as never },
    byMode: {} as never,
  };
}

const MODEL: CostModel = {
  generatedAt: '2026-11-28T00:00:00Z',
  mode: 'test',
  referenceEventsPerSecond: 1000,
  shardUtilisation: 0.8,
  prices: { region: 'us-east-1', date: '2026-11-28' },
  deployment: deployedSettings('prod'),
  shapes: [shape('heavy', 0.1, 0.1), shape('unique', 1, 1)],
};
const PROVISIONED = withMode(deployedSettings('prod'), 'PROVISIONED');

const INPUT: PlanInput = {
  rate: 1000,
  peak: 2000,
  users: 1_000_000,
  purchaseShare: 0.01,
  eventBytes: 200,
  retentionHours: 24,
  region: 'us-east-1',
  utilisation: 0.8,
  alertRate: DEFAULT_ALERT_RATE,
};

describe('capacity planner arithmetic', () => {
  it('sizes provisioned shards by the tighter of 1 MB/s and 1,000 records/s, under the utilisation', () => {
    expect(shardsFor(1000, 300, 1)).toBe(1);
    expect(shardsFor(1001, 300, 1)).toBe(2);
    // 4,000 events/s of 1 KiB: 3.9 MiB/s → 4.88 shards at 80 %; records 5 at 80 %.
    expect(shardsFor(4000, 1024, 0.8)).toBe(5);
    // 1,000 events/s of 4 KiB: bytes dominate (3.9 MiB/s → 4 shards at 100 %).
    expect(shardsFor(1000, 4096, 1)).toBe(4);
    expect(shardsFor(0.1, 100, 0.8)).toBe(1);
  });

  it('estimates the share of a batch that is a user’s first event', () => {
    expect(userBatchesPerEvent(1, 100)).toBeCloseTo(0.01);
    expect(userBatchesPerEvent(1e9, 100)).toBeCloseTo(1, 5);
    expect(userBatchesPerEvent(1000, 1000)).toBeCloseTo(1 - Math.exp(-1), 2);
  });

  it('interpolates per-event figures between the measured shapes and scales fraud to the purchase share', () => {
    const batches = { 'session-updater': 1000, 'fraud-rules': 1000, 'metrics-emitter': 1000 };
    const mid = interpolateUsage(MODEL, 0.55, 0.02, batches, 300);
    expect(mid.functions['session-updater'].writeUnits).toBeCloseTo(0.55);
    expect(mid.functions['fraud-rules'].readUnits).toBeCloseTo(0.02); // 0.01 at 1 % → 0.02 at 2 %
    // The alert rate is an input (1 % of purchases), not the shapes' 0.1 alerts per purchase:
    // at 2 % purchases 0.0002 alerts per event, each with the shapes' 3 index write units.
    expect(mid.functions['fraud-rules'].snsPublishes).toBeCloseTo(0.0002, 8);
    expect(mid.functions['fraud-rules'].indexWriteUnits).toBeCloseTo(0.0006, 8);
    expect(
      interpolateUsage(MODEL, 0.55, 0.02, batches, 300, 0.2).functions['fraud-rules'].snsPublishes,
    ).toBeCloseTo(0.004);
    // 2 requests per bench invocation over 2 shards → 1 per shard-batch of 1,000 events.
    expect(mid.functions['metrics-emitter'].putMetricDataRequests).toBeCloseTo(0.001);
    expect(mid.recordBytes).toBe(300);
    expect(mid.recordBytesWithKey).toBe(320);
    // Outside the measured range the nearest shape is used, not extrapolated.
    expect(
      interpolateUsage(MODEL, 0.01, 0.01, batches, 200).functions['session-updater'].writeUnits,
    ).toBeCloseTo(0.1);
  });

  it('derives shards, concurrency, batch fill, iterator age, hot key, units and dollars', () => {
    const prices = loadPrices();
    const p = plan(INPUT, MODEL, prices, '', PROVISIONED);
    // Peak 2,000 events/s of 220 B: records dominate, 2,000 / 1,000 / 0.8 = 2.5 → 3 shards.
    expect(p.kinesis.provisionedShards).toBe(3);
    expect(p.kinesis.headroomAtPeak.inRecords).toBeCloseTo(1 - 2000 / 3 / 1000);
    expect(p.kinesis.hotKeyEventsPerSecond).toBe(1000);
    const session = p.lambda.find((f) => f.function === 'session-updater');
    const spec = loadFunction('session-updater');
    expect(session?.concurrency).toBe(3 * spec.eventSourceMapping.parallelizationFactor);
    const perShard = 1000 / 3;
    const fill = Math.min(
      spec.eventSourceMapping.maximumBatchingWindowInSeconds,
      spec.eventSourceMapping.batchSize / perShard,
    );
    expect(session?.batchFillSeconds).toBeCloseTo(fill);
    const secondsPerEvent = 0.0005 / (spec.memorySize / 1024);
    expect(session?.processingSeconds).toBeCloseTo(secondsPerEvent * perShard * fill);
    expect(session?.iteratorAgeSeconds).toBeCloseTo(fill + secondsPerEvent * perShard * fill);
    // A million users over 3 shards: nearly every event is its user's first in the batch → 1 unit.
    expect(p.userBatchesPerEvent).toBeGreaterThan(0.99);
    const wruPerEvent = p.dynamodb.writeUnitsPerSecond / 1000;
    const monthEvents = 1000 * MONTH_HOURS * 3600;
    expect(p.monthlyUsd['DynamoDB writes']).toBeCloseTo(
      ((wruPerEvent * monthEvents) / 1e6) * prices.prices.dynamodbWriteRequestUnitPerMillion.usd,
      6,
    );
    expect(p.monthlyUsd['Kinesis shard-hours']).toBeCloseTo(
      3 * MONTH_HOURS * prices.prices.kinesisShardHour.usd,
    );
    expect(p.monthlyUsd['Kinesis EFO consumer-shard-hours']).toBeCloseTo(
      3 * 3 * MONTH_HOURS * prices.prices.kinesisEfoConsumerShardHour.usd,
    );
    expect(p.monthlyUsd['CloudWatch custom metrics']).toBeCloseTo(
      (9 + PROVISIONED.logFilterMetrics) * prices.prices.cloudwatchCustomMetricMonth.usd,
    );
    expect(p.totalMonthlyUsd).toBeCloseTo(Object.values(p.monthlyUsd).reduce((a, b) => a + b, 0));
    expect(p.flink.kpus).toBeGreaterThanOrEqual(2);
  });

  it('charges extended retention per shard-hour beyond 24 hours', () => {
    const prices = loadPrices();
    const p = plan({ ...INPUT, retentionHours: 72 }, MODEL, prices, '', PROVISIONED);
    expect(p.monthlyUsd['Kinesis extended retention']).toBeCloseTo(
      3 * MONTH_HOURS * prices.prices.kinesisExtendedRetentionShardHour.usd,
    );
  });

  it('charges it on demand per GB-month of the bytes kept past 24 hours, and by default as the environment keeps them', () => {
    const prices = loadPrices();
    const onDemand = withMode(deployedSettings('prod'), 'ON_DEMAND');
    const p = plan({ ...INPUT, retentionHours: 168 }, MODEL, prices, '', onDemand);
    // 1,000 events/s of 220 B, each billed as 1 KB, kept 144 hours beyond the first 24.
    const gbMonths = ((1000 * MONTH_HOURS * 3600 * 1024) / 1024 ** 3) * (144 / MONTH_HOURS);
    expect(p.monthlyUsd['Kinesis extended retention']).toBeCloseTo(
      gbMonths * prices.prices.kinesisOnDemandExtendedRetentionGbMonth.usd,
    );
    expect(plan(INPUT, MODEL, prices, '', onDemand).monthlyUsd['Kinesis extended retention']).toBe(0);
    expect(deployedSettings('prod').retentionHours).toBe(168);
    expect(parsePlanArgs(['--rate', '10']).input.retentionHours).toBe(168);
    expect(parsePlanArgs(['--rate', '10', '--environment', 'dev']).input.retentionHours).toBe(24);
  });

  it("samples each function's traces on its own: one a second each, then 5 %", () => {
    const prices = loadPrices();
    const p = plan(INPUT, MODEL, prices, '', PROVISIONED);
    const batches = Object.fromEntries(p.lambda.map((f) => [f.function, f.eventsPerBatch])) as Record<
      FunctionName,
      number
    >;
    const usage = interpolateUsage(MODEL, p.userBatchesPerEvent, 0.01, batches, 200, DEFAULT_ALERT_RATE);
    const events = 1000 * MONTH_HOURS * 3600;
    let traces = 0;
    for (const f of Object.values(usage.functions))
      traces += sampledShare(f.invocations * 1000) * f.invocations * events;
    expect(p.monthlyUsd['X-Ray traces']).toBeCloseTo(
      (traces / 1e6) * prices.prices.xrayTraceRecordedPerMillion.usd,
      6,
    );
  });
});

describe('capacity planner: handler time with AWS latencies', () => {
  it('takes iterator age and the busy share from the estimate, and keeps the emulator figure beside it', () => {
    const prices = loadPrices();
    const draft = plan(INPUT, MODEL, prices, '', PROVISIONED);
    const p = plan(INPUT, MODEL, prices, '', PROVISIONED, { 'session-updater': 0.25 });
    const [before, after] = [draft, p].map((x) => x.lambda.find((f) => f.function === 'session-updater'));
    const pf = loadFunction('session-updater').eventSourceMapping.parallelizationFactor;
    expect(after?.processingSeconds).toBeCloseTo(before?.processingSeconds as number);
    expect(after?.awsProcessingSeconds).toBe(0.25);
    expect(after?.iteratorAgeSeconds).toBeCloseTo((after?.batchFillSeconds as number) + 0.25);
    // 2,000 events/s over 3 shards, each event 0.25 s / (events per batch) of handler time.
    expect(after?.peakBusyShare).toBeCloseTo(((2000 / 3) * (0.25 / (after?.eventsPerBatch as number))) / pf);
    // Not estimated for the others: they keep the emulator figure.
    expect(p.lambda.find((f) => f.function === 'fraud-rules')?.awsProcessingSeconds).toBeUndefined();
  });

  it('times more users per batch as more request rounds (the writes overlap only so far)', async () => {
    const prices = loadPrices();
    const one = await awsBatchSeconds(plan({ ...INPUT, users: 1 }, MODEL, prices, '', PROVISIONED));
    const many = await awsBatchSeconds(plan(INPUT, MODEL, prices, '', PROVISIONED));
    // 333 distinct users: their conditional writes go 16 at a time, so at least 21 rounds of the
    // assumed DynamoDB latency (timers never fire early); one user reads and writes once.
    const round = ASSUMED_AWS_LATENCY_MS.dynamodb / 1000;
    expect(many['session-updater']).toBeGreaterThanOrEqual(Math.ceil(333 / 16) * round);
    expect(one['session-updater']).toBeGreaterThanOrEqual(2 * round);
    expect(many['session-updater']).toBeGreaterThan(3 * one['session-updater']);
    for (const fn of ['fraud-rules', 'metrics-emitter'] as const) expect(one[fn]).toBeGreaterThan(0);
  });
});

describe("the planner's AWS stand-ins", () => {
  /** Session-updater over a batch of `users` users whose previous events came `gapMinutes` earlier. */
  async function commandsAfterGap(gapMinutes: number): Promise<string[]> {
    const zero = { dynamodb: 0, cloudwatch: 0, sns: 0, sqs: 0 };
    const items = new Map<string, unknown>();
    const shape = (prefix: string, startMs: number) =>
      makeEvents({ count: 50, users: 50, prefix, startMs }).map((e, i) => ({ ...e, userId: `u${i}` }));
    const now = Date.now() - 5 * 60_000;
    await runDomain(
      'session-updater',
      toKinesisEvent(shape('h', now - gapMinutes * 60_000), 1),
      latencyClients(zero, items),
    );
    const seen: string[] = [];
    const clients = latencyClients(zero, items);
    const send = clients.dynamodb.send;
    clients.dynamodb = {
      send: (c: { constructor: { name: string } }) => {
        seen.push(c.constructor.name);
        return send(c);
      },
    };
    await runDomain('session-updater', toKinesisEvent(shape('b', now), 1), clients);
    return seen;
  }

  it("keep what is put, so a returning user's session closes after the gap and is written", async () => {
    const after5 = await commandsAfterGap(5);
    const after45 = await commandsAfterGap(45);
    // Both find the users' items (no new users), but only past the 30-minute gap do sessions close.
    expect(after5).not.toContain('BatchWriteCommand');
    expect(after45).toContain('BatchWriteCommand');
    expect(after45.filter((c) => c === 'BatchGetCommand').length).toBeGreaterThan(
      after5.filter((c) => c === 'BatchGetCommand').length,
    );
  });
});

describe('capacity planner: deployed mode, recommendation, returning users', () => {
  it('prices the mode the environment deploys (prod: on-demand) and shows the other one beside it', () => {
    const prices = loadPrices();
    const deployed = deployedSettings('prod');
    expect(deployed.kinesisMode).toBe('ON_DEMAND');
    const p = plan(INPUT, MODEL, prices, '', deployed);
    expect(p.kinesis.deployedMode).toBe('ON_DEMAND');
    expect(p.monthlyUsd['Kinesis shard-hours']).toBe(0);
    expect(p.monthlyUsd['Kinesis on-demand stream-hours']).toBeCloseTo(
      MONTH_HOURS * prices.prices.kinesisOnDemandStreamHour.usd,
    );
    // 220-byte records are billed as 1 KB each on-demand.
    expect(p.monthlyUsd['Kinesis on-demand ingest']).toBeCloseTo(
      ((1000 * MONTH_HOURS * 3600 * 1024) / 1024 ** 3) * prices.prices.kinesisOnDemandIngestPerGb.usd,
    );
    expect(p.totalMonthlyUsd).toBeCloseTo(p.kinesis.totalMonthlyUsdByMode.ON_DEMAND);
    const provisioned = plan(INPUT, MODEL, prices, '', PROVISIONED);
    expect(provisioned.totalMonthlyUsd).toBeCloseTo(p.kinesis.totalMonthlyUsdByMode.PROVISIONED);
    // Prod traces are Active: every invocation a recorded trace.
    expect(p.monthlyUsd['X-Ray traces']).toBeGreaterThan(0);
    expect(p.kinesis.recommendedMode).toBe(
      recommendMode(p.kinesis.totalMonthlyUsdByMode.ON_DEMAND, p.kinesis.totalMonthlyUsdByMode.PROVISIONED)
        .mode,
    );
  });

  it('prices X-Ray by its default sampling: every invocation up to one a second, then 5 % of the rest', () => {
    expect(sampledShare(0.5)).toBe(1);
    expect(sampledShare(1)).toBe(1);
    expect(sampledShare(21)).toBeCloseTo(2 / 21);
  });

  it('recommends provisioned only when it saves at least a fifth', () => {
    expect(recommendMode(100, 50).mode).toBe('PROVISIONED');
    expect(recommendMode(100, 80).mode).toBe('PROVISIONED');
    expect(recommendMode(100, 81).mode).toBe('ON_DEMAND');
    expect(recommendMode(100, 120)).toMatchObject({ mode: 'ON_DEMAND', reason: /absorbs spikes/ });
  });

  it('never interpolates toward "every event a new user" when returning users were measured', () => {
    const batches = { 'session-updater': 1000, 'fraud-rules': 1000, 'metrics-emitter': 1000 };
    const model = {
      ...MODEL,
      shapes: [shape('heavy', 0.1, 0.1), shape('returning', 1, 2), shape('unique', 1, 1)],
    };
    expect(
      interpolateUsage(model, 1, 0.01, batches, 200).functions['session-updater'].writeUnits,
    ).toBeCloseTo(2);
    expect(
      interpolateUsage(model, 0.55, 0.01, batches, 200).functions['session-updater'].writeUnits,
    ).toBeCloseTo(1.05);
  });
});

describe('capacity planner arguments', () => {
  const errors = async (argv: string[]) => {
    const { code, stdout, stderr, calls } = await run(['plan', ...argv]);
    expect(calls).toEqual([]); // planning touches no AWS
    return { code, out: stdout, err: stderr };
  };

  it.each([
    [[], /--rate is required/],
    [['--rate', '0'], /--rate must be a number above 0/],
    [['--rate', 'fast'], /--rate must be a number/],
    [['--rate', '100', '--peak', '50'], /--peak \(50\) must be at least --rate \(100\)/],
    [['--rate', '100', '--purchase-share', '150%'], /--purchase-share must be a share from 0 to 1/],
    [['--rate', '100', '--retention', '200'], /--retention must be from 24 to 168 hours/],
    [['--rate', '100', '--region', 'eu-west-1'], /covers us-east-1 only/],
    [['--rate', '100', '--bogus'], /unknown option --bogus/],
    [['--rate'], /--rate needs a value/],
    [['--rate', '100', '--model', '/nonexistent/model.json'], /cannot read the cost model/],
    [['--rate', '100', '--alert-rate', '2'], /--alert-rate must be a share from 0 to 1/],
    [['--rate', '100', '--environment', 'qa'], /--environment "qa": no terraform\/envs/],
  ])('%j exits 2 with a clear message', async (argv, message) => {
    const { code, out, err } = await errors(argv as string[]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
  });

  it('accepts percentages and underscores', () => {
    const { input } = parsePlanArgs(['--rate', '1_000', '--purchase-share', '2.5%', '--users', '50000']);
    expect(input.rate).toBe(1000);
    expect(input.purchaseShare).toBeCloseTo(0.025);
    expect(input.users).toBe(50000);
  });

  it('--help prints the usage and exits 0; --json prints one JSON document', async () => {
    const help = await errors(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: pulse plan/);
    const json = await errors(['--rate', '200', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out);
    expect(doc.kinesis.provisionedShards).toBeGreaterThanOrEqual(1);
    expect(doc.totalMonthlyUsd).toBeGreaterThan(0);
    expect(
      doc.lambda.every((f: { awsProcessingSeconds?: number }) => f.awsProcessingSeconds !== undefined),
    ).toBe(true);
  });
});
