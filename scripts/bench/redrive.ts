/**
 * (9) The automatic re-drive's reading cost. Traffic is put on the stream; session-updater's own
 * code (`updateSessions` with the failure ledger) processes it in many small batches while a few
 * users' writes fail deterministically (a ValidationException, as for an item over 400 KB), so
 * they are set aside and keep sending. Then the cause is fixed and `redrive` runs, reading the
 * stream back through KinesisRangeSource, until the ledger is empty. Reported: records read per
 * record recovered, and per record of the set-aside ranges (the design reads each at most twice:
 * once per shard range, plus the hand-over's few new records).
 */
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { sessionRedriveTarget } from '../../services/session-updater/redrive.js';
import { updateSessions } from '../../services/session-updater/updater.js';
import { FailureLedger } from '../../services/shared/failure/ledger.js';
import {
  KinesisRangeSource,
  type RangeRecord,
  type RangeSource,
  toKinesisEvent,
} from '../../services/shared/failure/range-source.js';
import { redrive } from '../../services/shared/failure/redrive.js';
import { silentLogger } from '../../services/shared/logger.js';
import { compareSequence } from '../../services/shared/sequence.js';
import { makeEvents } from './data.js';
import { sessionDeps } from './sessions.js';
import type { BenchContext, Row } from './types.js';

const AREA = 're-drive';
/** The ledger's function name: its own partition, whatever other areas leave in the table. */
const LEDGER_FN = 'pulse-bench-redrive';

class RedriveBenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveBenchError';
  }
}

/** Puts the events (partition key = user) and returns each shard's first sequence number written. */
async function put(ctx: BenchContext, events: ReturnType<typeof makeEvents>): Promise<Map<string, string>> {
  const { kinesis } = ctx.env.clients;
  const first = new Map<string, string>();
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: ctx.env.resources.streamName,
        Records: chunk.map((e) => ({ PartitionKey: e.userId, Data: Buffer.from(JSON.stringify(e)) })),
      }),
    );
    if (out.FailedRecordCount) throw new RedriveBenchError(`${out.FailedRecordCount} records not put`);
    for (const r of out.Records ?? []) {
      const seen = first.get(r.ShardId!);
      if (!seen || compareSequence(r.SequenceNumber!, seen) < 0) first.set(r.ShardId!, r.SequenceNumber!);
    }
  }
  return first;
}

/** The shard's records from `from` on, as Lambda would deliver them. */
async function readShard(ctx: BenchContext, shardId: string, from: string): Promise<RangeRecord[]> {
  const { kinesis } = ctx.env.clients;
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: ctx.env.resources.streamName,
      ShardId: shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: from,
    }),
  );
  const out: RangeRecord[] = [];
  let iterator = ShardIterator;
  while (iterator) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
    for (const r of page.Records ?? [])
      out.push({
        shardId,
        sequenceNumber: r.SequenceNumber!,
        partitionKey: r.PartitionKey!,
        data: r.Data!,
        arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
      });
    if ((page.Records ?? []).length === 0) break;
    iterator = page.NextShardIterator;
  }
  return out;
}

/** Counts what the re-drive reads. */
function counting(source: RangeSource): RangeSource & { read: () => number } {
  let read = 0;
  return {
    read: () => read,
    async *pages(at, from, to) {
      for await (const page of source.pages(at, from, to)) {
        read += page.length;
        yield page;
      }
    },
  };
}

export async function benchRedrive(ctx: BenchContext): Promise<Row[]> {
  const { env } = ctx;
  const o = ctx.options.redrive;
  const prefix = `redrive-${Date.now()}`;
  // Event times end a minute ago: none is ahead of the clock (that would make it invalid, not set aside).
  const stepMs = 500;
  const startMs = Date.now() - o.events * stepMs - 60_000;
  const events = makeEvents({ count: o.events, users: o.users, prefix, stepMs, startMs });
  const poisoned = new Set(Array.from({ length: o.poisonedUsers }, (_, i) => `${prefix}-u${i}`));
  const firstByShard = await put(ctx, events);

  const deps = sessionDeps(ctx);
  const ledger = new FailureLedger({
    db: env.db,
    tableName: env.resources.tables['replay-ledger']!,
    functionName: LEDGER_FN,
  });
  let broken = true;
  const saveUser = deps.store.saveUser.bind(deps.store);
  deps.store.saveUser = async (state) => {
    if (broken && poisoned.has(state.userId))
      throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
        name: 'ValidationException',
      });
    return saveUser(state);
  };

  // The live function, in small batches: each one extends the poisoned users' entries.
  const streamArn = env.resources.streamArn;
  const byShard = new Map<string, RangeRecord[]>();
  let batches = 0;
  for (const [shardId, from] of firstByShard) {
    const records = await readShard(ctx, shardId, from);
    byShard.set(shardId, records);
    for (let i = 0; i < records.length; i += o.batchSize) {
      batches += 1;
      const batch = toKinesisEvent(records.slice(i, i + o.batchSize), streamArn);
      const { response } = await updateSessions(batch, { ...deps, ledger });
      if (response.batchItemFailures.length > 0)
        throw new RedriveBenchError('a live batch failed: the poisoned users were not set aside');
    }
  }
  const entries = (await ledger.all()).filter((e) => e.status === 'parked');
  if (entries.length === 0) throw new RedriveBenchError('nobody was set aside');
  const inRanges = new Set<string>();
  for (const e of entries)
    for (const r of byShard.get(e.shardId) ?? [])
      if (compareSequence(r.sequenceNumber, e.first) >= 0 && compareSequence(r.sequenceNumber, e.last) <= 0)
        inRanges.add(r.sequenceNumber);
  const toRecover = events.filter((e) => poisoned.has(e.userId)).length;

  // The fix; then the re-drive, as its schedule would run it, until nothing is left.
  broken = false;
  const source = counting(new KinesisRangeSource({ kinesis: env.clients.kinesis, minIntervalMs: 0 }));
  let applied = 0;
  let runs = 0;
  while ((await ledger.all()).length > 0) {
    if (++runs > 5) throw new RedriveBenchError('the re-drive did not empty the ledger in 5 runs');
    const report = await redrive({
      ledger,
      source,
      target: sessionRedriveTarget(deps),
      logger: silentLogger,
      force: true,
    });
    applied += report.applied;
  }
  if (applied !== toRecover)
    throw new RedriveBenchError(`the re-drive applied ${applied} records, expected ${toRecover}`);
  const read = source.read();
  const note = `${o.events} events, ${o.poisonedUsers} of ${o.users} users set aside over ${batches} live batches of ${o.batchSize} (${entries.length} ledger entries); ${runs} re-drive run(s)`;
  return [
    {
      area: AREA,
      metric: 'records read per record recovered',
      unit: 'records',
      ours: read / applied,
      baseline: null,
      runs: 1,
      note: `${note}; ${read} read, ${applied} recovered`,
    },
    {
      area: AREA,
      metric: 'reads per record of the set-aside ranges (design: at most 2)',
      unit: 'reads',
      ours: read / inRanges.size,
      baseline: null,
      runs: 1,
      note: `${inRanges.size} records in the entries' ranges`,
    },
  ];
}
