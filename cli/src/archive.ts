/**
 * `pulse archive query|replay|try-rules|compact`: the event archive (S3, Parquet) from the
 * operator's seat. Query runs the saved queries (the same files Athena has) with a local DuckDB;
 * replay re-applies archived events through the functions' own code, exactly once; try-rules runs
 * candidate fraud rules over past traffic into a scratch file without touching live state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadRange, runSql, savedQuery, savedQueryNames } from '../../lib/archive-sql.js';
import { compactClosedHours } from '../../services/archive-writer/compactor.js';
import { loadConfig as archiveConfig } from '../../services/archive-writer/config.js';
import { loadConfig as fraudConfig } from '../../services/fraud-rules/config.js';
import { parseRules } from '../../services/fraud-rules/rules.js';
import type { Logger } from '../../services/shared/logger.js';
import { tombstonesFromEnv } from '../../services/shared/tombstones.js';
import { archiveAccess, readArchivedEvents } from './archive/read.js';
import { ARCHIVE_REPLAY_FUNCTIONS, type ArchiveReplayFunction, replayFromArchive } from './archive/replay.js';
import { trialOf } from './archive/try-rules.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  confirm,
  defineCommand,
  EXIT,
  envOption,
  printJson,
  println,
  progress,
  UsageError,
  WRITE_OPTIONS,
} from './command.js';
import { table } from './format.js';
import { functionEnvironment } from './function-env.js';

const USAGE = `Usage: pulse archive query <${savedQueryNames().join('|')}> --from <day> --to <day> [--user U]
       pulse archive query --sql "<SELECT ... FROM \${events} ...>" --from <day> --to <day> [--out FILE]
       pulse archive replay --from <time> --to <time> [--user U] [--functions session-updater,fraud-rules] [--yes]
       pulse archive try-rules --from <time> --to <time> --rules '<FRAUD_RULES JSON>' [--out FILE]
       pulse archive compact [--yes]

query      runs a saved query (services/schema/queries, the ones Athena has) or your own SQL
           over the archive's Parquet with a local DuckDB: the files of the range are copied
           to a temporary folder first. Tables: \${events} (each row an archived event; de-duplicate
           by user_id and event_id as the saved queries do) and \${invalid} (invalid records with reason).
replay     re-applies the archived events of a time range (event time), or of one user, through
           session-updater's and fraud-rules' own code as the records they were on the stream.
           Their idempotency decides: what already took effect changes nothing, so a second
           replay changes nothing. For records the stream no longer holds. Asks first.
try-rules  evaluates fraud rules over the archived purchases of a range from an empty rule state,
           with the deployed rules and with --rules (FRAUD_RULES JSON, missing fields from the
           defaults); prints alerts per rule for both and writes the candidate's alerts to --out.
           Reads nothing live, writes nothing live.
compact    compacts the closed hours now, with archive-writer's settings and erasures (it does
           it hourly). Safe beside the hourly run: an hour another run changed meanwhile is left
           for the next one. Asks first.

Times: YYYY-MM-DD (a whole UTC day; --to inclusive) or an ISO time (--to exclusive).

Options:
  --from, --to <t>     the range (required for query, replay and try-rules)
  --user <id>          one user only (query user-history, replay)
  --functions <list>   replay only these (default: ${ARCHIVE_REPLAY_FUNCTIONS.join(',')})
  --sql <text>         query: your own SQL instead of a saved query
  --rules <json>       try-rules: the candidate FRAUD_RULES
  --out <file>         query, try-rules: also write the rows / alerts there as JSON
  --bucket <name>      the archive bucket (deployed environments; or $PULSE_ARCHIVE_BUCKET)
  -y, --yes            do not ask before writing (replay, compact)
  --env <name>         local | dev | staging | prod (default $PULSE_ENV, else local)
  --json               print JSON
  -h, --help           this help`;

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A --from/--to value → epoch ms; a bare day as --to means the end of that day. */
export function timeOption(flag: string, raw: string | undefined, end: boolean): number {
  if (raw === undefined) throw new UsageError(`${flag} is required (YYYY-MM-DD or an ISO time)`);
  const ms = DAY.test(raw) ? Date.parse(`${raw}T00:00:00Z`) + (end ? DAY_MS : 0) : Date.parse(raw);
  if (!Number.isFinite(ms))
    throw new UsageError(`${flag} must be YYYY-MM-DD or an ISO time, got ${JSON.stringify(raw)}`);
  return ms;
}

