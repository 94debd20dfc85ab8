/**
 * `pulse alerts pending|republish`: the manual twin of fraud-rules' scheduled sweep. For a deployed
 * environment, republishing invokes the fraud-rules function with the schedule's input (plus the
 * operator's age and limit) and prints the summary it returns: the Publish, the claims and their
 * leases all happen in the function, never on the operator's machine. For `local` it runs the same
 * `republishPending` (services/fraud-rules/outbox.ts) here, on the machine the local functions run
 * on. Either way each alert goes through the leased claim, so it is published at most once per id
 * even if the sweep or a batch runs at the same time, and marked SENT after.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { alertLogFrom } from '../../services/fraud-rules/alerts.js';
import { loadConfig } from '../../services/fraud-rules/config.js';
import {
  emptySummary,
  REPUBLISH_INPUT,
  type RepublishRequest,
  type RepublishSummary,
  republishPending,
} from '../../services/fraud-rules/outbox.js';
import type { Logger } from '../../services/shared/logger.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  confirm,
  defineCommand,
  durationOption,
  EXIT,
  envOption,
  intOption,
  printJson,
  println,
  progress,
  UsageError,
  WRITE_OPTIONS,
} from './command.js';
import { ago, table } from './format.js';
import { functionEnvironment } from './function-env.js';
import { listFailed, listPending } from './pending.js';
import type { Target } from './target.js';

const USAGE = `Usage: pulse alerts pending [--status PENDING|FAILED] [--limit N] [--env E] [--json]
       pulse alerts republish [--older-than 10m] [--limit N] [--yes] [--env E] [--json]

pending     lists PENDING fraud alerts (recorded, not yet published to SNS), oldest first.
            With --status FAILED, the alerts parked as FAILED instead (SNS refused each one 5
            times for itself; the alerts-failed alarm), with their publishAttempts and lastError.
            They are read through the alerts table's status index (a Query of the FAILED key,
            never a Scan). Listing only: nothing here publishes a FAILED alert again.
republish   publishes them through fraud-rules' outbox (the code its scheduled sweep runs): each
            alert is claimed, published once and marked SENT; one claimed by someone else or
            already SENT is skipped. For a deployed environment this invokes the fraud-rules
            function (lambda:InvokeFunction on it) and prints the summary it returns; for local
            it runs here. Stops at the first systemic SNS failure (the rest stays
            PENDING); an alert SNS refuses for itself is skipped, and parked as FAILED at its 5th
            refusal.
            Asks first (or --yes; a non-interactive shell without --yes is refused).

Options:
  --older-than <d>  republish only alerts recorded at least this long ago, e.g. 90s, 10m, 2h
                    (default: the claim lease, 2m — younger ones belong to the batch raising them)
  --status <s>      pending only: PENDING (default) or FAILED
  --limit N         at most N alerts (default 1000, at most 100000)
  -y, --yes         do not ask before publishing
  --env <name>      local | dev | staging | prod (default $PULSE_ENV, else local)
  --json            print JSON (the list, or the republish summary)
  -h, --help        this help`;

async function fraudConfig(target: Target) {
  return loadConfig(await functionEnvironment(target, 'fraud-rules'));
}

/** republishPending logs through the services' Logger; the CLI shows warnings on stderr. */
function stderrLogger(io: CliIO): Logger {
  const write = (level: string) => (message: string, context?: Record<string, unknown>) => {
    const err = context?.error as Error | undefined;
    const cause = (err as { cause?: Error } | undefined)?.cause;
    io.stderr.write(
      `${level}: ${message}${context?.alertId ? ` ${context.alertId}` : ''}${err ? ` (${cause?.message ?? err.message})` : ''}\n`,
    );
  };
  return { debug: () => undefined, info: () => undefined, warn: write('warning'), error: write('error') };
}

type AlertItem = Record<string, unknown>;

/** The fraud-rules function refused or failed the republish invocation. */
export class RepublishInvokeError extends Error {
  constructor(functionName: string, detail: string) {
    super(`invoking ${functionName} to republish failed: ${detail}`);
    this.name = 'RepublishInvokeError';
  }
}

/** Runs the sweep in the deployed function: its clock and its SNS client, not this machine's. */
async function invokeSweep(target: Target, request: RepublishRequest): Promise<RepublishSummary> {
  const functionName = target.names.function('fraud-rules');
  const out = await target.lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(request)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) throw new RepublishInvokeError(functionName, `${out.FunctionError}: ${text}`);
  const summary = JSON.parse(text || 'null') as RepublishSummary | null;
  if (typeof summary?.found !== 'number')
    throw new RepublishInvokeError(functionName, `unexpected answer ${text.slice(0, 200)}`);
  return summary;
}

