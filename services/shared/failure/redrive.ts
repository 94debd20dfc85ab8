/**
 * The automatic re-drive: applies set-aside (`parked`) keys' records, in stream order, through the
 * function's own code, exactly once, and removes their entries. The function's schedule runs it
 * (function.json `schedule`, input `{"pulse":"redrive"}`); `pulse replay` runs the same code.
 *
 * - Exactly once: records are applied through the function's normal watermark + eventId checks
 *   (user state) and the entry's durable `appliedThrough` moves after each page, so an interrupted
 *   run resumes after what took effect. A metrics segment (not idempotent) is applied under a
 *   claim, so two re-drivers never emit it together.
 * - Each shard range is read once per run, streaming: one page at a time, every due entry of the
 *   shard served from the same pages (`RangeSource`, range-source.ts).
 * - Order across a reshard: an entry whose `after` names an ancestor shard that still has an
 *   entry for the same key waits for it; ancestors' shards are driven first.
 * - Convergence while the key keeps sending: once caught up with `last`, the entry is removed on
 *   the condition that `last` did not move; if it moved, only the new records are read and
 *   applied, a few rounds; and the live function itself hands over (applies the key's new records
 *   and removes the entry) as soon as it finds the entry caught up.
 * - Back-off: a failed attempt moves `nextAttemptAt` by base · 2^attempts, capped.
 * - A range the source no longer holds is marked `expired` and kept, never dropped.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError, isConditionalCheckFailed } from '../errors.js';
import type { Logger } from '../logger.js';
import { compareSequence } from '../sequence.js';
import { caughtUp, errorText, type FailureLedger, type LedgerEntry } from './ledger.js';
import type { RangeRecord, RangeSource } from './range-source.js';

/** Thrown when the function's own code reported a record of a re-driven range as failed. */
export class RedriveApplyError extends Error {
  constructor(fn: string, failures: number) {
    super(`${fn} reported ${failures} failure(s) applying a set-aside range`);
    this.name = 'RedriveApplyError';
  }
}

/** How one function applies a set-aside key's records. */
export interface RedriveTarget {
  /** The records of `page` that belong to the entry's key (the range bounds are checked already). */
  select(entry: LedgerEntry, page: readonly RangeRecord[]): RangeRecord[];
  /** Applies the records through the function's own code; throws unless every one took effect. */
  apply(entry: LedgerEntry, records: RangeRecord[]): Promise<{ applied: number; unchanged: number }>;
}

export interface RedriveOptions {
  ledger: FailureLedger;
  source: RangeSource;
  target: RedriveTarget;
  logger: Logger;
  now?: () => number;
  /** Checked between pages: true stops the run (progress is durable, the next run resumes). */
  shouldStop?: () => boolean;
  /** Ignore `nextAttemptAt` (an operator after a fix). */
  force?: boolean;
  /** Report what would be applied; change nothing. */
  dryRun?: boolean;
  backoff?: { baseMs: number; maxMs: number };
  /** Claim lease for an entry (longer than one run). */
  leaseMs?: number;
  /** Rounds after catching up while the key keeps adding records. */
  handOverRounds?: number;
}

export type EntryOutcome =
  | 'done'
  | 'partial'
  | 'failed'
  | 'expired'
  | 'not due'
  | 'after ancestor'
  | 'claimed'
  | 'would apply';

export interface EntryReport {
  pk: string;
  sk: string;
  shardId: string;
  first: string;
  last: string;
  appliedThrough?: string;
  parkedAt?: string;
  applied: number;
  unchanged: number;
  outcome: EntryOutcome;
  error?: string;
}

export interface RedriveReport {
  entries: EntryReport[];
  /** Records read from the source (every key's, once per shard range). */
  recordsRead: number;
  /** Records that took effect now. */
  applied: number;
}

export const DEFAULT_BACKOFF = { baseMs: 5 * 60_000, maxMs: 60 * 60_000 };
const DEFAULT_LEASE_MS = 15 * 60_000;

/** When the entry's next re-drive attempt is due after `redrives` failed ones. */
export function nextAttemptAt(now: number, redrives: number, backoff = DEFAULT_BACKOFF): number {
  return now + Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, redrives - 1));
}

/** The scheduled invocation's input (function.json `schedule`). */
export const REDRIVE_INPUT = { pulse: 'redrive' } as const;

export function isRedriveRequest(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { pulse?: unknown }).pulse === REDRIVE_INPUT.pulse
  );
}

/**
 * REDRIVE_BACKOFF_BASE_SECONDS (default 300) and REDRIVE_BACKOFF_MAX_SECONDS (default 3600): the
 * wait after a failed re-drive attempt doubles from the base up to the cap.
 */
