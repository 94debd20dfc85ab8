/**
 * `pulse status`: the pipeline on one screen. Per function: its event source mapping (AWS: Lambda
 * ListEventSourceMappings; local: the runner's checkpoints), how far behind it is (AWS: the
 * IteratorAge metric; local: the records after its checkpoint), and its on-failure queue depth.
 * Pipeline-wide: invalid records waiting and PENDING alerts. Read-only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { FUNCTIONS, type FunctionName } from '../../lib/config.js';
import { COMMON_OPTIONS, defineCommand, EXIT, envOption, printJson, println, progress } from './command.js';
import { ago, table } from './format.js';
import { countPending } from './pending.js';
import { stateFile, type Target } from './target.js';

const USAGE = `Usage: pulse status [--env E] [--json]

One screen: per function the event source mapping's state, how far behind it is, its on-failure
queue depth and its failure-ledger entries (users parked until pulse replay); the invalid-records
queue and PENDING alerts. Reads only.

  AWS (dev/staging/prod): mapping state from Lambda ListEventSourceMappings, lag = the maximum
  IteratorAge of the last 5 minutes (CloudWatch AWS/Lambda).
  local: the local runner's checkpoints (.local/checkpoints/<function>.json), lag = records on the
  stream after the checkpoint and the age of the oldest of them.

Exit code 0 when nothing needs a look, 4 when a queue holds messages, alerts are PENDING or a
mapping is not enabled.

Options:
  --env <name>    local | dev | staging | prod (default $PULSE_ENV, else local)
  --json          print one JSON document
  -h, --help      this help`;

/** Local lag is counted up to this many records per shard: enough to tell "caught up" from "far behind". */
const LOCAL_COUNT_CAP = 10_000;

export interface FunctionStatus {
  function: FunctionName;
  mapping: { state: string; detail?: string };
  /** AWS: IteratorAge maximum (ms) over the last 5 minutes; undefined without datapoints. */
  iteratorAgeMs?: number;
  /** Local: records after the checkpoint (capped) and the oldest one's age. */
  behind?: { records: number; capped: boolean; oldestAgeMs?: number };
  onFailureDepth?: number;
  /** Failure-ledger entries: keys failing (the shard waits) or set aside. */
  ledgerEntries?: number;
  /** Set-aside users (metrics-emitter: segments) waiting for the re-drive. */
  parked?: number;
  /** ISO time the oldest of them was set aside. */
  oldestParkedAt?: string;
  error?: string;
}

export interface StatusReport {
  env: string;
  functions: FunctionStatus[];
  invalidRecords?: number;
  pendingAlerts?: number;
  attention: string[];
}

async function queueDepth(target: Target, name: string): Promise<number> {
  const out = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await target.queueUrl(name),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function awsMapping(target: Target, fn: FunctionName): Promise<FunctionStatus['mapping']> {
  const out = await target.lambda.send(
    new ListEventSourceMappingsCommand({ FunctionName: target.names.function(fn) }),
  );
  // The stream's ARN, or (enhanced fan-out) its consumer's: ...:stream/<name>/consumer/<consumer>.
  const ofStream = new RegExp(`:stream/${target.names.stream}(/|$)`);
  const mapping = (out.EventSourceMappings ?? []).find((m) => ofStream.test(m.EventSourceArn ?? ''));
  if (!mapping) return { state: 'missing', detail: `no mapping from ${target.names.stream}` };
  return {
    state: mapping.State ?? 'unknown',
    detail:
      [mapping.LastProcessingResult, mapping.StateTransitionReason].filter(Boolean).join('; ') || undefined,
  };
}

async function iteratorAge(target: Target, fn: FunctionName, now: number): Promise<number | undefined> {
  const out = await target.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 5 * 60_000),
      EndTime: new Date(now),
      MetricDataQueries: [
        {
          Id: 'age',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'IteratorAge',
              Dimensions: [{ Name: 'FunctionName', Value: target.names.function(fn) }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        },
      ],
    }),
  );
  const values = out.MetricDataResults?.[0]?.Values ?? [];
  return values.length ? Math.max(...values) : undefined;
}

