/**
 * `pulse plan` (also `make plan-capacity ARGS=...`): sizes a Pulse deployment before it exists.
 *
 * Per-event usage (DynamoDB units, PutMetricData requests, SNS, SQS, Lambda GB-seconds) comes from
 * the bench's measurement (`make bench` writes .bench/cost-model.json; the committed
 * scripts/bench/cost-model.defaults.json is used when there is none, and test/bench checks those
 * defaults against a fresh bench run). The figures depend on how many of a batch's events belong
 * to a user already seen in that batch, so the planner estimates that share for the given users
 * and rate and interpolates between the measured traffic shapes. Prices: scripts/bench/prices.json.
 * Handler time per batch is estimated by running each function's domain code over a batch of the
 * workload's shape against stand-ins that answer after an assumed AWS latency (the emulators the
 * bench measures against answer one request at a time, far slower than AWS).
 * The arithmetic is exported for the unit tests; nothing here talks to AWS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS, type FunctionName, loadFunction } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import { type ArchivePlan, archivePlan } from '../../scripts/bench/archive-cost.js';
import { batchMillis, latencyClients, runDomain } from '../../scripts/bench/compute-tasks.js';
import {
  type Component,
  type Deployment,
  deployedSettings,
  dollarsFor,
  type FunctionUsage,
  type KinesisMode,
  kinesisOnly,
  loadPrices,
  MONTH_HOURS,
  type PriceTable,
  rebatch,
  type SystemUsage,
  total,
  withMode,
} from '../../scripts/bench/cost-model.js';
import { makeEvents, toKinesisEvent } from '../../scripts/bench/data.js';
import type { CostModel, ShapeResult } from '../../scripts/bench/types.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  type Command,
  EXIT,
  parse,
  printJson,
  println,
  UsageError,
} from './command.js';

const MB = 1024 ** 2;
const SECONDS_PER_MONTH = MONTH_HOURS * 3600;
/** Kinesis limits per shard (Kinesis Data Streams quotas). */
export const SHARD_IN_BYTES = 1 * MB;
export const SHARD_IN_RECORDS = 1000;
export const SHARD_EFO_OUT_BYTES = 2 * MB;
/** Longest retention the price table covers (extended retention, up to 7 days). */
const MAX_RETENTION_HOURS = 168;

export interface PlanInput {
  /** Average and peak events per second. */
  rate: number;
  peak: number;
  /** Distinct users active within a few minutes (the users a batch's events come from). */
  users: number;
  /** Share of events that are purchases, 0..1. */
  purchaseShare: number;
  /** Average event size in bytes (the JSON payload). */
  eventBytes: number;
  retentionHours: number;
  region: string;
  /** Shards are sized to stay under this share of their write limits at peak. */
  utilisation: number;
  /** Share of purchases that raise a fraud alert (one SNS publish and email each), 0..1. */
  alertRate: number;
}

/**
 * Default alert rate: 1 % of purchases. Card-not-present fraud runs at a fraction of a percent of
 * orders, and merchants send low single-digit percentages to manual review; the bench's shapes
 * raise far more (they exist to exercise the rules), so their rate is not a planning figure.
 */
export const DEFAULT_ALERT_RATE = 0.01;

/**
 * Assumed round trip per request from a function to a service in its region, in ms: rounded up
 * from DynamoDB's single-digit milliseconds and the tens of milliseconds CloudWatch, SNS and SQS
 * requests take. An assumption, not a measurement: only the handler-time estimate uses it.
 */
export const ASSUMED_AWS_LATENCY_MS = { dynamodb: 10, cloudwatch: 30, sns: 50, sqs: 20 } as const;

export const USAGE = `Usage: pulse plan --rate <events/s> [options]
       make plan-capacity ARGS="--rate 500 --peak 2000 --users 50000"

Sizes a Pulse deployment: Kinesis shards (provisioned vs on-demand) with per-shard headroom and the
hot-key limit; Lambda concurrency, batch fill time and iterator age per function; DynamoDB units,
CloudWatch requests and custom metrics, SNS and SQS volumes; dollars per month per component; and
the same workload on Amazon Managed Service for Apache Flink.

Options:
  --rate <n>             average events per second (required)
  --peak <n>             peak events per second (default: the average)
  --users <n>            distinct users active within a few minutes (default: 10,000)
  --purchase-share <x>   share of events that are purchases, 0..1 or a percentage like 2% (default 1%)
  --event-bytes <n>      average event size in bytes (default 300)
  --retention <hours>    stream retention, 24..168 hours (default: what --environment deploys; prod 168)
  --region <name>        AWS region; the price table covers us-east-1 (default us-east-1)
  --utilisation <x>      keep shards under this share of their write limits at peak (default 0.8)
  --alert-rate <x>       share of purchases that raise a fraud alert, 0..1 or a percentage (default 1%)
  --environment <name>   price as terraform/envs/<name> deploys (X-Ray, PITR, Kinesis mode; default prod)
  --model <path>         per-event figures (default: .bench/cost-model.json, else the committed defaults)
  --json                 print one JSON document instead of text
  --env <name>           accepted like every pulse command, not used: planning reads no AWS
  -h, --help             this text

Model and limits: docs/performance-and-cost.md, "Capacity planning".`;

