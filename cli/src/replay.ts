/**
 * `pulse replay --function <fn>`: applies, exactly once, what a function skipped when Lambda gave
 * up on a batch. The on-failure queue says which range of which shard was given up on; the
 * function's failure ledger (services/shared/failure-ledger.ts) says which of those records did
 * not take effect. Replay reads the range back from the stream, applies the ledger's records
 * through the function's own code (replay/appliers.ts), removes each entry after it took effect,
 * and deletes the message only when all of its entries are done. Records of the range that no
 * entry covers took effect when the batch ran and are left alone.
 *
 * What replay cannot do, it reports: records past the stream's retention (count and range; the
 * rest is applied), and a range with no ledger entry at all — the function crashed or timed out
 * instead of reporting a failure (or the ledger write failed with it), so whether those records
 * took effect is unknown; that message is kept until a person deletes it (--drop-unresolved).
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FUNCTIONS, type FunctionName } from '../../lib/config.js';
import type { StreamRecord } from '../../lib/lambda-event.js';
import { isConditionalCheckFailed } from '../../services/shared/errors.js';
import {
  deleteEntry,
  FailureLedger,
  type LedgerEntry,
  SEGMENT_PREFIX,
} from '../../services/shared/failure-ledger.js';
import type { Logger } from '../../services/shared/logger.js';
import { compareSequence } from '../../services/shared/sequence.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  confirm,
  defineCommand,
  EXIT,
  envOption,
  intOption,
  printJson,
  println,
  progress,
  UsageError,
  WRITE_OPTIONS,
} from './command.js';
import { type Applier, makeApplier } from './replay/appliers.js';
import { type FailureMessage, parseFailureMessage, readRange } from './replay/stream.js';
import { isFunctionName, type Target } from './target.js';

const USAGE = `Usage: pulse replay --function <${FUNCTIONS.join('|')}> [--dry-run] [--yes] [--drop-unresolved] [--limit N] [--env E] [--json]

Applies exactly once the records a function skipped when Lambda gave up on a batch (retries or
record age exhausted). For each message in the function's on-failure queue it reads the batch's
range from the stream (GetShardIterator AT_SEQUENCE_NUMBER up to the end sequence number) and
applies the records the function's failure ledger marks as not applied, through the function's own
code; the message is deleted only after that succeeded. Records that already took effect are left
alone; a second replay changes nothing.

Reported, exit code 4:
  - records past the stream's retention (count and range); the rest of the range is applied;
  - a range with no ledger entry (the function crashed or timed out rather than reporting a
    failure): whether those records took effect is unknown, so nothing is applied and the message
    is kept — look at the function's log for the range; --drop-unresolved then deletes such
    messages (and unreadable ones) after printing them.

Options:
  --function <name>   ${FUNCTIONS.join(', ')}
  --dry-run           show what would be applied; change nothing
  -y, --yes           do not ask before applying (or dropping)
  --drop-unresolved   delete the messages that cannot be resolved, after reporting them
  --limit N           at most N on-failure messages this run (default 100, at most 10000)
  --env <name>        local | dev | staging | prod (default $PULSE_ENV, else local)
  --json              print the report as JSON
  -h, --help          this help`;

/** Messages stay hidden from other readers this long while a replay works on them. */
const VISIBILITY_SECONDS = 900;
const CLAIM_MS = 15 * 60_000;

export interface EntryReport {
  key: string;
  first: string;
  last: string;
  /** The entry's records: in the message's range, then parked after it. */
  records: number;
  inBatch: number;
  applied?: number;
  unchanged?: number;
  error?: string;
}

export interface MessageReport {
  messageId: string;
  shardId: string;
  start: string;
  end: string;
  batchSize: number;
  condition: string;
  entries: EntryReport[];
  /** Records of the range the function acts on that took effect when the batch ran. */
  alreadyApplied: number;
  /** Records of the range gone from the stream. */
  pastRetention: number;
  /** Records of the range with no ledger entry at all: effect unknown. */
  unknown: number;
  outcome: 'replayed' | 'would replay' | 'kept' | 'failed' | 'unreadable' | 'dropped';
  note?: string;
}

export interface ReplayReport {
  function: FunctionName;
  env: string;
  dryRun: boolean;
  messages: MessageReport[];
  totals: {
    messages: number;
    applied: number;
    alreadyApplied: number;
    pastRetention: number;
    unknown: number;
    deleted: number;
    kept: number;
    failed: number;
    /** Unresolved messages deleted on request (--drop-unresolved), after being reported. */
    dropped: number;
  };
}