function localCheckpoints(
  target: Target,
  fn: FunctionName,
): { shards: Record<string, string>; mtimeMs?: number } {
  const file = stateFile(target.localStateDir ?? '.local', fn);
  if (!existsSync(file)) return { shards: {} };
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { shards?: Record<string, string> };
  return { shards: stored.shards ?? {}, mtimeMs: statSync(file).mtimeMs };
}

/** Records on each shard after the checkpoint (what the runner has not processed yet). */
async function localBehind(target: Target, checkpoints: Record<string, string>, now: number) {
  const { Shards } = await target.kinesis.send(new ListShardsCommand({ StreamName: target.names.stream }));
  let records = 0;
  let capped = false;
  let oldest: number | undefined;
  for (const shard of Shards ?? []) {
    const after = checkpoints[shard.ShardId!];
    let { ShardIterator: iterator } = await target.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: target.names.stream,
        ShardId: shard.ShardId!,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    let counted = 0;
    while (iterator && counted < LOCAL_COUNT_CAP) {
      const out = await target.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      const got = out.Records ?? [];
      if (got.length > 0 && counted === 0) {
        const arrival = got[0]!.ApproximateArrivalTimestamp?.getTime();
        if (arrival !== undefined) oldest = Math.min(oldest ?? arrival, arrival);
      }
      counted += got.length;
      if (got.length === 0 || out.MillisBehindLatest === 0) break;
      iterator = out.NextShardIterator;
    }
    if (counted >= LOCAL_COUNT_CAP) capped = true;
    records += Math.min(counted, LOCAL_COUNT_CAP);
  }
  return { records, capped, oldestAgeMs: oldest === undefined ? undefined : now - oldest };
}

interface LedgerCount {
  entries: number;
  parked: number;
  oldestParkedAt?: string;
}

