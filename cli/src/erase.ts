/**
 * `pulse erase`: forget users everywhere Pulse keeps data, so that nothing comes back, and prove
 * it. Per run: (1) write each user's tombstone, from which moment the functions, pulse replay
 * and the archive writer drop their records; (2) wait until every function has re-read the
 * tombstone set and every invocation that started before has ended; (3) remove the users from
 * every place (erase/places.ts); (4) look again, and (5) record the outcome (erase/audit.ts).
 * `--list` shows the audit trail.
 */
import { readFileSync } from 'node:fs';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { DEPLOYED_FUNCTIONS, type DeployedFunction, loadFunction } from '../../lib/config.js';
import { DEFAULT_REFRESH_SECONDS, userHash } from '../../services/shared/tombstones.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  confirm,
  defineCommand,
  durationOption,
  EXIT,
  envOption,
  printJson,
  println,
  progress,
  UsageError,
  WRITE_OPTIONS,
} from './command.js';
import {
  beginErasure,
  type ErasureRecord,
  type ErasureStatus,
  erasureKey,
  finishErasure,
  listErasures,
  tombstoneMs,
} from './erase/audit.js';
import { type PlaceCount, walkPlaces } from './erase/places.js';
import { table, time } from './format.js';
import { functionEnvironment } from './function-env.js';
import type { Target } from './target.js';

const USAGE = `Usage: pulse erase --user ID [--user ID ...] [--yes] [--settle D] [--env E] [--json]
       pulse erase --file FILE [--yes] [--settle D] [--env E] [--json]
       pulse erase --list [--user ID] [--env E] [--json]

Forgets users everywhere Pulse keeps data: the sessions table (CURRENT and every closed session),
fraud state, alerts, failure-ledger entries, invalid-records messages that name them, and the S3
archive (current files rewritten without their rows, older versions holding them deleted). Every
other user's data stays exactly as it was. CloudWatch metrics and alarms are aggregates without a
user id and are not rewritten.

Order: (1) a tombstone per user (a keyed hash of the id, in pulse-<env>-erasures), from which the
functions, pulse replay and the archive writer drop the user's records; (2) a wait until every
function has re-read the tombstones and every invocation started before has ended (the longest
TOMBSTONE_REFRESH_SECONDS plus the longest function timeout, plus 5 s); (3) removal; (4) a second
look: the command exits 1 if anything of the user is left, 4 if some invalid-records messages were
held by another reader and could not be looked at (run it again later). Without --yes it only
shows what it would remove and asks; a non-interactive shell is refused.

Options:
  --user ID       a user to erase (repeatable); with --list: only that user's erasure
  --file FILE     users to erase, one id per line (blank lines and lines starting with # skipped)
  -y, --yes       do not ask
  --settle D      wait this long instead of the computed interval (e.g. 10s); shorter is unsafe
                  unless every function's refresh interval and batch time are shorter too
  --list          the audit trail: every erasure, pending and completed (no user ids are stored)
  --env <name>    local | dev | staging | prod (default $PULSE_ENV, else local)
  --json          print one JSON document
  -h, --help      this help`;

/** Slack on top of refresh + timeout: clock skew between this machine and the functions. */
const SETTLE_SLACK_MS = 5_000;

export interface ErasureResult {
  userId: string;
  userHash: string;
  status: ErasureStatus;
  removed: PlaceCount[];
  left: PlaceCount[];
}

