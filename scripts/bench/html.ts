/**
 * `.bench/results.html`: one chart per area, ours vs the seed as bars, the ratio labelled. Each
 * area is whatever rows carry that `area`, so new figures (cost per million events, say) appear as
 * their own chart, or as more bars in an existing one, without a change here.
 */
import { type BarGroup, barChart, COLORS, escapeHtml, page } from '../report/charts.js';
import { describeMachine } from './machine.js';
import { formatNumber, formatRatio } from './report.js';
import type { BenchResults, Row } from './types.js';

/** Throughput is the one kind of figure where more is better. */
export function higherIsBetter(row: Pick<Row, 'unit'>): boolean {
  return /\/s$/.test(row.unit);
}

/** "ours ÷ seed = 0.06×", green when ours is better, red when worse. */
function verdict(row: Row & { ratio: number | null }): BarGroup['badge'] {
  if (row.ratio === null) return undefined;
  const better = higherIsBetter(row) ? row.ratio > 1 : row.ratio < 1;
  const tone = row.ratio === 1 ? 'neutral' : better ? 'better' : 'worse';
  return { text: `ours ÷ seed = ${formatRatio(row.ratio)}`, tone };
}

function areaChart(area: string, rows: Array<Row & { ratio: number | null }>): string {
  const compared = rows.filter((r) => r.baseline !== null).length;
  return barChart({
    id: `bench-${area}`,
    title: area,
    caption:
      compared > 0
        ? 'ours vs the seed design, same emulators, same data; each pair of bars is scaled to its larger one; green: ours is better, red: worse'
        : 'ours only: the seed design has no counterpart for these figures',
    scale: 'group',
    colors: { ours: COLORS.ours, seed: COLORS.seed },
    groups: rows.map((row) => ({
      label: row.metric,
      note: `${row.unit}, ${higherIsBetter(row) ? 'higher' : 'lower'} is better; median of ${row.runs}`,
      bars: [
        { series: 'ours', value: row.ours, text: `${formatNumber(row.ours)} ${row.unit}` },
        ...(row.baseline !== null
          ? [{ series: 'seed', value: row.baseline, text: `${formatNumber(row.baseline)} ${row.unit}` }]
          : []),
      ],
      badge: verdict(row),
    })),
  });
}

export function benchHtml(results: BenchResults): string {
  const areas = new Map<string, Array<Row & { ratio: number | null }>>();
  const failed = results.rows.filter((r) => r.metric === 'failed');
  for (const row of results.rows) {
    if (row.metric === 'failed' || row.ours === null) continue;
    areas.set(row.area, [...(areas.get(row.area) ?? []), row]);
  }
  const body = [
    '<h1>Pulse bench: ours vs the seed design</h1>',
    `<p class="sub">${escapeHtml(`${describeMachine(results.machine)}. Mode ${results.mode}; ${results.startedAt}; ${results.durationSeconds.toFixed(0)} s.`)}</p>`,
    '<p>Throughput is bounded by the local emulators here; ratios and request counts are what carry over to AWS. Hover a bar for its value.</p>',
    ...failed.map((r) => `<p class="empty">${escapeHtml(`${r.area} failed: ${r.note ?? ''}`)}</p>`),
    ...[...areas].map(([area, rows]) => areaChart(area, rows)),
  ].join('\n');
  return page(`Pulse bench (${results.mode})`, body);
}