interface Plan {
  message: FailureMessage;
  report: MessageReport;
  entries: LedgerEntry[];
  range: StreamRecord[];
}

async function receiveAll(target: Target, queueUrl: string, limit: number): Promise<Message[]> {
  const out: Message[] = [];
  const seen = new Set<string>();
  while (out.length < limit) {
    const { Messages } = await target.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, limit - out.length),
        VisibilityTimeout: VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
      }),
    );
    const fresh = (Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) seen.add(m.MessageId!);
    out.push(...fresh);
  }
  return out;
}

const between = (seq: string, from: string, to: string) =>
  compareSequence(seq, from) >= 0 && compareSequence(seq, to) <= 0;

async function plan(
  target: Target,
  ledger: FailureLedger,
  applier: Applier,
  message: FailureMessage,
  entriesByShard: Map<string, LedgerEntry[]>,
): Promise<Plan> {
  let all = entriesByShard.get(message.shardId);
  if (!all) {
    all = await ledger.entries(message.shardId);
    entriesByShard.set(message.shardId, all);
  }
  // The entries this message stands for: Lambda gave up on their first record in this range.
  const entries = all.filter((e) => between(e.first, message.start, message.end));
  const upTo = entries.reduce((max, e) => (compareSequence(e.last, max) > 0 ? e.last : max), message.end);
  const { records } = await readRange(
    target.kinesis,
    target.names.stream,
    message.shardId,
    message.start,
    upTo,
  );
  const inBatch = records.filter((r) => between(r.sequenceNumber, message.start, message.end));
  const report: MessageReport = {
    messageId: message.messageId,
    shardId: message.shardId,
    start: message.start,
    end: message.end,
    batchSize: message.batchSize,
    condition: message.condition,
    entries: [],
    alreadyApplied: 0,
    pastRetention: Math.max(0, message.batchSize - inBatch.length),
    unknown: 0,
    outcome: 'would replay',
  };
  // Any entry of the shard covers its records (a user parked by an earlier message too).
  const covered = new Set<string>();
  for (const e of all) for (const r of applier.select(e, records)) covered.add(r.sequenceNumber);
  for (const e of entries) {
    const selected = applier.select(e, records);
    const mine = selected.filter((r) => between(r.sequenceNumber, message.start, message.end)).length;
    report.entries.push({ key: e.sk, first: e.first, last: e.last, records: selected.length, inBatch: mine });
  }
  const concerned = inBatch.filter((r) => applier.concerns(r));
  if (entries.length === 0 && concerned.length > 0) {
    report.unknown = concerned.length;
    report.outcome = 'kept';
    report.note =
      'no ledger entry for this range: the function crashed or timed out instead of reporting a failure, so whether these records took effect is unknown';
  } else report.alreadyApplied = concerned.filter((r) => !covered.has(r.sequenceNumber)).length;
  if (report.pastRetention > 0) {
    // Applied as far as the records still exist; the loss is reported, never silent.
    const lost = `${report.pastRetention} of ${message.batchSize} record(s) in ${message.start}..${message.end} are past the stream's retention`;
    report.note = report.note ? `${report.note}; ${lost}` : lost;
  }
  return { message, report, entries, range: records };
}

/** A replay's claim on an entry, so two replays never apply it twice. */
async function claim(
  target: Target,
  table: string,
  e: LedgerEntry,
  id: string,
  now: number,
): Promise<boolean> {
  try {
    await target.db.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'SET claim = :id, claimUntil = :until',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(claim) OR claimUntil < :now)',
        ExpressionAttributeValues: { ':id': id, ':until': now + CLAIM_MS, ':now': now },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

async function release(target: Target, table: string, e: LedgerEntry, id: string): Promise<void> {
  await target.db
    .send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: e.pk, sk: e.sk },
        UpdateExpression: 'REMOVE claim, claimUntil',
        ConditionExpression: 'claim = :id',
        ExpressionAttributeValues: { ':id': id },
      }),
    )
    .catch(() => undefined);
}

/**
 * Applies one entry and removes it. If the function parked more records meanwhile (`last`
 * moved), the delete's condition fails: re-read, apply again (what was applied is now below the
 * user's watermark and changes nothing), until the entry is removed as read.
 */