function positive(flag: string, raw: string | undefined, fallback: number | undefined, max: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`pulse plan: ${flag} is required (see --help)`);
    return fallback;
  }
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw new UsageError(
      `${flag} must be a number above 0 and at most ${max.toLocaleString('en-US')}, got ${JSON.stringify(raw)}`,
    );
  return value;
}

function share(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const percent = raw.trim().endsWith('%');
  const value = Number(percent ? raw.trim().slice(0, -1) : raw);
  const result = percent ? value / 100 : value;
  if (!Number.isFinite(result) || result < 0 || result > 1)
    throw new UsageError(
      `${flag} must be a share from 0 to 1 or a percentage like 2%, got ${JSON.stringify(raw)}`,
    );
  return result;
}

const PLAN_OPTIONS = {
  ...COMMON_OPTIONS,
  rate: { type: 'string' },
  peak: { type: 'string' },
  users: { type: 'string' },
  'purchase-share': { type: 'string' },
  'event-bytes': { type: 'string' },
  retention: { type: 'string' },
  region: { type: 'string' },
  utilisation: { type: 'string' },
  'alert-rate': { type: 'string' },
  environment: { type: 'string' },
  model: { type: 'string' },
} as const;

export function parsePlanArgs(argv: readonly string[]): {
  input: PlanInput;
  json: boolean;
  help: boolean;
  model?: string;
  environment: string;
} {
  const parsed = parse('plan', argv, PLAN_OPTIONS);
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (k: string) => v[k] as string | undefined;
  if (v.help)
    return { input: undefined as unknown as PlanInput, json: false, help: true, environment: 'prod' };
  const environment = str('environment') ?? 'prod';
  if (
    !/^[a-z0-9-]+$/.test(environment) ||
    !existsSync(join(repoRoot(), 'terraform', 'envs', environment, 'main.tf'))
  )
    throw new UsageError(
      `--environment ${JSON.stringify(environment)}: no terraform/envs/<name>/main.tf of that name`,
    );
  const rate = positive('--rate', str('rate'), undefined, 10_000_000);
  const peak = positive('--peak', str('peak'), rate, 10_000_000);
  if (peak < rate) throw new UsageError(`pulse plan: --peak (${peak}) must be at least --rate (${rate})`);
  const region = str('region') ?? 'us-east-1';
  // The environment's own retention unless asked otherwise (prod keeps 7 days).
  const retentionHours = positive(
    '--retention',
    str('retention'),
    deployedSettings(environment).retentionHours,
    8760,
  );
  if (retentionHours < 24 || retentionHours > MAX_RETENTION_HOURS)
    throw new UsageError(
      `--retention must be from 24 to ${MAX_RETENTION_HOURS} hours (the price table covers extended retention up to 7 days), got ${retentionHours}`,
    );
  const utilisation = share('--utilisation', str('utilisation'), 0.8);
  if (utilisation <= 0) throw new UsageError('pulse plan: --utilisation must be above 0');
  return {
    input: {
      rate,
      peak,
      users: Math.round(positive('--users', str('users'), 10_000, 1e10)),
      purchaseShare: share('--purchase-share', str('purchase-share'), 0.01),
      eventBytes: positive('--event-bytes', str('event-bytes'), 300, 1_048_576),
      retentionHours,
      region,
      utilisation,
      alertRate: share('--alert-rate', str('alert-rate'), DEFAULT_ALERT_RATE),
    },
    json: v.json === true,
    help: false,
    model: str('model'),
    environment,
  };
}

export function defaultModelPath(): string {
  const measured = join(repoRoot(), '.bench', 'cost-model.json');
  return existsSync(measured) ? measured : join(repoRoot(), 'scripts', 'bench', 'cost-model.defaults.json');
}

export function loadModel(path: string): CostModel {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CostModel;
  } catch (err) {
    throw new UsageError(`pulse plan: cannot read the cost model ${path}: ${(err as Error).message}`);
  }
}

