/**
 * What `make demo` found, as one value, and its two views: the text report printed at the end of
 * the run and the self-contained HTML page. Both are made from the same value, so they show the
 * same numbers; the page carries the text report verbatim as well.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTotals, type MoneyTotals } from '../../services/shared/money.js';
import type { MappingStats } from '../local/mapping.js';
import { formatStats } from '../local/runner.js';
import { formatResult, type SlidingWindowResult } from '../metrics/query.js';
import {
  barChart,
  COLORS,
  card,
  columnChart,
  compact,
  escapeHtml,
  money,
  page,
  timeline,
} from '../report/charts.js';

export interface DemoAlert {
  /** When the demo received it (epoch ms). */
  at: number;
  severity: string;
  rule: string;
  subject: string;
}

export interface MinuteNumbers {
  /** Start of the minute, epoch ms (event time, as the metrics are bucketed). */
  minute: number;
  events: number;
  purchases: number;
  /** Currency -> revenue in the minute (major units). */
  revenue: Record<string, number>;
  /** Currency -> purchases counted in that currency (OrderValue's sample count). */
  orders: Record<string, number>;
}

export interface DemoReport {
  traffic: { seed: number; events: number; users: number; rate: number; duration: number; shards: number };
  /** Epoch ms: runner start, first send, everything processed, report made. */
  times: { runnerStartedAt: number; sendStartedAt: number; caughtUpAt: number; finishedAt: number };
  sent: { sent: number; failed: number; rate: number };
  functions: MappingStats[];
  sessions: { users: number; opened: number; closed: number; expectedOpened: number; expectedClosed: number };
  topProducts: Array<[string, number]>;
  alerts: DemoAlert[];
  expectedAlertRules: string[];
  window: SlidingWindowResult;
  perMinute: MinuteNumbers[];
  truth: { events: number; purchases: number; revenue: MoneyTotals };
  warnings: string[];
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function firstProcessedAt(report: DemoReport): number {
  return Math.min(...report.functions.map((s) => s.firstProcessedAt ?? Number.POSITIVE_INFINITY));
}

/** The text report, line by line, as the demo prints it. */
export function reportLines(report: DemoReport): string[] {
  const { sent, times, sessions, truth } = report;
  return [
    `  sent ${sent.sent} events (${sent.failed} failed) at ${sent.rate.toFixed(1)} events/s; all processed ${seconds(times.caughtUpAt - times.sendStartedAt)} s after the first was sent`,
    formatStats(report.functions, times.runnerStartedAt).replace(/^/gm, '  '),
    `  time to first processed event: ${seconds(firstProcessedAt(report) - times.sendStartedAt)} s after sending began`,
    `  sessions: ${sessions.users} users, ${sessions.opened} opened, ${sessions.closed} closed (expected ${sessions.expectedOpened} / ${sessions.expectedClosed})`,
    `  top products viewed: ${report.topProducts
      .slice(0, 5)
      .map(([p, n]) => `${p} (${n})`)
      .join(', ')}`,
    `  fraud alerts: ${report.alerts.length} received (expected ${report.expectedAlertRules.length}: ${report.expectedAlertRules.join(', ')})`,
    formatResult(report.window).replace(/^/gm, '  '),
    `  (truth for the traffic: ${truth.events} events, ${truth.purchases} purchases, revenue ${formatTotals(truth.revenue)})`,
  ];
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const orNa = (v: number | null, digits: number) => (v === null ? 'n/a' : v.toFixed(digits));

function perMinuteCharts(report: DemoReport): string {
  const minutes = report.perMinute;
  const categories = minutes.map((m) => hhmm(m.minute));
  const caption = 'per event-time minute (UTC), read back from CloudWatch';
  // Money never adds across currencies: one series per currency seen in the run.
  const currencies = [...new Set(minutes.flatMap((m) => Object.keys(m.revenue)))].sort();
  return [
    columnChart({
      id: 'events-per-minute',
      title: 'Events per minute',
      caption,
      categories,
      series: [{ name: 'events', values: minutes.map((m) => m.events) }],
    }),
    columnChart({
      id: 'revenue-per-minute',
      title: 'Revenue per minute, per currency',
      caption,
      categories,
      series: currencies.map((c) => ({ name: c, values: minutes.map((m) => m.revenue[c] ?? 0) })),
      format: money,
    }),
    columnChart({
      id: 'purchases-per-minute',
      title: 'Purchases per minute',
      caption,
      categories,
      series: [{ name: 'purchases', values: minutes.map((m) => m.purchases) }],
    }),
    columnChart({
      id: 'aov-per-minute',
      title: 'Average order value per minute, per currency',
      caption: 'revenue ÷ purchases in that currency in the minute; none where a minute had no purchase',
      categories,
      series: currencies.map((c) => ({
        name: c,
        values: minutes.map((m) =>
          (m.orders[c] ?? 0) > 0 ? (m.revenue[c] ?? 0) / (m.orders[c] ?? 1) : null,
        ),
      })),
      format: money,
    }),
  ].join('\n');
}

function lagChart(report: DemoReport): string {
  return barChart({
    id: 'lag-per-function',
    title: 'Pipeline lag per function (ms)',
    caption: 'now − arrival on the stream, when a record’s batch succeeded: average and maximum over the run',
    scale: 'shared',
    colors: { average: COLORS.series[0]!, maximum: COLORS.series[2]! },
    groups: report.functions.map((s) => ({
      label: s.fn,
      note: `${s.processed} processed, ${s.invocations} invocations`,
      bars: [
        { series: 'average', value: s.lagMs.avg, text: `${compact(s.lagMs.avg)} ms` },
        { series: 'maximum', value: s.lagMs.max, text: `${compact(s.lagMs.max)} ms` },
      ],
    })),
  });
}

function alertTimeline(report: DemoReport): string {
  const severities = [...new Set(report.alerts.map((a) => a.severity))].sort();
  return timeline({
    id: 'alerts-timeline',
    title: `Fraud alerts (${report.alerts.length} received, ${report.expectedAlertRules.length} expected)`,
    caption: 'when each alert reached the demo’s SNS subscription, seconds after sending began',
    start: report.times.sendStartedAt,
    end: Math.max(report.times.finishedAt, ...report.alerts.map((a) => a.at)),
    events: report.alerts.map((a) => ({
      at: a.at,
      lane: a.rule,
      color: COLORS.severity[a.severity] ?? COLORS.axis,
      detail: `${seconds(a.at - report.times.sendStartedAt)} s: ${a.severity} ${a.rule}: ${a.subject}`,
    })),
    legend: severities.map((s) => ({ label: s, color: COLORS.severity[s] ?? COLORS.axis })),
  });
}

function functionTable(report: DemoReport): string {
  const head = [
    'function',
    'received',
    'processed',
    'to DLQ',
    'invokes',
    'errors',
    'lag avg ms',
    'lag max ms',
  ];
  const rows = report.functions.map((s) =>
    [
      s.fn,
      s.received,
      s.processed,
      s.sentToDestination,
      s.invocations,
      s.functionErrors,
      s.lagMs.avg,
      s.lagMs.max,
    ]
      .map((v, i) => (i === 0 ? `<td>${escapeHtml(String(v))}</td>` : `<td class="n">${v}</td>`))
      .join(''),
  );
  return `<table><thead><tr>${head.map((h, i) => `<th${i ? ' class="n"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
}

/** The HTML page: cards, charts, the per-function table and the text report. */
export function demoHtml(report: DemoReport): string {
  const { traffic, sent, sessions, window } = report;
  const processed = Math.min(...report.functions.map((s) => s.processed));
  const cards = [
    card(
      'events sent',
      sent.sent.toLocaleString('en-US'),
      `${sent.failed} failed, ${sent.rate.toFixed(1)}/s`,
    ),
    card(
      'processed by every function',
      processed.toLocaleString('en-US'),
      `all within ${seconds(report.times.caughtUpAt - report.times.sendStartedAt)} s`,
    ),
    card(
      'sessions opened',
      String(sessions.opened),
      `expected ${sessions.expectedOpened}; ${sessions.closed} closed (expected ${sessions.expectedClosed})`,
    ),
    card('fraud alerts', String(report.alerts.length), `expected ${report.expectedAlertRules.length}`),
    card('events/min', orNa(window.eventsPerMinute, 1), `${window.windowMinutes}-minute window`),
    card('purchases/min', orNa(window.purchasesPerMinute, 2)),
    ...Object.entries(window.byCurrency)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([currency, n]) => [
        card('revenue/min', orNa(n.revenuePerMinute, 2), currency),
        card('avg order value', orNa(n.averageOrderValue, 2), currency),
      ]),
  ];
  const body = [
    '<h1>Pulse demo report</h1>',
    `<p class="sub">seed ${traffic.seed}: ${traffic.events} events, ${traffic.users} users, ${traffic.rate}/s for ${traffic.duration} s on ${traffic.shards} shards; ${escapeHtml(new Date(report.times.sendStartedAt).toISOString())}</p>`,
    ...report.warnings.map((w) => `<p class="empty">${escapeHtml(w)}</p>`),
    `<div class="cards">${cards.join('')}</div>`,
    '<h2>Traffic over the run</h2>',
    perMinuteCharts(report),
    '<h2>Functions</h2>',
    lagChart(report),
    functionTable(report),
    '<h2>Alerts</h2>',
    alertTimeline(report),
    '<h2>Text report</h2>',
    `<pre>${escapeHtml(reportLines(report).join('\n'))}</pre>`,
  ].join('\n');
  return page(`Pulse demo report, seed ${traffic.seed}`, body);
}

/** Writes the page; returns its path. */
export function writeDemoHtml(report: DemoReport, path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, demoHtml(report));
  return path;
}