/** What a listing reads and how it shows one alert, per status. */
const LISTINGS = {
  PENDING: {
    read: listPending,
    row: (a: AlertItem, now: number) => [
      String(a.createdAt ?? '-'),
      `${ago(now - Date.parse(String(a.createdAt)))} ago`,
      String(a.severity ?? '').toUpperCase(),
      String(a.rule ?? ''),
      String(a.userId ?? ''),
      String(a.alertId ?? ''),
    ],
  },
  FAILED: {
    read: listFailed,
    row: (a: AlertItem) => [
      String(a.createdAt ?? '-'),
      String(a.severity ?? '').toUpperCase(),
      String(a.rule ?? ''),
      String(a.userId ?? ''),
      String(a.alertId ?? ''),
      `attempts ${String(a.publishAttempts ?? '-')}`,
      String(a.lastError ?? '-'),
    ],
  },
} as const;

async function list(
  io: CliIO,
  target: Target,
  status: keyof typeof LISTINGS,
  limit: number,
  json: boolean,
): Promise<number> {
  const { read, row } = LISTINGS[status];
  const items: AlertItem[] = await read(target, { limit });
  if (json) {
    printJson(io, items);
    return EXIT.ok;
  }
  println(
    io,
    `${items.length} ${status} alert(s) in ${target.names.table('alerts')}${items.length === limit ? ` (--limit ${limit} reached)` : ''}`,
  );
  if (items.length > 0) println(io, table(items.map((a) => row(a, io.now()))).join('\n'));
  return EXIT.ok;
}

export const command = defineCommand({
  name: 'alerts',
  summary: 'PENDING fraud alerts: list, republish; FAILED ones: list',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    'older-than': { type: 'string' },
    limit: { type: 'string' },
    status: { type: 'string' },
  },
  positionals: { min: 1, max: 1, names: 'what to do: pending or republish' },
  async run({ values, positionals }, io) {
    const action = positionals[0];
    if (action !== 'pending' && action !== 'republish')
      throw new UsageError(
        `pulse alerts: unknown action ${JSON.stringify(action)}; use pending or republish`,
      );
    const env = envOption(values.env, io);
    const limit = intOption('--limit', values.limit, 1_000, 100_000);
    if (action === 'pending' && (values['older-than'] !== undefined || values.yes))
      throw new UsageError('pulse alerts pending: --older-than and --yes belong to republish');
    if (action === 'republish' && values.status !== undefined)
      throw new UsageError(
        'pulse alerts republish: --status belongs to pending (republish sends PENDING alerts only)',
      );
    const status = values.status ?? 'PENDING';
    if (status !== 'PENDING' && status !== 'FAILED')
      throw new UsageError(
        `pulse alerts pending: --status must be PENDING or FAILED, got ${JSON.stringify(status)}`,
      );
    const minAgeMs =
      values['older-than'] === undefined
        ? undefined
        : durationOption('--older-than', values['older-than'], 0);

    const target = await io.connect(env);
    try {
      if (action === 'pending') return await list(io, target, status, limit, values.json === true);

      const config = await fraudConfig(target);
      const minAge = minAgeMs ?? config.alertLeaseSeconds * 1000;
      const cutoff = io.now() - minAge;
      const candidates = (await listPending(target, { limit })).filter(
        (a) => Date.parse(String(a.createdAt)) <= cutoff,
      );
      if (candidates.length === 0) {
        if (values.json) printJson(io, emptySummary());
        else println(io, `No PENDING alert older than ${ago(minAge)}: nothing to republish.`);
        return EXIT.ok;
      }
      await confirm(
        io,
        values.yes,
        `Republish ${candidates.length} PENDING alert(s) to ${target.names.topic('alerts')}?`,
      );
      let summary: RepublishSummary;
      if (target.env === 'local') {
        const alerts = alertLogFrom(config, { db: target.db, sns: target.sns, now: () => io.now() });
        const bar = progress(io);
        let n = 0;
        summary = await republishPending(alerts, {
          logger: stderrLogger(io),
          minAgeMs: minAge,
          maxAlerts: limit,
          shouldStop: () => {
            n += 1;
            bar.update(`alert ${n} of ~${candidates.length}…`);
            return false;
          },
        });
        bar.done();
      } else {
        const bar = progress(io);
        bar.update(`invoking ${target.names.function('fraud-rules')}…`);
        summary = await invokeSweep(target, { ...REPUBLISH_INPUT, minAgeMs: minAge, maxAlerts: limit });
        bar.done();
      }
      if (values.json) printJson(io, summary);
      else {
        println(
          io,
          `found ${summary.found}, published ${summary.published}, skipped ${summary.skipped} (already SENT or claimed by another deliverer), failed ${summary.failed}`,
        );
        if (summary.rejected + summary.parked > 0)
          println(
            io,
            `SNS refused ${summary.rejected + summary.parked} alert(s) for themselves: ${summary.rejected} stay PENDING (refusals counted), ${summary.parked} parked as FAILED (see their lastError).`,
          );
        if (summary.snsFailing)
          println(
            io,
            'SNS still fails: stopped; the rest stays PENDING. Run again once the topic accepts messages.',
          );
      }
      return summary.failed > 0 || summary.snsFailing ? EXIT.failed : EXIT.ok;
    } finally {
      target.close();
    }
  },
});