export function backoffFromEnv(env: Record<string, string | undefined>): { baseMs: number; maxMs: number } {
  const seconds = (name: string, fallback: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback * 1000;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 86_400)
      throw new ConfigError(
        `${name} must be an integer number of seconds from 1 to 86400, got ${JSON.stringify(raw)}`,
      );
    return n * 1000;
  };
  const baseMs = seconds('REDRIVE_BACKOFF_BASE_SECONDS', DEFAULT_BACKOFF.baseMs / 1000);
  const maxMs = seconds('REDRIVE_BACKOFF_MAX_SECONDS', DEFAULT_BACKOFF.maxMs / 1000);
  if (maxMs < baseMs)
    throw new ConfigError('REDRIVE_BACKOFF_MAX_SECONDS must not be below REDRIVE_BACKOFF_BASE_SECONDS');
  return { baseMs, maxMs };
}

/** What a scheduled run logs and returns. */
export function redriveSummary(report: RedriveReport): Record<string, number> {
  const count = (outcome: EntryOutcome) => report.entries.filter((e) => e.outcome === outcome).length;
  return {
    entries: report.entries.length,
    done: count('done'),
    partial: count('partial'),
    failed: count('failed'),
    expired: count('expired'),
    notDue: count('not due'),
    recordsRead: report.recordsRead,
    applied: report.applied,
  };
}

interface Work {
  entry: LedgerEntry;
  report: EntryReport;
  /** The first record still to apply is after this one (`appliedThrough`), or `first` itself. */
  started: boolean;
  active: boolean;
}

const cmp = compareSequence;

export async function redrive(o: RedriveOptions): Promise<RedriveReport> {
  const { ledger, logger } = o;
  const now = o.now ?? Date.now;
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const report: RedriveReport = { entries: [], recordsRead: 0, applied: 0 };
  const parked = (await ledger.all()).filter((e) => e.status === 'parked');
  const present = new Set(parked.map((e) => `${e.shardId}|${e.sk}`));
  const reportOf = (e: LedgerEntry, outcome: EntryOutcome): EntryReport => {
    const r: EntryReport = {
      pk: e.pk,
      sk: e.sk,
      shardId: e.shardId,
      first: e.first,
      last: e.last,
      ...(e.appliedThrough ? { appliedThrough: e.appliedThrough } : {}),
      ...(e.parkedAt ? { parkedAt: e.parkedAt } : {}),
      applied: 0,
      unchanged: 0,
      outcome,
    };
    report.entries.push(r);
    return r;
  };

  // Per shard; shards whose entries wait for nothing first, so a parent goes before its child.
  const shards = new Map<string, LedgerEntry[]>();
  for (const e of parked) {
    if (!o.force && (e.nextAttemptAt ?? 0) > now()) {
      reportOf(e, 'not due');
      continue;
    }
    const key = `${e.streamArn}|${e.shardId}`;
    shards.set(key, [...(shards.get(key) ?? []), e]);
  }
  const depth = (es: LedgerEntry[]) => Math.max(0, ...es.map((e) => e.after?.length ?? 0));
  const ordered = [...shards.values()].sort((a, b) => depth(a) - depth(b));

  for (const entries of ordered) {
    if (o.shouldStop?.()) {
      for (const e of entries) reportOf(e, 'partial');
      continue;
    }
    const work: Work[] = [];
    for (const e of entries) {
      if (e.after?.some((shard) => present.has(`${shard}|${e.sk}`))) {
        reportOf(e, 'after ancestor');
        continue;
      }
      if (o.dryRun) {
        reportOf(e, 'would apply');
        continue;
      }
      work.push({ entry: e, report: reportOf(e, 'partial'), started: false, active: true });
    }
    if (work.length === 0) continue;
    const claimId = randomUUID();
    for (const w of work) {
      if (!(await ledger.claim(w.entry, claimId, o.leaseMs ?? DEFAULT_LEASE_MS))) {
        w.active = false;
        w.report.outcome = 'claimed';
      }
    }
    try {
      await driveShard(o, work, report, now, backoff);
    } finally {
      for (const w of work) {
        if (w.report.outcome === 'done') present.delete(`${w.entry.shardId}|${w.entry.sk}`);
        else if (w.report.outcome !== 'claimed')
          await ledger
            .release(w.entry, claimId)
            .catch((err) => logger.warn('claim not released', { error: err }));
      }
    }
  }
  for (const r of report.entries) report.applied += r.applied;
  return report;
}

