/**
 * `pulse user <userId>`: everything Pulse keeps about one user, on one screen — the open
 * session, the latest closed sessions, recently viewed products, fraud rule state and alerts.
 * Read-only. Alerts are keyed by alert id (not user), so they are found with a filtered Scan of
 * the alerts table; --no-alerts skips it on a large table.
 */
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { userKey } from '../../services/shared/failure/ledger.js';
import {
  COMMON_OPTIONS,
  defineCommand,
  EXIT,
  envOption,
  intOption,
  printJson,
  println,
  progress,
} from './command.js';
import { ago, money, table, time } from './format.js';
import type { Target } from './target.js';

const USAGE = `Usage: pulse user <userId> [--sessions N] [--no-alerts] [--env E] [--json]

Shows one user: whether a function set the user aside (and since when), the open session, the
latest closed sessions, recently viewed products, fraud rule state (recent purchases, cool-downs,
last country) and alerts. Reads only.

Options:
  --sessions N    closed sessions to show, newest first (default 5, at most 100)
  --no-alerts     skip the alerts (they are found by scanning the alerts table)
  --env <name>    local | dev | staging | prod (default $PULSE_ENV, else local)
  --json          print one JSON document
  -h, --help      this help`;

type Item = Record<string, unknown>;

export interface UserReport {
  userId: string;
  found: boolean;
  current?: Item;
  closedSessions: Item[];
  fraudState?: Item;
  alerts?: Item[];
  /** Failure-ledger entries of this user, per function and shard (set aside, or failing). */
  ledger?: Item[];
  ledgerError?: string;
}

export async function readUser(
  target: Target,
  userId: string,
  options: { sessions: number; alerts: boolean; onProgress?: (scanned: number) => void },
): Promise<UserReport> {
  const sessions = target.names.table('sessions');
  const [current, closed, fraud] = await Promise.all([
    target.db.send(new GetCommand({ TableName: sessions, Key: { userId, sk: 'CURRENT' } })),
    target.db.send(
      new QueryCommand({
        TableName: sessions,
        KeyConditionExpression: 'userId = :u AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':u': userId, ':s': 'SESSION#' },
        ScanIndexForward: false,
        Limit: options.sessions,
      }),
    ),
    target.db.send(new GetCommand({ TableName: target.names.table('fraud-state'), Key: { userId } })),
  ]);
  const report: UserReport = {
    userId,
    found: Boolean(current.Item || (closed.Items?.length ?? 0) > 0 || fraud.Item),
    current: current.Item,
    closedSessions: closed.Items ?? [],
    fraudState: fraud.Item,
  };
  try {
    report.ledger = await ledgerEntriesOf(target, userId);
  } catch (err) {
    report.ledgerError = (err as Error).message;
  }
  if (options.alerts) {
    const alerts: Item[] = [];
    let start: Item | undefined;
    let scanned = 0;
    do {
      const page = await target.db.send(
        new ScanCommand({
          TableName: target.names.table('alerts'),
          FilterExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': userId },
          ExclusiveStartKey: start,
        }),
      );
      alerts.push(...(page.Items ?? []));
      scanned += page.ScannedCount ?? 0;
      options.onProgress?.(scanned);
      start = page.LastEvaluatedKey;
    } while (start);
    alerts.sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')));
    report.alerts = alerts;
    if (alerts.length > 0) report.found = true;
  }
  return report;
}