async function replayEntry(
  target: Target,
  ledger: FailureLedger,
  applier: Applier,
  initial: LedgerEntry,
  range: StreamRecord[],
  report: EntryReport,
  now: () => number,
): Promise<void> {
  const table = ledger.options.tableName;
  const id = randomUUID();
  if (!(await claim(target, table, initial, id, now())))
    throw new Error('another replay holds this entry (or it is gone); try again later');
  let entry = initial;
  let records = range;
  try {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const selected = applier.select(entry, records);
      const outcome = await applier.apply(entry, selected, async (next) => {
        // metrics-emitter: what is emitted is no longer part of the entry.
        await target.db.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: entry.pk, sk: entry.sk },
            UpdateExpression: 'SET #first = :next',
            ConditionExpression: 'claim = :id AND #first = :first',
            ExpressionAttributeNames: { '#first': 'first' },
            ExpressionAttributeValues: { ':next': next, ':id': id, ':first': entry.first },
          }),
        );
        entry = { ...entry, first: next };
        records = records.filter((r) => compareSequence(r.sequenceNumber, next) >= 0);
      });
      report.applied = (report.applied ?? 0) + outcome.applied;
      report.unchanged = (attempt === 1 ? 0 : (report.unchanged ?? 0)) + outcome.unchanged;
      if (await deleteEntry({ db: target.db, tableName: table }, entry)) return;
      // Only a parked user's entry grows; a metrics entry that changed under its claim must not be
      // emitted again, so that is an error for a person, not a reason to go round.
      if (entry.sk.startsWith(SEGMENT_PREFIX))
        throw new Error('the segment entry changed during replay; not emitting it again');
      const current = (await ledger.entries(entry.shardId)).find((e) => e.sk === entry.sk);
      if (!current) return;
      entry = current;
      const more = await readRange(
        target.kinesis,
        target.names.stream,
        entry.shardId,
        entry.first,
        entry.last,
      );
      records = more.records;
    }
    throw new Error('the function kept adding parked records while replaying; run replay again');
  } catch (err) {
    await release(target, table, entry, id);
    throw err;
  }
}

function quietLogger(io: CliIO): Logger {
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => {
    const err = context?.error as Error | undefined;
    io.stderr.write(`${level}: ${message}${err ? ` (${err.message})` : ''}\n`);
  };
  return { debug: () => undefined, info: () => undefined, warn: write('warning'), error: write('error') };
}

function render(r: ReplayReport): string[] {
  const out = [
    `${r.function} (${r.env}): ${r.totals.messages} on-failure message(s)${r.dryRun ? ' — dry run, nothing changed' : ''}`,
  ];
  for (const m of r.messages) {
    out.push('');
    out.push(`  ${m.shardId} ${m.start}..${m.end} (${m.batchSize} record(s), ${m.condition}): ${m.outcome}`);
    for (const e of m.entries) {
      const done = e.applied === undefined ? '' : `, applied ${e.applied}, unchanged ${e.unchanged ?? 0}`;
      const parked = e.records - e.inBatch;
      const counts = `${e.records} record(s) (${e.inBatch} in this batch${parked ? `, ${parked} parked after it` : ''})`;
      out.push(
        `    ledger ${e.key} from ${e.first} through ${e.last}: ${counts}${done}${e.error ? ` — ${e.error}` : ''}`,
      );
    }
    out.push(
      `    already took effect: ${m.alreadyApplied}; past retention: ${m.pastRetention}; unknown: ${m.unknown}`,
    );
    if (m.note) out.push(`    ${m.note}`);
  }
  const t = r.totals;
  out.push('');
  out.push(
    `applied ${t.applied}, already took effect ${t.alreadyApplied}, past retention ${t.pastRetention}, unknown ${t.unknown}; messages deleted ${t.deleted}, kept ${t.kept}, failed ${t.failed}`,
  );
  return out;
}

