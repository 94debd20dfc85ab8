/**
 * (1) session-updater against the emulator: DynamoDB requests per 1,000 events and events/s through
 * `updateSessions` (the handler's domain entry, with the handler's real store and clients), for
 * each batch size × user count; and the largest session item after N events for one user.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../services/session-updater/config.js';
import { CURRENT_SK, SessionStore } from '../../services/session-updater/store.js';
import { type UpdaterDeps, updateSessions } from '../../services/session-updater/updater.js';
import { itemBytes, MAX_ITEM_BYTES } from '../../services/shared/item-size.js';
import { silentLogger } from '../../services/shared/logger.js';
import { functionEnvironment } from '../local/resources.js';
import { appendEvent, type SeedSession, seedUpdateSessions } from './baseline/session-updater.js';
import { per1000, perSecond } from './context.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { BASELINE_TABLES } from './env.js';
import { median, timed } from './stats.js';
import type { BenchContext, Row } from './types.js';

const AREA = 'session-updater';

export function sessionDeps(ctx: BenchContext): UpdaterDeps & { tableName: string } {
  const { env } = ctx;
  const config = loadConfig(functionEnvironment('session-updater', env.resources));
  return {
    store: new SessionStore({
      db: env.db,
      tableName: config.tableName,
      closedSessionTtlDays: config.closedSessionTtlDays,
    }),
    sqs: env.clients.sqs,
    invalidRecordsQueueUrl: config.invalidRecordsQueueUrl,
    functionName: 'pulse-bench-session-updater',
    rules: config.rules,
    logger: silentLogger,
    tableName: config.tableName,
  };
}

interface Sample {
  requestsPer1000: number;
  eventsPerSecond: number;
}

let runId = 0;
const nextPrefix = (tag: string) => `${tag}${++runId}x${Date.now().toString(36)}`;

async function runOurs(ctx: BenchContext, deps: UpdaterDeps, batch: number, users: number): Promise<Sample> {
  const event = toKinesisEvent(makeEvents({ count: batch, users, prefix: nextPrefix('s') }));
  ctx.env.counter.reset();
  const { ms, value } = await timed(() => updateSessions(event, deps));
  if (value.response.batchItemFailures.length > 0) throw new Error(`session-updater reported failures`);
  ctx.breakdown[`${AREA} ours batch ${batch} users ${users}`] = ctx.env.counter.snapshot();
  return {
    requestsPer1000: per1000(ctx.env.counter.total('dynamodb'), batch),
    eventsPerSecond: perSecond(batch, ms),
  };
}

async function runBaseline(ctx: BenchContext, records: number, users: number): Promise<Sample> {
  const event = toKinesisEvent(makeEvents({ count: records, users, prefix: nextPrefix('b') }));
  ctx.env.counter.reset();
  const { ms } = await timed(() =>
    seedUpdateSessions(event, { db: ctx.env.db, tableName: BASELINE_TABLES.sessions }),
  );
  ctx.breakdown[`${AREA} baseline users ${users}`] = ctx.env.counter.snapshot();
  return {
    requestsPer1000: per1000(ctx.env.counter.total('dynamodb'), records),
    eventsPerSecond: perSecond(records, ms),
  };
}

const fmtInt = (n: number) => n.toLocaleString('en-US');

export async function benchSessions(ctx: BenchContext): Promise<Row[]> {
  const { sessions, runs } = ctx.options;
  const deps = sessionDeps(ctx);
  const rows: Row[] = [];
  const baselineByUsers = new Map<number, Sample[]>();
  const baselineRecords = Math.min(sessions.baselineRecords, Math.max(...sessions.batchSizes));
  for (const users of sessions.users) {
    const samples: Sample[] = [];
    for (let run = 0; run < runs; run++) samples.push(await runBaseline(ctx, baselineRecords, users));
    baselineByUsers.set(users, samples);
    ctx.log(
      `  baseline users ${users}: ${median(samples.map((s) => s.eventsPerSecond)).toFixed(0)} events/s`,
    );
  }
  for (const batch of sessions.batchSizes) {
    for (const users of sessions.users) {
      const cellRuns = batch >= sessions.singleRunFromBatch ? 1 : runs;
      const samples: Sample[] = [];
      for (let run = 0; run < cellRuns; run++) samples.push(await runOurs(ctx, deps, batch, users));
      const base = baselineByUsers.get(users) ?? [];
      const label = `batch ${fmtInt(batch)}, ${fmtInt(users)} users`;
      const note = `baseline: first ${fmtInt(baselineRecords)} records (it is per record, batch size does not change it)`;
      rows.push(
        {
          area: AREA,
          metric: `DynamoDB requests per 1,000 events (${label})`,
          unit: 'requests',
          ours: median(samples.map((s) => s.requestsPer1000)),
          baseline: median(base.map((s) => s.requestsPer1000)),
          runs: cellRuns,
        },
        {
          area: AREA,
          metric: `throughput (${label})`,
          unit: 'events/s',
          ours: median(samples.map((s) => s.eventsPerSecond)),
          baseline: median(base.map((s) => s.eventsPerSecond)),
          runs: cellRuns,
          note,
        },
      );
      ctx.log(`  ours ${label}: ${median(samples.map((s) => s.eventsPerSecond)).toFixed(0)} events/s`);
    }
  }
  rows.push(...(await itemSizes(ctx, deps)));
  return rows;
}

/** The largest session item after N events of one user: ours through the emulator, the seed by its own transition. */
async function itemSizes(ctx: BenchContext, deps: UpdaterDeps & { tableName: string }): Promise<Row[]> {
  const count = ctx.options.sessions.singleUserEvents;
  const prefix = nextPrefix('one');
  const events = makeEvents({ count, users: 1, prefix });
  const userId = `${prefix}-u0`;
  for (let from = 0; from < count; from += 1_000) {
    const out = await updateSessions(toKinesisEvent(events.slice(from, from + 1_000)), deps);
    if (out.response.batchItemFailures.length > 0) throw new Error('session-updater reported failures');
  }
  const { Item } = await ctx.env.db.send(
    new GetCommand({ TableName: deps.tableName, Key: { userId, sk: CURRENT_SK }, ConsistentRead: true }),
  );
  if (!Item) throw new Error(`no session item for ${userId}`);
  const ours = itemBytes(Item);

  let seed: SeedSession | undefined;
  let rejectedAt: number | undefined;
  for (const [i, event] of events.entries()) {
    seed = appendEvent(seed, { ...event, userId: `b${userId}` });
    if (rejectedAt === undefined && itemBytes(seed as unknown as Record<string, unknown>) > MAX_ITEM_BYTES) {
      rejectedAt = i + 1;
    }
  }
  const baseline = seed ? itemBytes(seed as unknown as Record<string, unknown>) : 0;
  // Ask the emulator too: does it take the seed's final item?
  let refused = '';
  if (seed) {
    try {
      await ctx.env.db.send(new PutCommand({ TableName: BASELINE_TABLES.sessions, Item: seed }));
    } catch (err) {
      refused = `; the emulator refuses the final item (${(err as Error).name})`;
    }
  }
  return [
    {
      area: AREA,
      metric: `largest session item after ${fmtInt(count)} events of one user`,
      unit: 'KiB',
      ours: ours / 1024,
      baseline: baseline / 1024,
      runs: 1,
      note:
        rejectedAt === undefined
          ? `baseline size from its own transition function${refused}`
          : `baseline item passes DynamoDB's 400 KB limit at event ${fmtInt(rejectedAt)}: every later write fails${refused}`,
    },
  ];
}