/** Entries per function in the failure ledger (normally none, so the Scan is one small page). */
async function ledgerCounts(target: Target): Promise<Map<string, LedgerCount>> {
  const counts = new Map<string, LedgerCount>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await target.db.send(
      new ScanCommand({
        TableName: target.names.table('replay-ledger'),
        ProjectionExpression: 'pk, #status, parkedAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const fn = String(item.pk).split('#')[0]!;
      const c = counts.get(fn) ?? { entries: 0, parked: 0 };
      c.entries += 1;
      if (item.status === 'parked') {
        c.parked += 1;
        const at = String(item.parkedAt ?? '');
        if (at && (!c.oldestParkedAt || at < c.oldestParkedAt)) c.oldestParkedAt = at;
      }
      counts.set(fn, c);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return counts;
}

export async function readStatus(
  target: Target,
  now: number,
  onProgress?: (text: string) => void,
): Promise<StatusReport> {
  const report: StatusReport = { env: target.env, functions: [], attention: [] };
  const ledger = await ledgerCounts(target).catch((err: Error) => {
    report.attention.push(`replay-ledger table: ${err.message}`);
    return new Map<string, LedgerCount>();
  });
  for (const fn of FUNCTIONS) {
    onProgress?.(`${fn}…`);
    const s: FunctionStatus = { function: fn, mapping: { state: 'unknown' } };
    try {
      if (target.env === 'local') {
        const { shards, mtimeMs } = localCheckpoints(target, fn);
        const count = Object.keys(shards).length;
        s.mapping =
          mtimeMs === undefined
            ? { state: 'no checkpoints', detail: 'the local runner has not processed a batch' }
            : {
                state: 'local runner',
                detail: `${count} shard checkpoint(s), last written ${ago(now - mtimeMs)} ago`,
              };
        s.behind = await localBehind(target, shards, now);
      } else {
        s.mapping = await awsMapping(target, fn);
        s.iteratorAgeMs = await iteratorAge(target, fn, now);
      }
      s.onFailureDepth = await queueDepth(target, target.names.onFailureQueue(fn));
      const counted = ledger.get(fn);
      s.ledgerEntries = counted?.entries ?? 0;
      s.parked = counted?.parked ?? 0;
      if (counted?.oldestParkedAt) s.oldestParkedAt = counted.oldestParkedAt;
    } catch (err) {
      s.error = (err as Error).message;
      report.attention.push(`${fn}: ${s.error}`);
    }
    if (s.parked)
      report.attention.push(
        `${fn}: ${s.parked} set aside (oldest since ${s.oldestParkedAt}); re-driven automatically, pulse replay --function ${fn} --dry-run shows why`,
      );
    if (s.onFailureDepth)
      report.attention.push(
        `${fn}: ${s.onFailureDepth} batch(es) in the on-failure queue (pulse replay --function ${fn})`,
      );
    if (target.env !== 'local' && !['Enabled', 'Enabling', 'Updating', 'unknown'].includes(s.mapping.state))
      report.attention.push(`${fn}: mapping is ${s.mapping.state}`);
    report.functions.push(s);
  }
  onProgress?.('queues and alerts…');
  try {
    report.invalidRecords = await queueDepth(target, target.names.queue('invalid-records'));
    if (report.invalidRecords)
      report.attention.push(`${report.invalidRecords} invalid record(s) waiting (pulse invalid)`);
  } catch (err) {
    report.attention.push(`invalid-records queue: ${(err as Error).message}`);
  }
  try {
    report.pendingAlerts = await countPending(target);
    if (report.pendingAlerts)
      report.attention.push(`${report.pendingAlerts} PENDING alert(s) (pulse alerts pending)`);
  } catch (err) {
    report.attention.push(`alerts table: ${(err as Error).message}`);
  }
  return report;
}

export function renderStatus(r: StatusReport): string[] {
  const lag = (s: FunctionStatus) => {
    if (s.error) return 'error';
    if (s.behind)
      return s.behind.records === 0
        ? 'caught up'
        : `${s.behind.capped ? '≥' : ''}${s.behind.records} record(s), oldest ${ago(s.behind.oldestAgeMs ?? 0)}`;
    return s.iteratorAgeMs === undefined ? 'no data (5 min)' : `iterator age ${ago(s.iteratorAgeMs)}`;
  };
  const out = [`Pulse ${r.env}`, ''];
  out.push(
    ...table([
      ['function', 'mapping', 'behind', 'on-failure', 'ledger', 'parked', 'detail'],
      ...r.functions.map((s) => [
        s.function,
        s.mapping.state,
        lag(s),
        s.onFailureDepth === undefined ? '?' : String(s.onFailureDepth),
        s.ledgerEntries === undefined ? '?' : String(s.ledgerEntries),
        s.parked === undefined ? '?' : String(s.parked),
        s.error ?? s.mapping.detail ?? '',
      ]),
    ]),
  );
  out.push('');
  out.push(
    `invalid records waiting: ${r.invalidRecords ?? '?'}    PENDING alerts: ${r.pendingAlerts ?? '?'}`,
  );
  out.push('');
  if (r.attention.length === 0) out.push('Nothing needs a look.');
  else out.push('Needs a look:', ...r.attention.map((a) => `  - ${a}`));
  return out;
}

export const command = defineCommand({
  name: 'status',
  summary: 'The pipeline on one screen',
  usage: USAGE,
  options: COMMON_OPTIONS,
  async run({ values }, io) {
    const target = await io.connect(envOption(values.env, io));
    const bar = progress(io);
    try {
      const report = await readStatus(target, io.now(), (t) => bar.update(`reading ${t}`));
      bar.done();
      if (values.json) printJson(io, report);
      else for (const line of renderStatus(report)) println(io, line);
      return report.attention.length ? EXIT.incomplete : EXIT.ok;
    } finally {
      target.close();
    }
  },
});