/** Users from --user and --file, in order, without duplicates. */
export function usersFrom(values: { user?: string[]; file?: string }, read = readFileSync): string[] {
  const users = [...(values.user ?? [])];
  if (values.file !== undefined) {
    let text: string;
    try {
      text = read(values.file, 'utf8');
    } catch (err) {
      throw new UsageError(`--file ${values.file}: ${(err as Error).message}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const id = line.trim();
      if (id !== '' && !id.startsWith('#')) users.push(id);
    }
  }
  if (users.some((u) => u === '')) throw new UsageError('--user needs a non-empty id');
  return [...new Set(users)];
}

/**
 * A deployed function's environment and timeout; undefined for the archive writer when the
 * environment runs without an archive (Terraform archive.enabled = false deploys no writer).
 */
async function deployedConfiguration(
  target: Target,
  fn: DeployedFunction,
): Promise<{ env: Record<string, string | undefined>; timeout: number } | undefined> {
  try {
    const out = await target.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: target.names.function(fn) }),
    );
    return { env: out.Environment?.Variables ?? {}, timeout: out.Timeout ?? 900 };
  } catch (err) {
    if (fn === 'archive-writer' && (err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** How long until every writer has seen a tombstone written now and finished what it started before. */
export async function settleMs(target: Target): Promise<number> {
  let refreshSeconds = 0;
  let timeoutSeconds = 0;
  for (const fn of DEPLOYED_FUNCTIONS) {
    const config =
      target.env === 'local'
        ? { env: await functionEnvironment(target, fn), timeout: loadFunction(fn).timeout }
        : await deployedConfiguration(target, fn);
    if (!config) continue;
    refreshSeconds = Math.max(
      refreshSeconds,
      Number(config.env.TOMBSTONE_REFRESH_SECONDS ?? DEFAULT_REFRESH_SECONDS),
    );
    timeoutSeconds = Math.max(timeoutSeconds, config.timeout);
  }
  return (refreshSeconds + timeoutSeconds) * 1000 + SETTLE_SLACK_MS;
}

/** The archive bucket the writer fills; undefined when the environment has no archive. */
export async function archiveBucket(target: Target): Promise<string | undefined> {
  if (target.env === 'local') return (await functionEnvironment(target, 'archive-writer')).ARCHIVE_BUCKET;
  return (await deployedConfiguration(target, 'archive-writer'))?.env.ARCHIVE_BUCKET;
}

const total = (places: PlaceCount[]) => places.reduce((n, p) => n + p.count, 0);

function renderResult(r: ErasureResult): string[] {
  const left = new Map(r.left.map((p) => [p.place, p]));
  return [
    `${r.userId}: ${r.status} (audit key ${r.userHash.slice(0, 16)}…)`,
    ...table(
      r.removed.map((p) => {
        const after = left.get(p.place);
        return [
          `  ${p.place}`,
          `removed ${p.count}${p.files ? ` in ${p.files} file(s)` : ''}`,
          `left ${after?.count ?? 0}${after?.unchecked ? ` (+${after.unchecked} message(s) held elsewhere, unchecked)` : ''}`,
        ];
      }),
    ),
  ];
}

function renderSurvey(userId: string, places: PlaceCount[]): string[] {
  return [
    `${userId}: ${total(places)} item(s) would be removed`,
    ...table(
      places.map((p) => [
        `  ${p.place}`,
        `${p.count}${p.files ? ` in ${p.files} file(s)` : ''}`,
        p.unchecked ? `${p.unchecked} message(s) held elsewhere, not looked at` : '',
      ]),
    ),
  ];
}

function renderList(records: ErasureRecord[]): string[] {
  if (records.length === 0) return ['No erasures on record.'];
  return table([
    ['USER (keyed hash)', 'STATUS', 'REQUESTED', 'COMPLETED', 'REMOVED', 'TOMBSTONE UNTIL'],
    ...records.map((r) => [
      `${r.userHash.slice(0, 16)}…`,
      r.status,
      time(Date.parse(r.requestedAt)),
      r.completedAt ? time(Date.parse(r.completedAt)) : '-',
      r.removed
        ? Object.entries(r.removed)
            .filter(([, n]) => Number(n) > 0)
            .map(([place, n]) => `${place} ${n}`)
            .join(', ') || 'nothing'
        : '-',
      time(r.tombstoneUntil),
    ]),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function erase(
  target: Target,
  io: CliIO,
  users: string[],
  options: { yes?: boolean; settle?: number; json?: boolean },
): Promise<number> {
  const bar = progress(io);
  const key = await erasureKey(target);
  const bucket = await archiveBucket(target);

  if (!options.yes) {
    const surveys: Array<{ userId: string; places: PlaceCount[] }> = [];
    for (const userId of users) {
      bar.update(`looking for ${userId}…`);
      surveys.push({
        userId,
        places: await walkPlaces(target, userId, { remove: false, archiveBucket: bucket }),
      });
    }
    bar.done();
    if (options.json) printJson(io, { wouldRemove: surveys });
    else for (const s of surveys) for (const line of renderSurvey(s.userId, s.places)) println(io, line);
    await confirm(io, options.yes, `Erase ${users.length} user(s) from ${target.env}?`);
  }

  const { StreamDescriptionSummary } = await target.kinesis.send(
    new DescribeStreamSummaryCommand({ StreamName: target.names.stream }),
  );
  const tombstoneFor = tombstoneMs(StreamDescriptionSummary?.RetentionPeriodHours ?? 24 * 365);
  const hashes = new Map(users.map((u) => [u, userHash(key, u)]));
  for (const [userId, hash] of hashes) {
    bar.update(`tombstone for ${userId}…`);
    await beginErasure(target, hash, io.now(), tombstoneFor);
  }
  const wait = options.settle ?? (await settleMs(target));
  bar.update(`waiting ${Math.ceil(wait / 1000)} s for every function to see the tombstone(s)…`);
  await sleep(wait);

  const results: ErasureResult[] = [];
  for (const [userId, hash] of hashes) {
    bar.update(`erasing ${userId}…`);
    const removed = await walkPlaces(target, userId, { remove: true, archiveBucket: bucket });
    bar.update(`checking ${userId}…`);
    const left = await walkPlaces(target, userId, { remove: false, archiveBucket: bucket });
    const status = await finishErasure(target, hash, io.now(), removed, left);
    results.push({ userId, userHash: hash, status, removed, left });
  }
  bar.done();
  if (options.json) printJson(io, { erasures: results });
  else for (const r of results) for (const line of renderResult(r)) println(io, line);
  if (results.some((r) => r.left.some((p) => p.count > 0))) return EXIT.failed;
  if (results.some((r) => r.status !== 'COMPLETED')) return EXIT.incomplete;
  return EXIT.ok;
}

export const command = defineCommand({
  name: 'erase',
  summary: 'Forget users everywhere (tables, invalid records, archive), tombstone them, list erasures',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    user: { type: 'string', multiple: true },
    file: { type: 'string' },
    list: { type: 'boolean' },
    settle: { type: 'string' },
  },
  async run({ values }, io) {
    const env = envOption(values.env, io);
    const settle = values.settle === undefined ? undefined : durationOption('--settle', values.settle, 0);
    if (values.list) {
      if (values.file !== undefined || values.yes || settle !== undefined)
        throw new UsageError('pulse erase --list takes only --user, --env and --json');
    }
    const users = usersFrom({ user: values.user, file: values.file });
    if (!values.list && users.length === 0)
      throw new UsageError(
        'pulse erase: name the users with --user ID or --file FILE (see pulse erase --help)',
      );
    const target = await io.connect(env);
    try {
      if (values.list) {
        let records = await listErasures(target);
        if (users.length > 0) {
          const key = await erasureKey(target);
          const wanted = new Set(users.map((u) => userHash(key, u)));
          records = records.filter((r) => wanted.has(r.userHash));
        }
        if (values.json) printJson(io, { erasures: records });
        else for (const line of renderList(records)) println(io, line);
        return EXIT.ok;
      }
      return await erase(target, io, users, { yes: values.yes, settle, json: values.json });
    } finally {
      target.close();
    }
  },
});