/** Provisioned shards for the peak, under `utilisation` of 1 MB/s and 1,000 records/s each. */
export function shardsFor(peak: number, recordBytesWithKey: number, utilisation: number): number {
  const byBytes = (peak * recordBytesWithKey) / SHARD_IN_BYTES / utilisation;
  const byRecords = peak / SHARD_IN_RECORDS / utilisation;
  return Math.max(1, Math.ceil(Math.max(byBytes, byRecords) - 1e-9));
}

/**
 * Expected distinct users among `batch` events drawn uniformly from `users` users, per event: the
 * share of events that cost a user read and a user write.
 */
export function userBatchesPerEvent(users: number, batch: number): number {
  if (batch <= 0) return 1;
  const distinct = users * -Math.expm1(batch * Math.log1p(-1 / Math.max(users, 1.000001)));
  return Math.min(1, Math.max(1 / batch, distinct / batch));
}

function lerp(a: FunctionUsage, b: FunctionUsage, t: number): FunctionUsage {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof FunctionUsage)[]) out[k] = a[k] + (b[k] - a[k]) * t;
  return out;
}

/**
 * Pulse's per-event usage at a share `x` of user-batches per event: linear between the two
 * measured shapes around x (clamped to the measured range), fraud-rules and SNS scaled to the
 * purchase share, Lambda invocations from the batch actually filled.
 */
export function interpolateUsage(
  model: CostModel,
  x: number,
  purchaseShare: number,
  eventsPerBatch: Record<FunctionName, number>,
  eventBytes: number,
  alertRate = DEFAULT_ALERT_RATE,
): SystemUsage {
  // Returning users, not "every event a new user", are the high end: a real user population
  // comes back (an existing item read and written), and those items never stay new.
  const shapes = model.shapes
    .filter((r) => r.shape !== 'unique' || !model.shapes.some((o) => o.shape === 'returning'))
    .sort((a, b) => a.userBatchesPerEvent - b.userBatchesPerEvent);
  if (shapes.length === 0) throw new UsageError('pulse plan: the cost model has no traffic shapes');
  let lo = shapes[0] as ShapeResult;
  let hi = shapes[shapes.length - 1] as ShapeResult;
  for (let i = 0; i + 1 < shapes.length; i++) {
    const a = shapes[i] as ShapeResult;
    const b = shapes[i + 1] as ShapeResult;
    if (x >= a.userBatchesPerEvent && x <= b.userBatchesPerEvent) {
      lo = a;
      hi = b;
    }
  }
  const span = hi.userBatchesPerEvent - lo.userBatchesPerEvent;
  const t = span <= 0 ? 0 : Math.min(1, Math.max(0, (x - lo.userBatchesPerEvent) / span));
  const functions = {} as Record<FunctionName, FunctionUsage>;
  // Index writes and stored bytes per alert, pooled over every shape (the alert lifecycle is the
  // same whatever the traffic); the alerts themselves come from the alert-rate input.
  const fraudOf = (r: ShapeResult) => r.pulse.functions['fraud-rules'];
  const alerts = shapes.reduce((sum, r) => sum + fraudOf(r).snsPublishes * r.events, 0);
  const perAlert = (k: 'indexWriteUnits') =>
    alerts > 0 ? shapes.reduce((sum, r) => sum + fraudOf(r)[k] * r.events, 0) / alerts : 0;
  for (const fn of FUNCTIONS) {
    const a = lo.pulse.functions[fn];
    const b = hi.pulse.functions[fn];
    const u = lerp(a, b, t);
    if (fn === 'fraud-rules') {
      // Fraud state is read and written for purchases only.
      const measured = lo.purchaseShare + (hi.purchaseShare - lo.purchaseShare) * t;
      const scale = measured > 0 ? purchaseShare / measured : 0;
      u.readUnits *= scale;
      u.writeUnits *= scale;
      u.storedByteDays *= scale;
      u.snsPublishes = alertRate * purchaseShare;
      u.indexWriteUnits = perAlert('indexWriteUnits') * u.snsPublishes;
    }
    functions[fn] = rebatch(fn, u, eventsPerBatch[fn], true);
  }
  const keyBytes = lo.pulse.recordBytesWithKey - lo.pulse.recordBytes;
  return {
    functions,
    customMetrics: Math.max(lo.pulse.customMetrics, hi.pulse.customMetrics),
    recordBytes: eventBytes,
    recordBytesWithKey: eventBytes + keyBytes,
    consumers: FUNCTIONS.length,
  };
}

