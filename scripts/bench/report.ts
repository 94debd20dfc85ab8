/** Result rows, and the three ways they are shown: terminal table, Markdown, JSON. */
import { describeMachine } from './machine.js';
import type { BenchResults, Row } from './types.js';

export function ratioOf(row: Row): number | null {
  if (row.ours === null || row.baseline === null || row.baseline === 0) return null;
  return row.ours / row.baseline;
}

export function formatNumber(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '—';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs >= 0.01) return value.toFixed(3);
  return value.toPrecision(2);
}

export function formatRatio(value: number | null): string {
  if (value === null) return '—';
  if (value >= 10) return `${Math.round(value)}×`;
  if (value >= 0.01) return `${value.toFixed(2)}×`;
  return `${value.toPrecision(2)}×`;
}

const HEADERS = ['area', 'metric', 'unit', 'ours', 'baseline', 'ours/baseline', 'runs', 'note'];

function cells(row: Row): string[] {
  return [
    row.area,
    row.metric,
    row.unit,
    formatNumber(row.ours),
    formatNumber(row.baseline),
    formatRatio(ratioOf(row)),
    String(row.runs),
    row.note ?? '',
  ];
}

export function terminalTable(results: BenchResults): string {
  const body = results.rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    `Pulse bench (${results.mode}) on ${describeMachine(results.machine)}; ${results.durationSeconds.toFixed(0)} s`,
    line(HEADERS),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

const escapePipes = (text: string): string => text.replace(/\|/g, '\\|');

export function markdownTable(results: BenchResults): string {
  const lines = [
    `Machine: ${describeMachine(results.machine)}. Mode: ${results.mode}; ${results.startedAt}; ${results.durationSeconds.toFixed(0)} s.`,
    'Each figure is the median of `runs` runs; ratio = ours / baseline (lower is better for requests, latency and sizes, higher for throughput).',
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (i >= 3 && i <= 6 ? '---:' : '---')).join('|')}|`,
    ...results.rows.map((row) => `| ${cells(row).map(escapePipes).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export function toJson(results: BenchResults): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}