/** The user's failure-ledger entries (the table is normally empty, so the Scan is one small page). */
async function ledgerEntriesOf(target: Target, userId: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await target.db.send(
      new ScanCommand({
        TableName: target.names.table('replay-ledger'),
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': userKey(userId) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

function sessionLine(s: Item): string[] {
  return [
    time(s.firstActivity),
    `→ ${time(s.lastActivity)}`,
    `${s.eventCount ?? 0} events`,
    `${s.pageViews ?? 0} pages, ${s.productViews ?? 0} products, ${s.addToCarts ?? 0} carts, ${s.purchases ?? 0} purchases`,
    `spent ${money(s.spent, s.totalSpent)}`,
  ];
}

export function renderUser(r: UserReport, now: number): string[] {
  const out: string[] = [];
  if (!r.found) return [`user ${r.userId}: nothing stored (no session, fraud state or alert)`];
  const cur = r.current;
  const session = cur?.session as Item | undefined;
  const totals = cur?.totals as Item | undefined;
  out.push(`user ${r.userId}`);
  for (const e of r.ledger ?? []) {
    const fn = String(e.pk).split('#')[0];
    out.push(
      e.status === 'parked'
        ? `SET ASIDE by ${fn} since ${e.parkedAt} (shard ${e.shardId}; re-drive ${e.expired ? 'cannot read the range: expired' : 'pending'}; ${e.error ?? ''})`
        : `failing in ${fn} since ${e.since} (${e.attempts} attempt(s); the shard retries)`,
    );
  }
  if (r.ledgerError) out.push(`failure ledger not read: ${r.ledgerError}`);
  out.push('');
  if (session) {
    out.push(
      `Open session ${session.sessionId} (last activity ${ago(now - Number(session.lastActivity))} ago)`,
    );
    out.push(...table([sessionLine(session)]));
  } else out.push('Open session: none');
  if (totals)
    out.push(
      `Totals: ${cur?.sessionCount ?? 0} sessions, ${totals.eventCount ?? 0} events, ${totals.purchases ?? 0} purchases, spent ${money(totals.spent, totals.totalSpent)}`,
    );
  const products = (cur?.recentProducts as string[] | undefined) ?? [];
  out.push(`Recently viewed: ${products.length ? products.join(', ') : 'none'}`);
  out.push('');
  out.push(`Closed sessions (latest ${r.closedSessions.length}):`);
  if (r.closedSessions.length === 0) out.push('  none');
  else out.push(...table(r.closedSessions.map(sessionLine)));
  out.push('');
  const f = r.fraudState;
  if (!f) out.push('Fraud state: none (no purchase seen)');
  else {
    const purchases = (f.recentPurchases as Item[] | undefined) ?? [];
    const cooldowns = Object.entries((f.lastAlertAt as Record<string, number> | undefined) ?? {});
    const last = f.lastCountry as Item | undefined;
    out.push(`Fraud state: ${purchases.length} recent purchase(s) in the velocity windows`);
    if (last) out.push(`  last country ${last.country} at ${time(last.timestamp)}`);
    out.push(
      `  last alert per rule: ${cooldowns.length ? cooldowns.map(([rule, at]) => `${rule} ${time(at)}`).join(', ') : 'none'}`,
    );
  }
  if (r.alerts) {
    out.push('');
    out.push(`Alerts (${r.alerts.length}):`);
    if (r.alerts.length === 0) out.push('  none');
    else
      out.push(
        ...table(
          r.alerts.map((a) => [
            time(a.createdAt),
            String(a.severity ?? '').toUpperCase(),
            String(a.rule ?? ''),
            String(a.status ?? ''),
            String(a.reason ?? ''),
          ]),
        ),
      );
  }
  return out;
}

export const command = defineCommand({
  name: 'user',
  summary: "One user's sessions, viewed products, fraud state and alerts",
  usage: USAGE,
  options: { ...COMMON_OPTIONS, sessions: { type: 'string' }, 'no-alerts': { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'the userId' },
  async run({ values, positionals }, io) {
    const env = envOption(values.env, io);
    const sessions = intOption('--sessions', values.sessions, 5, 100);
    const userId = positionals[0]!;
    const target = await io.connect(env);
    const bar = progress(io);
    try {
      const report = await readUser(target, userId, {
        sessions,
        alerts: !values['no-alerts'],
        onProgress: (scanned) => bar.update(`scanning alerts: ${scanned} item(s)…`),
      });
      bar.done();
      if (values.json) printJson(io, report);
      else for (const line of renderUser(report, io.now())) println(io, line);
      return report.found ? EXIT.ok : EXIT.failed;
    } finally {
      target.close();
    }
  },
});