export interface FunctionPlan {
  function: FunctionName;
  memoryMb: number;
  batchSize: number;
  batchingWindowSeconds: number;
  parallelizationFactor: number;
  concurrency: number;
  /** Seconds to fill a batch on one shard at the average rate (capped by the batching window). */
  batchFillSeconds: number;
  eventsPerBatch: number;
  /** Handler seconds per batch against the local emulators, from the bench's GB-seconds per event (what Lambda compute is priced at). */
  processingSeconds: number;
  /**
   * Handler seconds per batch with AWS requests at ASSUMED_AWS_LATENCY_MS: the function's domain
   * code run over a batch of this shape (absent when not estimated).
   */
  awsProcessingSeconds?: number;
  /** Expected iterator age at the average rate: a record waits for its batch, then for processing. */
  iteratorAgeSeconds: number;
  /**
   * Handler busy share at peak (from awsProcessingSeconds when estimated, else processingSeconds);
   * above 1 the function falls behind at that concurrency.
   */
  peakBusyShare: number;
}

export interface Plan {
  input: PlanInput;
  model: { path: string; mode: string; generatedAt: string };
  prices: { region: string; date: string };
  kinesis: {
    provisionedShards: number;
    recordBytesWithKey: number;
    headroomAtPeak: { inBytes: number; inRecords: number; efoOutPerConsumer: number };
    /** One user's events per second that one shard can take (all of a user's events go to one shard). */
    hotKeyEventsPerSecond: number;
    /** The stream alone (shards or stream-hours, ingest, three EFO consumers) in each mode. */
    onDemandMonthlyUsd: number;
    provisionedMonthlyUsd: number;
    /** The mode terraform/envs/<environment> deploys: what monthlyUsd prices. */
    deployedMode: KinesisMode;
    totalMonthlyUsdByMode: Record<KinesisMode, number>;
    recommendedMode: KinesisMode;
    recommendation: string;
  };
  deployment: { environment: string; tracingActive: boolean; pointInTimeRecovery: boolean };
  lambda: FunctionPlan[];
  dynamodb: {
    readUnitsPerSecond: number;
    writeUnitsPerSecond: number;
    peakReadUnitsPerSecond: number;
    peakWriteUnitsPerSecond: number;
  };
  cloudwatch: { putMetricDataRequestsPerMonth: number; customMetrics: number };
  sns: { publishesPerMonth: number };
  sqs: { requestsPerMonth: number };
  userBatchesPerEvent: number;
  monthlyUsd: Record<Component, number>;
  totalMonthlyUsd: number;
  /** The event archive (archive-writer, S3, compaction, Athena), kept apart from the total above. */
  archive: ArchivePlan;
  flink: {
    kpus: number;
    monthlyUsd: number;
    /** Flink in place of the Lambda functions and two of the three EFO consumers. */
    comparableLambdaSideMonthlyUsd: number;
    /** Average events/s above which Flink would cost less than Lambda + EFO (null: not below 10x the peak). */
    breakEvenEventsPerSecond: number | null;
    assumption: string;
  };
}

function functionPlans(
  input: PlanInput,
  shards: number,
  usage: SystemUsage | undefined,
  awsBatchSeconds?: Partial<Record<FunctionName, number>>,
): FunctionPlan[] {
  return FUNCTIONS.map((fn) => {
    const spec = loadFunction(fn);
    const esm = spec.eventSourceMapping;
    const perShard = input.rate / shards;
    const fill = Math.min(esm.maximumBatchingWindowInSeconds, esm.batchSize / perShard);
    const eventsPerBatch = Math.max(1, Math.min(esm.batchSize, perShard * fill));
    const secondsPerEvent = usage ? usage.functions[fn].gbSeconds / (spec.memorySize / 1024) : 0;
    const processing = secondsPerEvent * eventsPerBatch;
    const aws = awsBatchSeconds?.[fn];
    const handlerPerEvent = aws === undefined ? secondsPerEvent : aws / eventsPerBatch;
    const peakPerShard = input.peak / shards;
    return {
      function: fn,
      memoryMb: spec.memorySize,
      batchSize: esm.batchSize,
      batchingWindowSeconds: esm.maximumBatchingWindowInSeconds,
      parallelizationFactor: esm.parallelizationFactor,
      concurrency: shards * esm.parallelizationFactor,
      batchFillSeconds: fill,
      eventsPerBatch,
      processingSeconds: processing,
      ...(aws === undefined ? {} : { awsProcessingSeconds: aws }),
      iteratorAgeSeconds: fill + (aws ?? processing),
      peakBusyShare: (peakPerShard * handlerPerEvent) / esm.parallelizationFactor,
    };
  });
}