export const command = defineCommand({
  name: 'replay',
  summary: 'Re-apply what a function skipped, exactly once',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    function: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'drop-unresolved': { type: 'boolean' },
    limit: { type: 'string' },
  },
  async run({ values }, io) {
    if (values.function === undefined)
      throw new UsageError(`pulse replay: --function is required (${FUNCTIONS.join(', ')})`);
    if (!isFunctionName(values.function))
      throw new UsageError(
        `--function must be one of ${FUNCTIONS.join(', ')}, got ${JSON.stringify(values.function)}`,
      );
    if (values['dry-run'] && values['drop-unresolved'])
      throw new UsageError('--dry-run changes nothing; --drop-unresolved does not go with it');
    if (values['dry-run'] && values.yes)
      throw new UsageError('--dry-run changes nothing; --yes does not go with it');
    const fn = values.function;
    const env = envOption(values.env, io);
    const limit = intOption('--limit', values.limit, 100, 10_000);

    const target = await io.connect(env);
    const queueUrl = await target.queueUrl(target.names.onFailureQueue(fn));
    const bar = progress(io);
    const logger = quietLogger(io);
    const received: Message[] = [];
    const done = new Set<string>();
    try {
      const ledger = new FailureLedger({
        db: target.db,
        tableName: target.names.table('replay-ledger'),
        functionName: fn,
      });
      const applier = await makeApplier(target, fn, logger, io.now);
      received.push(...(await receiveAll(target, queueUrl, limit)));
      const report: ReplayReport = {
        function: fn,
        env,
        dryRun: values['dry-run'] === true,
        messages: [],
        totals: {
          messages: received.length,
          applied: 0,
          alreadyApplied: 0,
          pastRetention: 0,
          unknown: 0,
          deleted: 0,
          kept: 0,
          failed: 0,
          dropped: 0,
        },
      };
      const plans: Plan[] = [];
      const entriesByShard = new Map<string, LedgerEntry[]>();
      for (const [i, m] of received.entries()) {
        bar.update(`reading message ${i + 1} of ${received.length}…`);
        const parsed = parseFailureMessage(m);
        if ('error' in parsed) {
          report.messages.push({
            messageId: m.MessageId ?? '',
            shardId: '',
            start: '',
            end: '',
            batchSize: 0,
            condition: '',
            entries: [],
            alreadyApplied: 0,
            pastRetention: 0,
            unknown: 0,
            outcome: 'unreadable',
            note: parsed.error,
          });
          continue;
        }
        const p = await plan(target, ledger, applier, parsed, entriesByShard);
        plans.push(p);
        report.messages.push(p.report);
      }
      // Stream order per shard, so a user's entry is applied before anything after it.
      plans.sort(
        (a, b) =>
          a.message.shardId.localeCompare(b.message.shardId) ||
          compareSequence(a.message.start, b.message.start),
      );
      const toApply = plans.reduce((n, p) => n + p.report.entries.reduce((k, e) => k + e.records, 0), 0);
      if (!report.dryRun && plans.some((p) => p.report.outcome === 'would replay')) {
        bar.done();
        await confirm(
          io,
          values.yes,
          `Replay ${toApply} record(s) of ${plans.length} message(s) through ${fn} in ${env}?`,
        );
        for (const [i, p] of plans.entries()) {
          if (p.report.outcome !== 'would replay') continue;
          bar.update(`replaying message ${i + 1} of ${plans.length}…`);
          let ok = true;
          for (const [k, entry] of p.entries.entries()) {
            const er = p.report.entries[k]!;
            try {
              await replayEntry(target, ledger, applier, entry, p.range, er, io.now);
            } catch (err) {
              ok = false;
              er.error = (err as Error).message;
            }
          }
          if (!ok) {
            p.report.outcome = 'failed';
            continue;
          }
          await target.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: p.message.receiptHandle }),
          );
          done.add(p.message.messageId);
          p.report.outcome = 'replayed';
        }
      }
      bar.done();
      const unresolved = report.messages.filter((m) => m.outcome === 'kept' || m.outcome === 'unreadable');
      if (values['drop-unresolved'] && unresolved.length > 0) {
        for (const line of render(report)) io.stderr.write(`${line}\n`);
        await confirm(
          io,
          values.yes,
          `Delete the ${unresolved.length} unresolved message(s) above from ${target.names.onFailureQueue(fn)}?`,
        );
        for (const m of unresolved) {
          const message = received.find((r) => r.MessageId === m.messageId);
          if (!message?.ReceiptHandle) continue;
          await target.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          done.add(m.messageId);
          m.outcome = 'dropped';
        }
      }
      for (const m of report.messages) {
        report.totals.applied += m.entries.reduce((n, e) => n + (e.applied ?? 0), 0);
        report.totals.alreadyApplied += m.alreadyApplied;
        report.totals.pastRetention += m.pastRetention;
        report.totals.unknown += m.unknown;
        if (m.outcome === 'replayed') report.totals.deleted += 1;
        else if (m.outcome === 'dropped') report.totals.dropped += 1;
        else if (m.outcome === 'failed') report.totals.failed += 1;
        else if (m.outcome !== 'would replay') report.totals.kept += 1;
      }
      if (values.json) printJson(io, report);
      else for (const line of render(report)) println(io, line);
      if (report.totals.failed > 0) return EXIT.failed;
      const lost = report.totals.pastRetention + report.totals.unknown;
      return report.totals.kept > 0 || lost > 0 ? EXIT.incomplete : EXIT.ok;
    } finally {
      // What was not deleted goes back to the queue at once, for the next replay or a person.
      for (const m of received) {
        if (done.has(m.MessageId ?? '')) continue;
        await target.sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined);
      }
      target.close();
    }
  },
});