function range(values: { from?: string; to?: string }) {
  const fromMs = timeOption('--from', values.from, false);
  const toMs = timeOption('--to', values.to, true);
  if (toMs <= fromMs) throw new UsageError('--to must be after --from');
  return { fromMs, toMs };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function stderrLogger(io: CliIO): Logger {
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => {
    const err = context?.error as Error | undefined;
    io.stderr.write(`${level}: ${message}${err ? ` (${err.message})` : ''}\n`);
  };
  return { debug: () => undefined, info: () => undefined, warn: write('warning'), error: write('error') };
}

function functionsOption(raw: string | undefined): ArchiveReplayFunction[] {
  if (raw === undefined) return [...ARCHIVE_REPLAY_FUNCTIONS];
  const list = raw.split(',').map((s) => s.trim());
  for (const fn of list) {
    if (!(ARCHIVE_REPLAY_FUNCTIONS as readonly string[]).includes(fn))
      throw new UsageError(
        `--functions: ${JSON.stringify(fn)} is not one of ${ARCHIVE_REPLAY_FUNCTIONS.join(', ')}`,
      );
  }
  return list as ArchiveReplayFunction[];
}

function rulesOption(raw: string | undefined) {
  if (!raw) throw new UsageError('try-rules needs --rules (FRAUD_RULES JSON)');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--rules is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseRules(json, '--rules');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const command = defineCommand({
  name: 'archive',
  summary: 'The event archive: SQL queries, replay past the stream, try fraud rules on past traffic',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    user: { type: 'string' },
    functions: { type: 'string' },
    sql: { type: 'string' },
    rules: { type: 'string' },
    out: { type: 'string' },
    bucket: { type: 'string' },
  },
  positionals: { min: 1, max: 2, names: 'query|replay|try-rules|compact [name]' },
  async run({ values, positionals }, io) {
    const [action, name] = positionals as [string, string | undefined];
    const env = envOption(values.env, io);
    if (!['query', 'replay', 'try-rules', 'compact'].includes(action))
      throw new UsageError(`unknown action ${JSON.stringify(action)}: query, replay, try-rules or compact`);

    if (action === 'query') {
      const sql =
        values.sql ?? (name ? (savedQueryNames().includes(name) ? savedQuery(name) : undefined) : undefined);
      if (!sql)
        throw new UsageError(`query needs a saved query name (${savedQueryNames().join(', ')}) or --sql`);
      const { fromMs, toMs } = range(values);
      const params: string[] = [];
      if (values.sql === undefined) {
        if (name === 'user-history') {
          if (!values.user) throw new UsageError('user-history needs --user');
          params.push(values.user);
        }
        params.push(isoDay(fromMs), isoDay(toMs - 1));
      }
      const access = archiveAccess(env, io, values.bucket);
      const dir = mkdtempSync(join(tmpdir(), 'pulse-archive-'));
      try {
        const copied = await downloadRange(access.store, fromMs, toMs, dir);
        const rows = await runSql(dir, sql, params);
        if (values.out) writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
        if (values.json) printJson(io, { files: copied.files, bytes: copied.bytes, rows });
        else {
          io.stderr.write(`${copied.files} archive file(s), ${copied.bytes} bytes read\n`);
          const columns = rows[0] ? Object.keys(rows[0]) : [];
          for (const line of table([columns, ...rows.map((r) => columns.map((c) => String(r[c] ?? '')))]))
            println(io, line);
        }
        return EXIT.ok;
      } finally {
        rmSync(dir, { recursive: true, force: true });
        access.close();
      }
    }

    if (action === 'compact') {
      const access = archiveAccess(env, io, values.bucket);
      try {
        await confirm(io, values.yes, `Compact the closed hours of ${access.store.bucket}?`);
        // The writer's own settings and tombstones: a part read before `pulse erase` rewrote it
        // must not bring an erased user's rows back into the compacted file.
        const target = await io.connect(env);
        const writerEnv = await functionEnvironment(target, 'archive-writer');
        const config = archiveConfig({ ...writerEnv, ARCHIVE_BUCKET: access.store.bucket });
        const summary = await compactClosedHours({
          store: access.store,
          logger: stderrLogger(io),
          nowMs: io.now(),
          graceMs: config.compactGraceMs,
          lookbackHours: config.compactLookbackHours,
          tombstones: tombstonesFromEnv(writerEnv, target.db, () => target.secrets),
        });
        if (values.json) printJson(io, summary);
        else
          println(
            io,
            `compacted ${summary.partitions} partition(s): ${summary.filesRead} file(s) into ${summary.rowsWritten} row(s)` +
              (summary.changed > 0
                ? `; ${summary.changed} changed by another writer meanwhile, left for the next run`
                : ''),
          );
        return EXIT.ok;
      } finally {
        access.close();
      }
    }

    const { fromMs, toMs } = range(values);
    // Every flag is checked before anything is read.
    const functions = action === 'replay' ? functionsOption(values.functions) : [];
    const candidate = action === 'try-rules' ? rulesOption(values.rules) : undefined;
    const access = archiveAccess(env, io, values.bucket);
    try {
      const records = await readArchivedEvents(access.store, { fromMs, toMs, userId: values.user });

      if (action === 'try-rules') {
        if (!candidate) throw new UsageError('try-rules needs --rules (FRAUD_RULES JSON)');
        const target = await io.connect(env);
        let deployed: ReturnType<typeof fraudConfig>['rules'];
        try {
          deployed = fraudConfig(await functionEnvironment(target, 'fraud-rules')).rules;
        } finally {
          target.close();
        }
        const now = trialOf(records, deployed);
        const next = trialOf(records, candidate);
        if (values.out) writeFileSync(values.out, `${JSON.stringify(next.alerts, null, 2)}\n`);
        const report = {
          range: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
          purchases: next.purchases,
          users: next.users,
          deployed: { alerts: now.alerts.length, byRule: now.byRule, suppressed: now.suppressed },
          candidate: { alerts: next.alerts.length, byRule: next.byRule, suppressed: next.suppressed },
          out: values.out ?? null,
        };
        if (values.json) printJson(io, report);
        else {
          println(
            io,
            `${report.purchases} purchase(s) of ${report.users} user(s); nothing live was read or written`,
          );
          const rules = [...new Set([...Object.keys(now.byRule), ...Object.keys(next.byRule)])].sort();
          const rows = [
            ['rule', 'deployed', 'candidate'],
            ...rules.map((r) => [r, String(now.byRule[r] ?? 0), String(next.byRule[r] ?? 0)]),
            ['total', String(now.alerts.length), String(next.alerts.length)],
          ];
          for (const line of table(rows)) println(io, line);
        }
        return EXIT.ok;
      }

      await confirm(
        io,
        values.yes,
        `Re-apply ${records.length} archived event(s) through ${functions.join(' and ')} (${env})?`,
      );
      const target = await io.connect(env);
      const bar = progress(io);
      try {
        const summaries = await replayFromArchive(target, records, {
          functions,
          logger: stderrLogger(io),
          now: () => io.now(),
          onBatch: (fn, done, total) => bar.update(`${fn}: batch ${done}/${total}`),
        });
        bar.done();
        if (values.json) printJson(io, { records: records.length, functions: summaries });
        else {
          const rows = [
            ['function', 'records', 'batches', 'took effect now'],
            ...summaries.map((s) => [s.function, String(s.records), String(s.batches), String(s.applied)]),
          ];
          for (const line of table(rows)) println(io, line);
        }
        return EXIT.ok;
      } finally {
        target.close();
      }
    } finally {
      access.close();
    }
  },
});