/** Memory at which Lambda gives a function one full vCPU; below it, CPU time stretches in proportion. */
const LAMBDA_FULL_VCPU_MB = 1769;
/** How far back a user's previous batch is replayed for state (beyond the 30-minute session gap it is all the same). */
const MAX_HISTORY_GAP_MS = 2 * 3_600_000;

/**
 * Each function's handler seconds per batch of the plan's shape (events per batch, distinct users
 * among them) on AWS, estimated here: the domain code runs over the batch with every request
 * answering after ASSUMED_AWS_LATENCY_MS, so its request concurrency and batching are timed, and
 * with state from the users' previous batch (their events the mean gap earlier: sessions that close
 * cost a re-read and a write). Its CPU time, measured with instant answers, is stretched to the
 * function's share of a vCPU (memory / 1,769 MB). Takes a few seconds; varies with this machine.
 */
export async function awsBatchSeconds(p: Plan): Promise<Record<FunctionName, number>> {
  const usersPerShard = Math.max(1, p.input.users / p.kinesis.provisionedShards);
  const gapMs = Math.min(MAX_HISTORY_GAP_MS, (p.input.users / p.input.rate) * 1000);
  const zero = { dynamodb: 0, cloudwatch: 0, sns: 0, sqs: 0 };
  const out = {} as Record<FunctionName, number>;
  for (const f of p.lambda) {
    const events = Math.max(1, Math.round(f.eventsPerBatch));
    const users = Math.max(1, Math.round(events * userBatchesPerEvent(usersPerShard, events)));
    // Users in turn, so the batch holds exactly `users` distinct ones.
    const shape = (prefix: string, startMs: number) =>
      makeEvents({ count: events, users, prefix, purchaseRate: p.input.purchaseShare, startMs }).map(
        (e, i) => ({
          ...e,
          userId: `plan-u${i % users}`,
        }),
      );
    const now = Date.now() - 10 * 60_000;
    const history = toKinesisEvent(shape('plan-h', now - gapMs), 1);
    const batch = toKinesisEvent(shape('plan', now), 1);
    const withHistory = (ms: typeof zero) => async () => {
      const items = new Map<string, unknown>();
      await runDomain(f.function, history, latencyClients(zero, items));
      return latencyClients(ms, items);
    };
    const waitingMs = await batchMillis(f.function, batch, withHistory(ASSUMED_AWS_LATENCY_MS));
    const cpuMs = await batchMillis(f.function, batch, withHistory(zero));
    const stretch = Math.max(0, LAMBDA_FULL_VCPU_MB / f.memoryMb - 1);
    out[f.function] = (waitingMs + cpuMs * stretch) / 1000;
  }
  return out;
}

/** Flink: KPUs for the measured CPU per event (I/O waits included, so generous), +1 for orchestration. */
function flinkMonthly(
  usage: SystemUsage,
  peak: number,
  prices: PriceTable,
): { kpus: number; usd: number; secondsPerEvent: number } {
  let secondsPerEvent = 0;
  for (const fn of FUNCTIONS)
    secondsPerEvent += usage.functions[fn].gbSeconds / (loadFunction(fn).memorySize / 1024);
  const kpus = Math.max(1, Math.ceil(peak * secondsPerEvent)) + 1;
  const p = prices.prices;
  const usd = kpus * MONTH_HOURS * p.flinkKpuHour.usd + kpus * 50 * p.flinkRunningStorageGbMonth.usd;
  return { kpus, usd, secondsPerEvent };
}

/**
 * The capacity mode to run: provisioned when it costs at most PROVISIONED_SAVING of on-demand
 * (shards are sized for the stated peak, and a peak above it is throttled until someone reshards),
 * on-demand otherwise (it absorbs any spike up to twice the stream's previous peak by itself).
 */
export const PROVISIONED_SAVING = 0.8;

export function recommendMode(
  onDemandUsd: number,
  provisionedUsd: number,
): { mode: KinesisMode; reason: string } {
  if (provisionedUsd <= onDemandUsd * PROVISIONED_SAVING)
    return {
      mode: 'PROVISIONED',
      reason: `provisioned costs ${Math.round((1 - provisionedUsd / onDemandUsd) * 100)} % less at this load; size it for the real peak (a higher one is throttled until you add shards)`,
    };
  return {
    mode: 'ON_DEMAND',
    reason:
      provisionedUsd < onDemandUsd
        ? `provisioned would save only ${Math.round((1 - provisionedUsd / onDemandUsd) * 100)} %: not worth fixed shards that throttle an unplanned spike`
        : 'on-demand costs no more here, and it absorbs spikes by itself',
  };
}

