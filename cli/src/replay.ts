/**
 * `pulse replay --function <fn>`: runs the function's re-drive now (services/shared/failure/
 * redrive.ts, the code its schedule runs every 5 minutes) over every set-aside entry of the
 * failure ledger, ignoring the entries' back-off: for after a fix is deployed, and, with
 * --dry-run, to see what is set aside. It works from the ledger entries alone (shard, range,
 * progress); each shard range is read once from the stream and each record applied once through
 * the function's own code.
 */
import { FUNCTIONS, type FunctionName } from '../../lib/config.js';
import { FailureLedger } from '../../services/shared/failure/ledger.js';
import { KinesisRangeSource } from '../../services/shared/failure/range-source.js';
import { type EntryReport, type RedriveReport, redrive } from '../../services/shared/failure/redrive.js';
import type { Logger } from '../../services/shared/logger.js';
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
import { redriveTarget } from './replay/appliers.js';
import { isFunctionName } from './target.js';

const USAGE = `Usage: pulse replay --function <${FUNCTIONS.join('|')}> [--dry-run] [--yes] [--env E] [--json]

Applies now, exactly once, what the function set aside: the records of each user (metrics-emitter:
each segment) with an entry in the failure ledger. The function's scheduled re-drive does the
same every 5 minutes with back-off; this runs it at once, e.g. after deploying a fix. Records are
read back from the stream (each shard range once) and applied in order through the function's own
code; an interrupted run resumes where it stopped. A second run changes nothing.

Reported, exit code 4: entries left — failed again (the error is shown), expired (the stream no
longer holds the range: the entry is kept), waiting for an ancestor shard's entry, held by another
re-drive, or not finished in this run.

Options:
  --function <name>   ${FUNCTIONS.join(', ')}
  --dry-run           list the set-aside entries; change nothing
  -y, --yes           do not ask before applying
  --env <name>        local | dev | staging | prod (default $PULSE_ENV, else local)
  --json              print the report as JSON
  -h, --help          this help`;

export interface ReplayReport extends RedriveReport {
  function: FunctionName;
  env: string;
  dryRun: boolean;
  /** Entries still counting failures (the shard waits on them; not set aside). */
  failing: number;
}

function quietLogger(io: CliIO): Logger {
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => {
    const err = context?.error as Error | undefined;
    io.stderr.write(`${level}: ${message}${err ? ` (${err.message})` : ''}\n`);
  };
  return { debug: () => undefined, info: () => undefined, warn: write('warning'), error: write('error') };
}

function entryLine(e: EntryReport): string {
  const progressed = e.appliedThrough ? `, applied through ${e.appliedThrough}` : '';
  const since = e.parkedAt ? ` since ${e.parkedAt}` : '';
  const counts = e.applied || e.unchanged ? `: applied ${e.applied}, unchanged ${e.unchanged}` : '';
  return `  ${e.shardId} ${e.sk} ${e.first}..${e.last}${progressed}${since} — ${e.outcome}${counts}${e.error ? ` (${e.error})` : ''}`;
}

function render(r: ReplayReport): string[] {
  const out = [
    `${r.function} (${r.env}): ${r.entries.length} set-aside entr${r.entries.length === 1 ? 'y' : 'ies'}${r.dryRun ? ' — dry run, nothing changed' : ''}`,
  ];
  for (const e of r.entries) out.push(entryLine(e));
  if (r.failing > 0)
    out.push(`${r.failing} key(s) failing but not set aside: their shard waits and Lambda retries`);
  if (!r.dryRun) out.push(`applied ${r.applied} record(s); read ${r.recordsRead} record(s) from the stream`);
  return out;
}

export const command = defineCommand({
  name: 'replay',
  summary: 'Re-drive what a function set aside, now, exactly once',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    function: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run({ values }, io) {
    if (values.function === undefined)
      throw new UsageError(`pulse replay: --function is required (${FUNCTIONS.join(', ')})`);
    if (!isFunctionName(values.function))
      throw new UsageError(
        `--function must be one of ${FUNCTIONS.join(', ')}, got ${JSON.stringify(values.function)}`,
      );
    if (values['dry-run'] && values.yes)
      throw new UsageError('--dry-run changes nothing; --yes does not go with it');
    const fn = values.function;
    const env = envOption(values.env, io);
    const target = await io.connect(env);
    const bar = progress(io);
    const logger = quietLogger(io);
    try {
      const ledger = new FailureLedger({
        db: target.db,
        tableName: target.names.table('replay-ledger'),
        functionName: fn,
        now: io.now,
      });
      bar.update('reading the failure ledger…');
      const all = await ledger.all();
      const parked = all.filter((e) => e.status === 'parked');
      const dryRun = values['dry-run'] === true;
      if (!dryRun && parked.length > 0) {
        bar.done();
        await confirm(
          io,
          values.yes,
          `Re-drive ${parked.length} set-aside entr${parked.length === 1 ? 'y' : 'ies'} of ${fn} in ${env}?`,
        );
      }
      bar.update('re-driving…');
      const result = await redrive({
        ledger,
        source: new KinesisRangeSource({ kinesis: target.kinesis }),
        target: await redriveTarget(target, fn, logger, io.now),
        logger,
        now: io.now,
        force: true,
        dryRun,
      });
      bar.done();
      const report: ReplayReport = {
        function: fn,
        env,
        dryRun,
        failing: all.length - parked.length,
        ...result,
      };
      if (values.json) printJson(io, report);
      else for (const line of render(report)) println(io, line);
      if (dryRun) return EXIT.ok;
      return report.entries.every((e) => e.outcome === 'done') ? EXIT.ok : EXIT.incomplete;
    } finally {
      target.close();
    }
  },
});