/** One read of the shard range serving every entry of the shard, then the hand-over. */
async function driveShard(
  o: RedriveOptions,
  work: Work[],
  report: RedriveReport,
  now: () => number,
  backoff: { baseMs: number; maxMs: number },
): Promise<void> {
  const { ledger, logger } = o;
  const startOf = (e: LedgerEntry) => e.appliedThrough ?? e.first;
  const live = () => work.filter((w) => w.active);
  const fail = async (w: Work, err: unknown, expired = false) => {
    w.active = false;
    const redrives = (w.entry.redrives ?? 0) + 1;
    w.report.outcome = expired ? 'expired' : 'failed';
    w.report.error = errorText(err);
    logger.error(
      expired ? 'set-aside range no longer on the stream; entry kept' : 're-drive failed; retried later',
      {
        key: w.entry.sk,
        shardId: w.entry.shardId,
        from: startOf(w.entry),
        error: err,
      },
    );
    try {
      await ledger.reschedule(w.entry, {
        nextAttemptAt: nextAttemptAt(now(), redrives, backoff),
        redrives,
        error: errorText(err),
        expired,
      });
    } catch (writeErr) {
      logger.warn('re-drive back-off not recorded', { key: w.entry.sk, error: writeErr });
    }
  };

  /** Applies one page to every active entry it concerns; false when the run must stop. */
  const serve = async (page: RangeRecord[], ws: Work[]) => {
    report.recordsRead += page.length;
    for (const w of ws) {
      if (!w.active) continue;
      const e = w.entry;
      const start = startOf(e);
      if (!w.started) {
        const head = page.find((r) => cmp(r.sequenceNumber, start) >= 0);
        if (!head) continue;
        if (head.sequenceNumber !== start) {
          await fail(w, new Error(`record ${start} is no longer on the stream`), true);
          continue;
        }
        w.started = true;
      }
      const inRange = page.filter(
        (r) =>
          (e.appliedThrough
            ? cmp(r.sequenceNumber, e.appliedThrough) > 0
            : cmp(r.sequenceNumber, e.first) >= 0) && cmp(r.sequenceNumber, e.last) <= 0,
      );
      const mine = o.target.select(e, inRange);
      if (mine.length === 0) continue;
      try {
        const done = await o.target.apply(e, mine);
        w.report.applied += done.applied;
        w.report.unchanged += done.unchanged;
        await ledger.progress(e, (mine[mine.length - 1] as RangeRecord).sequenceNumber);
        w.report.appliedThrough = e.appliedThrough;
      } catch (err) {
        if (isConditionalCheckFailed(err)) {
          // The live function handed over and removed the entry: nothing left to do.
          w.active = false;
          w.report.outcome = 'done';
        } else await fail(w, err);
      }
    }
  };

  const read = async (ws: Work[]): Promise<boolean> => {
    const from = ws.map((w) => startOf(w.entry)).reduce((a, b) => (cmp(a, b) <= 0 ? a : b));
    const to = ws.map((w) => w.entry.last).reduce((a, b) => (cmp(a, b) >= 0 ? a : b));
    const at = { streamArn: ws[0]!.entry.streamArn, shardId: ws[0]!.entry.shardId };
    try {
      for await (const page of o.source.pages(at, from, to)) {
        await serve(page, ws);
        if (ws.every((w) => !w.active || caughtUp(w.entry))) break;
        if (o.shouldStop?.()) return false;
      }
    } catch (err) {
      for (const w of ws) if (w.active) await fail(w, err);
      return false;
    }
    // The range was read to its end: an entry whose first record never came is gone from the stream.
    for (const w of ws) {
      if (w.active && !w.started && !caughtUp(w.entry))
        await fail(w, new Error(`record ${startOf(w.entry)} is no longer on the stream`), true);
    }
    return true;
  };

  if (live().length === 0 || !(await read(live()))) return;
  const rounds = o.handOverRounds ?? 3;
  for (let round = 0; round <= rounds; round++) {
    const pending = live().filter((w) => caughtUp(w.entry));
    for (const w of pending) {
      if (await ledger.remove(w.entry)) {
        w.active = false;
        w.report.outcome = 'done';
        continue;
      }
      // The live function added records (or handed over): look again.
      const current = (await ledger.entries(w.entry.shardId)).find((e) => e.sk === w.entry.sk);
      if (!current) {
        w.active = false;
        w.report.outcome = 'done';
      } else {
        w.entry = { ...current, claim: w.entry.claim, claimUntil: w.entry.claimUntil };
        w.report.last = current.last;
      }
    }
    const behind = live().filter((w) => !caughtUp(w.entry));
    if (live().length === 0 || round === rounds) break;
    if (behind.length > 0 && !(await read(behind))) break;
  }
  for (const w of live()) {
    // Still behind: the next run (or the live function's hand-over) finishes it.
    w.report.outcome = 'partial';
  }
}
