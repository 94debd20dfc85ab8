/**
 * Charts as inline SVG strings, for the demo and bench HTML pages. Drawn here rather than by a
 * chart library so the pages are one self-contained file that needs no network and no script.
 *
 * Every chart is a <figure data-chart="<id>" data-marks="<n>">, and every drawn value (column,
 * bar, marker) carries data-mark: the browser test checks that no chart is empty.
 */

export const COLORS = {
  ours: '#2563eb',
  seed: '#9ca3af',
  series: ['#2563eb', '#0d9488', '#d97706', '#7c3aed', '#db2777', '#65a30d'],
  severity: { high: '#dc2626', medium: '#f59e0b', low: '#10b981' } as Record<string, string>,
  grid: '#e5e7eb',
  axis: '#6b7280',
  text: '#111827',
};

const WIDTH = 760;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Money with cents and thousands separators: 13,214.90. */
export function money(value: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** Gridline count for an axis 0..max whose step is a round number (50 → 5 steps of 10, not 4 of 12.5). */
export function tickCount(max: number): number {
  const round = (step: number) => {
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    return [1, 2, 2.5, 5].some((m) => Math.abs(mantissa - m) < 1e-9);
  };
  return [4, 5, 2].find((n) => round(max / n)) ?? 4;
}

export function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${+(value / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US');
  return +value.toFixed(2) === 0 ? value.toPrecision(2) : String(+value.toFixed(2));
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function figure(id: string, title: string, marks: number, svg: string, caption?: string): string {
  return [
    `<figure class="chart" data-chart="${escapeHtml(id)}" data-marks="${marks}">`,
    `<figcaption><h3>${escapeHtml(title)}</h3>${caption ? `<p>${escapeHtml(caption)}</p>` : ''}</figcaption>`,
    marks === 0 ? '<p class="empty">no data in this run</p>' : svg,
    '</figure>',
  ].join('\n');
}

function legend(items: Array<{ label: string; color: string }>, x: number, y: number): string {
  let at = x;
  return items
    .map(({ label, color }) => {
      const out = `<rect x="${at}" y="${y - 9}" width="10" height="10" rx="2" fill="${color}"/><text x="${at + 14}" y="${y}" class="legend">${escapeHtml(label)}</text>`;
      at += 24 + label.length * 7;
      return out;
    })
    .join('');
}

export interface ColumnSeries {
  name: string;
  /** One value per category; null draws nothing (e.g. an average over no purchases). */
  values: Array<number | null>;
}

/** Vertical columns over categories (minutes), one column per series in each category. */
export function columnChart(options: {
  id: string;
  title: string;
  caption?: string;
  categories: string[];
  series: ColumnSeries[];
  /** Value labels and tooltips. */
  format?: (value: number) => string;
  /** Axis ticks; default compact. */
  tickFormat?: (value: number) => string;
  height?: number;
}): string {
  const { categories, series } = options;
  const format = options.format ?? compact;
  const tickFormat = options.tickFormat ?? compact;
  const height = options.height ?? 240;
  const m = { top: 16, right: 12, bottom: series.length > 1 ? 46 : 28, left: 56 };
  const plotW = WIDTH - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = niceMax(Math.max(0, ...values));
  const y = (v: number) => m.top + plotH - (Math.max(0, v) / max) * plotH;
  const parts: string[] = [];
  const ticks = tickCount(max);
  for (let i = 0; i <= ticks; i++) {
    const v = (max * i) / ticks;
    parts.push(
      `<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${r1(y(v))}" y2="${r1(y(v))}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 6}" y="${r1(y(v) + 4)}" text-anchor="end" class="tick">${escapeHtml(tickFormat(v))}</text>`,
    );
  }
  const band = plotW / Math.max(1, categories.length);
  const inner = Math.min(band * 0.8, 48 * series.length);
  const colW = inner / series.length;
  const labelEvery = Math.ceil(categories.length / 12);
  const showValues = categories.length * series.length <= 24;
  let marks = 0;
  categories.forEach((category, i) => {
    const x0 = m.left + i * band + (band - inner) / 2;
    series.forEach((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      marks += 1;
      const top = y(v);
      const h = Math.max(v > 0 ? 1 : 0, m.top + plotH - top);
      const x = x0 + j * colW;
      const color = COLORS.series[j % COLORS.series.length];
      parts.push(
        `<rect data-mark x="${r1(x)}" y="${r1(m.top + plotH - h)}" width="${r1(Math.max(1, colW - 2))}" height="${r1(h)}" fill="${color}"><title>${escapeHtml(`${category} ${s.name}: ${format(v)}`)}</title></rect>`,
      );
      if (showValues)
        parts.push(
          `<text x="${r1(x + colW / 2 - 1)}" y="${r1(m.top + plotH - h - 4)}" text-anchor="middle" class="value">${escapeHtml(format(v))}</text>`,
        );
    });
    if (i % labelEvery === 0)
      parts.push(
        `<text x="${r1(m.left + i * band + band / 2)}" y="${m.top + plotH + 16}" text-anchor="middle" class="tick">${escapeHtml(category)}</text>`,
      );
  });
  parts.push(
    `<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="${COLORS.axis}"/>`,
  );
  if (series.length > 1)
    parts.push(
      legend(
        series.map((s, j) => ({ label: s.name, color: COLORS.series[j % COLORS.series.length]! })),
        m.left,
        height - 8,
      ),
    );
  const svg = `<svg viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">${parts.join('')}</svg>`;
  return figure(options.id, options.title, marks, svg, options.caption);
}

export interface BarGroup {
  label: string;
  /** Shown under the label, e.g. the unit and which way is better. */
  note?: string;
  bars: Array<{ series: string; value: number | null; text?: string }>;
  /** Shown at the right of the label, e.g. "ours ÷ seed = 0.06×"; its tone colours it. */
  badge?: { text: string; tone: 'better' | 'worse' | 'neutral' };
}

const TONES = { better: '#15803d', worse: '#b91c1c', neutral: COLORS.text };

/**
 * Horizontal grouped bars, each group under its own label line (labels can be long). `scale:
 * 'group'` scales each group to its own largest bar, for groups in different units (bench: ours vs
 * the seed per metric); 'shared' uses one axis for all.
 */
export function barChart(options: {
  id: string;
  title: string;
  caption?: string;
  groups: BarGroup[];
  colors: Record<string, string>;
  scale: 'group' | 'shared';
  format?: (value: number) => string;
}): string {
  const format = options.format ?? compact;
  const barH = 14;
  const gap = 4;
  const left = 4;
  // Room to the right of the longest bar for its value label.
  const plotW = WIDTH - left - 170;
  const sharedMax = Math.max(
    0,
    ...options.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)).filter(Number.isFinite),
  );
  const parts: string[] = [];
  let top = 4;
  let marks = 0;
  for (const group of options.groups) {
    const drawn = group.bars.filter((b) => b.value !== null && Number.isFinite(b.value));
    const max = options.scale === 'shared' ? sharedMax : Math.max(0, ...drawn.map((b) => b.value as number));
    parts.push(`<text x="${left}" y="${top + 12}" class="label">${escapeHtml(group.label)}</text>`);
    if (group.badge)
      parts.push(
        `<text x="${WIDTH - 4}" y="${top + 12}" text-anchor="end" class="badge" fill="${TONES[group.badge.tone]}">${escapeHtml(group.badge.text)}</text>`,
      );
    if (group.note)
      parts.push(`<text x="${left}" y="${top + 27}" class="note">${escapeHtml(group.note)}</text>`);
    const barsTop = top + (group.note ? 35 : 20);
    group.bars.forEach((bar, j) => {
      const y = barsTop + j * (barH + gap);
      const color = options.colors[bar.series] ?? COLORS.series[j % COLORS.series.length]!;
      if (bar.value === null || !Number.isFinite(bar.value)) {
        parts.push(`<text x="${left}" y="${y + 11}" class="note">${escapeHtml(`${bar.series}: —`)}</text>`);
        return;
      }
      marks += 1;
      // A bar a thousand times smaller than its neighbour still shows as a sliver.
      const w = max > 0 ? Math.max(2, (bar.value / max) * plotW) : 2;
      const text = bar.text ?? format(bar.value);
      parts.push(
        `<rect data-mark x="${left}" y="${y}" width="${r1(w)}" height="${barH}" rx="2" fill="${color}"><title>${escapeHtml(`${group.label}, ${bar.series}: ${text}`)}</title></rect>`,
        `<text x="${r1(left + w + 5)}" y="${y + 11}" class="value">${escapeHtml(`${bar.series} ${text}`)}</text>`,
      );
    });
    top = barsTop + group.bars.length * (barH + gap) + 14;
  }
  const series = [...new Set(options.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  parts.push(
    legend(
      series.map((s, j) => ({
        label: s,
        color: options.colors[s] ?? COLORS.series[j % COLORS.series.length]!,
      })),
      left,
      top + 6,
    ),
  );
  const height = top + 14;
  const svg = `<svg viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">${parts.join('')}</svg>`;
  return figure(options.id, options.title, marks, svg, options.caption);
}

export interface TimelineEvent {
  /** Epoch ms. */
  at: number;
  lane: string;
  color: string;
  detail: string;
}

/** Markers on a time axis, one lane per kind (e.g. per fraud rule). */
export function timeline(options: {
  id: string;
  title: string;
  caption?: string;
  start: number;
  end: number;
  events: TimelineEvent[];
  legend?: Array<{ label: string; color: string }>;
}): string {
  const lanes = [...new Set(options.events.map((e) => e.lane))].sort();
  const laneH = 28;
  const m = { top: 10, left: 140, right: 16, bottom: options.legend ? 48 : 30 };
  const plotW = WIDTH - m.left - m.right;
  const height = m.top + Math.max(1, lanes.length) * laneH + m.bottom;
  const span = Math.max(1, options.end - options.start);
  const x = (t: number) =>
    m.left + (Math.min(Math.max(t, options.start), options.end) - options.start) * (plotW / span);
  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    const cy = m.top + i * laneH + laneH / 2;
    parts.push(
      `<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${cy}" y2="${cy}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 8}" y="${cy + 4}" text-anchor="end" class="label">${escapeHtml(lane)}</text>`,
    );
  });
  const axisY = m.top + Math.max(1, lanes.length) * laneH;
  parts.push(
    `<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${axisY}" y2="${axisY}" stroke="${COLORS.axis}"/>`,
  );
  const stepS = niceMax(span / 1000 / 6);
  for (let s = 0; s * 1000 <= span; s += stepS) {
    const tx = r1(x(options.start + s * 1000));
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${axisY}" y2="${axisY + 4}" stroke="${COLORS.axis}"/>`,
      `<text x="${tx}" y="${axisY + 16}" text-anchor="middle" class="tick">${compact(s)} s</text>`,
    );
  }
  for (const event of options.events) {
    const cy = m.top + lanes.indexOf(event.lane) * laneH + laneH / 2;
    parts.push(
      `<circle data-mark cx="${r1(x(event.at))}" cy="${cy}" r="6" fill="${event.color}" stroke="#fff" stroke-width="1.5"><title>${escapeHtml(event.detail)}</title></circle>`,
    );
  }
  if (options.legend) parts.push(legend(options.legend, m.left, height - 8));
  const svg = `<svg viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">${parts.join('')}</svg>`;
  return figure(options.id, options.title, options.events.length, svg, options.caption);
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: ${COLORS.text}; margin: 0; background: #f9fafb; }
main { max-width: 800px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 14px; margin: 0; }
.sub { color: ${COLORS.axis}; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; padding: 10px 12px; }
.card .k { color: ${COLORS.axis}; font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .d { color: ${COLORS.axis}; font-size: 12px; }
figure.chart { background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; margin: 12px 0; padding: 12px; overflow-x: auto; }
figcaption p { margin: 2px 0 8px; color: ${COLORS.axis}; font-size: 12px; }
svg { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg .tick { font-size: 11px; fill: ${COLORS.axis}; }
svg .value { font-size: 11px; fill: ${COLORS.text}; }
svg .label { font-size: 12px; font-weight: 600; fill: ${COLORS.text}; }
svg .note { font-size: 11px; fill: ${COLORS.axis}; }
svg .badge { font-size: 12px; font-weight: 600; }
svg .legend { font-size: 12px; fill: ${COLORS.text}; }
.empty { color: ${COLORS.axis}; font-style: italic; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 13px; }
th, td { border: 1px solid ${COLORS.grid}; padding: 4px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #111827; color: #f9fafb; padding: 12px; border-radius: 8px; overflow-x: auto; font-size: 12px; }
`;

/** A complete page: inline style, no scripts, nothing fetched. */
export function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load from elsewhere: the page is a file people open from disk or attach to a ticket.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body><main>',
    body,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

export function card(label: string, value: string, detail?: string): string {
  return `<div class="card"><div class="k">${escapeHtml(label)}</div><div class="v">${escapeHtml(value)}</div>${detail ? `<div class="d">${escapeHtml(detail)}</div>` : ''}</div>`;
}