export function plan(
  input: PlanInput,
  model: CostModel,
  prices: PriceTable,
  modelPath = '',
  deployment: Deployment = deployedSettings('prod'),
  awsBatchSeconds?: Partial<Record<FunctionName, number>>,
): Plan {
  if (input.region !== prices.region)
    throw new UsageError(
      `--region ${input.region}: the price table (scripts/bench/prices.json) covers ${prices.region} only`,
    );
  const keyBytes = 20;
  const shards = shardsFor(input.peak, input.eventBytes + keyBytes, input.utilisation);
  const draft = functionPlans(input, shards, undefined);
  const eventsPerBatch = Object.fromEntries(draft.map((f) => [f.function, f.eventsPerBatch])) as Record<
    FunctionName,
    number
  >;
  // Session and fraud state are read once per user per batch: the share of a batch's events that are a user's first.
  const sessionBatch = eventsPerBatch['session-updater'];
  const x = userBatchesPerEvent(Math.max(1, input.users / shards), sessionBatch);
  const usage = interpolateUsage(
    model,
    x,
    input.purchaseShare,
    eventsPerBatch,
    input.eventBytes,
    input.alertRate,
  );
  const lambda = functionPlans(input, shards, usage, awsBatchSeconds);
  const monthEvents = input.rate * SECONDS_PER_MONTH;
  const month = { events: monthEvents, eventsPerSecond: input.rate, shards };
  const priced = { ...deployment, retentionHours: input.retentionHours };
  const inMode = (mode: KinesisMode) => {
    const lines = dollarsFor(usage, prices, { ...month, deployment: withMode(priced, mode) });
    return { lines, total: total(lines), kinesis: kinesisOnly(lines) };
  };
  const modes = { ON_DEMAND: inMode('ON_DEMAND'), PROVISIONED: inMode('PROVISIONED') };
  const monthlyUsd = modes[deployment.kinesisMode].lines;
  const totalMonthlyUsd = modes[deployment.kinesisMode].total;
  const kinesisProvisioned = modes.PROVISIONED.kinesis;
  const onDemand = modes.ON_DEMAND.kinesis;
  const recommended = recommendMode(modes.ON_DEMAND.total, modes.PROVISIONED.total);

  const perShardPeak = input.peak / shards;
  const f = Object.values(usage.functions);
  const sum = (k: keyof FunctionUsage) => f.reduce((s, u) => s + u[k], 0);

  const flink = flinkMonthly(usage, input.peak, prices);
  // The Lambda side Flink replaces: compute, invocations, and two of the three EFO consumers.
  const lambdaSide = (rate: number, peak: number): number => {
    const s = shardsFor(peak, usage.recordBytesWithKey, input.utilisation);
    const d = dollarsFor(usage, prices, {
      events: rate * SECONDS_PER_MONTH,
      eventsPerSecond: rate,
      shards: s,
      deployment: withMode(deployment, 'PROVISIONED'),
    });
    const efo =
      ((usage.consumers - 1) / usage.consumers) *
      (d['Kinesis EFO consumer-shard-hours'] + d['Kinesis EFO retrieval']);
    return d['Lambda compute'] + d['Lambda requests'] + efo;
  };
  const ratio = input.peak / input.rate;
  let breakEven: number | null = null;
  for (let rate = input.rate / 100; rate <= input.rate * 10; rate *= 1.05) {
    if (lambdaSide(rate, rate * ratio) > flinkMonthly(usage, rate * ratio, prices).usd) {
      breakEven = rate;
      break;
    }
  }

  return {
    input,
    model: { path: modelPath, mode: model.mode, generatedAt: model.generatedAt },
    prices: { region: prices.region, date: prices.date },
    kinesis: {
      provisionedShards: shards,
      recordBytesWithKey: usage.recordBytesWithKey,
      headroomAtPeak: {
        inBytes: 1 - (perShardPeak * usage.recordBytesWithKey) / SHARD_IN_BYTES,
        inRecords: 1 - perShardPeak / SHARD_IN_RECORDS,
        efoOutPerConsumer: 1 - (perShardPeak * usage.recordBytes) / SHARD_EFO_OUT_BYTES,
      },
      hotKeyEventsPerSecond: Math.floor(
        Math.min(SHARD_IN_RECORDS, SHARD_IN_BYTES / usage.recordBytesWithKey),
      ),
      onDemandMonthlyUsd: onDemand,
      provisionedMonthlyUsd: kinesisProvisioned,
      deployedMode: deployment.kinesisMode,
      totalMonthlyUsdByMode: { ON_DEMAND: modes.ON_DEMAND.total, PROVISIONED: modes.PROVISIONED.total },
      recommendedMode: recommended.mode,
      recommendation: recommended.reason,
    },
    deployment: {
      environment: deployment.environment,
      tracingActive: deployment.tracingActive,
      pointInTimeRecovery: deployment.pointInTimeRecovery,
    },
    lambda,
    dynamodb: {
      readUnitsPerSecond: sum('readUnits') * input.rate,
      writeUnitsPerSecond: sum('writeUnits') * input.rate,
      peakReadUnitsPerSecond: sum('readUnits') * input.peak,
      peakWriteUnitsPerSecond: sum('writeUnits') * input.peak,
    },
    cloudwatch: {
      putMetricDataRequestsPerMonth: sum('putMetricDataRequests') * monthEvents,
      customMetrics: usage.customMetrics,
    },
    sns: { publishesPerMonth: sum('snsPublishes') * monthEvents },
    sqs: { requestsPerMonth: sum('sqsRequests') * monthEvents },
    userBatchesPerEvent: x,
    monthlyUsd,
    totalMonthlyUsd,
    archive: archivePlan({ eventsPerSecond: input.rate, shards, eventBytes: input.eventBytes }, prices),
    flink: {
      kpus: flink.kpus,
      monthlyUsd: flink.usd,
      comparableLambdaSideMonthlyUsd: lambdaSide(input.rate, input.peak),
      breakEvenEventsPerSecond: breakEven,
      assumption: `one KPU per ${(1 / Math.max(flink.secondsPerEvent, 1e-9)).toFixed(0)} events/s at peak (the measured handler seconds per event of all three functions, I/O waits included) + 1 orchestration KPU, 50 GB running storage per KPU; sinks (DynamoDB, CloudWatch, SNS) cost the same`,
    },
  };
}

const usd = (x: number) => `$${x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2)}`;
const pct = (x: number) => `${Math.round(x * 100)} %`;
const num = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x >= 10 ? 1 : 2));

function lambdaHeading(p: Plan): string {
  if (p.lambda.every((f) => f.awsProcessingSeconds === undefined))
    return 'Lambda (per function; handler times as measured against the local emulators, AWS latencies differ)';
  const l = ASSUMED_AWS_LATENCY_MS;
  return `Lambda (per function; handler time estimated with each AWS request taking ${l.dynamodb} ms (DynamoDB), ${l.cloudwatch} ms (CloudWatch), ${l.sns} ms (SNS), ${l.sqs} ms (SQS), assumed, and CPU at the function's share of a vCPU; in brackets as measured against the local emulators, which the Lambda compute dollars below are priced at)`;
}

function handlerText(f: FunctionPlan): string {
  const emulators = `${f.processingSeconds.toFixed(3)} s`;
  return f.awsProcessingSeconds === undefined
    ? emulators
    : `${f.awsProcessingSeconds.toFixed(3)} s (${emulators})`;
}

export function formatPlan(p: Plan): string {
  const i = p.input;
  const lines = [
    `Pulse capacity plan — ${num(i.rate)} events/s average, ${num(i.peak)} peak, ${num(i.users)} active users, ${pct(i.purchaseShare)} purchases, ${num(i.eventBytes)} B/event, ${i.retentionHours} h retention, ${i.region}`,
    `Per-event figures: ${p.model.path} (${p.model.mode} bench, ${p.model.generatedAt}); prices ${p.prices.region} ${p.prices.date}`,
    '',
    'Kinesis',
    `  provisioned shards: ${p.kinesis.provisionedShards} (under ${pct(i.utilisation)} of the write limits at peak)`,
    `  headroom per shard at peak: ${pct(p.kinesis.headroomAtPeak.inBytes)} of 1 MB/s in, ${pct(p.kinesis.headroomAtPeak.inRecords)} of 1,000 records/s in, ${pct(p.kinesis.headroomAtPeak.efoOutPerConsumer)} of 2 MB/s out per EFO consumer`,
    `  hot-key limit: one user can send at most ${num(p.kinesis.hotKeyEventsPerSecond)} events/s (all of a user's events land on one shard)`,
    `  stream alone, monthly: provisioned ${usd(p.kinesis.provisionedMonthlyUsd)} vs on-demand ${usd(p.kinesis.onDemandMonthlyUsd)}; Pulse in total: provisioned ${usd(p.kinesis.totalMonthlyUsdByMode.PROVISIONED)} vs on-demand ${usd(p.kinesis.totalMonthlyUsdByMode.ON_DEMAND)}`,
    `  recommended mode: ${p.kinesis.recommendedMode} (${p.kinesis.recommendation}); ${p.deployment.environment} deploys ${p.kinesis.deployedMode} (terraform/envs/${p.deployment.environment}, settings.stream.mode)`,
    '',
    lambdaHeading(p),
    ...p.lambda.map(
      (f) =>
        `  ${f.function.padEnd(16)} concurrency ${f.concurrency} (${p.kinesis.provisionedShards} shards × ${f.parallelizationFactor}), batch of ${num(f.eventsPerBatch)} fills in ${f.batchFillSeconds.toFixed(2)} s, handler ${handlerText(f)}, iterator age ≈ ${f.iteratorAgeSeconds.toFixed(2)} s, busy at peak ${pct(f.peakBusyShare)}${f.peakBusyShare > 1 ? ' — falls behind at peak: add shards or raise parallelizationFactor' : ''}`,
    ),
    '',
    `DynamoDB: ${num(p.dynamodb.readUnitsPerSecond)} RRU/s and ${num(p.dynamodb.writeUnitsPerSecond)} WRU/s average (${num(p.dynamodb.peakReadUnitsPerSecond)} / ${num(p.dynamodb.peakWriteUnitsPerSecond)} at peak); ${pct(p.userBatchesPerEvent)} of events are a user's first in its batch`,
    `CloudWatch: ${num(p.cloudwatch.putMetricDataRequestsPerMonth)} PutMetricData requests a month, ${p.cloudwatch.customMetrics} custom metrics`,
    `SNS: ${num(p.sns.publishesPerMonth)} publishes a month; SQS: ${num(p.sqs.requestsPerMonth)} requests a month`,
    '',
    `Dollars per month, as terraform/envs/${p.deployment.environment} deploys (Kinesis ${p.kinesis.deployedMode}, X-Ray ${p.deployment.tracingActive ? 'Active' : 'off'}, PITR ${p.deployment.pointInTimeRecovery ? 'on' : 'off'}; ${pct(i.alertRate)} of purchases raise an alert)`,
    ...Object.entries(p.monthlyUsd)
      .filter(([, v]) => v > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `  ${k.padEnd(34)} ${usd(v).padStart(10)}`),
    `  ${'total'.padEnd(34)} ${usd(p.totalMonthlyUsd).padStart(10)}`,
    '',
    `Event archive (S3 + Parquet, ${p.archive.assumption}): ${usd(p.archive.totalMonthlyUsd)}/month on top, ${usd(p.archive.perMillionUsd)} per million events in its first month`,
    ...Object.entries(p.archive.monthlyUsd)
      .filter(([, v]) => v > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `  ${k.padEnd(34)} ${usd(v).padStart(10)}`),
    `  Amazon Data Firehose instead: ${usd(p.archive.firehoseMonthlyUsd)}/month (no de-duplication; docs/architecture.md)`,
    '',
    `Managed Service for Apache Flink: ${p.flink.kpus} KPUs, ${usd(p.flink.monthlyUsd)}/month vs ${usd(p.flink.comparableLambdaSideMonthlyUsd)} for the Lambda side it replaces (functions + 2 of 3 EFO consumers).`,
    p.flink.breakEvenEventsPerSecond === null
      ? '  Lambda + EFO stays cheaper up to 10× this rate.'
      : `  Flink becomes cheaper above about ${num(p.flink.breakEvenEventsPerSecond)} events/s average (same peak ratio).`,
    `  Assumption: ${p.flink.assumption}.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `pulse plan`: prints the plan (or one JSON document with --json); nothing is read from AWS. */
export const command: Command = {
  name: 'plan',
  summary: 'Size a deployment: shards, concurrency, DynamoDB units, dollars a month, Flink',
  usage: USAGE,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const args = parsePlanArgs(argv);
    if (args.help) {
      println(io, USAGE);
      return EXIT.ok;
    }
    const path = args.model ?? defaultModelPath();
    const model = loadModel(path);
    const prices = loadPrices();
    const deployment = deployedSettings(args.environment);
    const draft = plan(args.input, model, prices, path, deployment);
    const result = plan(args.input, model, prices, path, deployment, await awsBatchSeconds(draft));
    if (args.json) printJson(io, result);
    else io.stdout.write(formatPlan(result));
    return EXIT.ok;
  },
};
