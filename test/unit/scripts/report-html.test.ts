/**
 * The HTML pages without a browser (the browser test renders them): same numbers as the text
 * report, one chart per bench area (a new area such as cost becomes a chart by itself), an empty
 * series is shown as such rather than as a blank chart.
 */
import { benchHtml } from '../../../scripts/bench/html.js';
import { ratioOf } from '../../../scripts/bench/report.js';
import { demoHtml, reportLines } from '../../../scripts/demo/report.js';
import { columnChart, escapeHtml, niceMax, tickCount } from '../../../scripts/report/charts.js';
import { benchResultsFixture, demoReportFixture } from '../../browser/fixtures.js';

const charts = (html: string) =>
  [...html.matchAll(/data-chart="([^"]+)" data-marks="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);

describe('demo report page', () => {
  it('carries the text report verbatim and a chart for each picture the demo promises', () => {
    const report = demoReportFixture();
    const html = demoHtml(report);
    expect(html).toContain(escapeHtml(reportLines(report).join('\n')));
    expect(charts(html)).toEqual([
      ['events-per-minute', 2],
      ['revenue-per-minute', 4],
      ['purchases-per-minute', 2],
      ['aov-per-minute', 4],
      ['lag-per-function', 6],
      ['alerts-timeline', 4],
    ]);
  });

  it('says "no data" for an empty chart instead of drawing a blank one', () => {
    const report = { ...demoReportFixture(), alerts: [] };
    expect(demoHtml(report)).toMatch(
      /data-chart="alerts-timeline" data-marks="0">[\s\S]*?no data in this run/,
    );
  });
});

describe('bench page', () => {
  it('draws one chart per area, in the order of the rows', () => {
    const html = benchHtml(benchResultsFixture());
    expect(charts(html).map(([id]) => id)).toEqual([
      'bench-compute',
      'bench-session-updater',
      'bench-fraud-rules',
      'bench-metrics-emitter',
      'bench-producer',
    ]);
  });

  it('shows figures of a new area (cost, say) as a chart of their own, with the ratio', () => {
    const results = benchResultsFixture();
    const cost = {
      area: 'cost',
      metric: 'DynamoDB + CloudWatch per million events',
      unit: 'USD',
      ours: 0.42,
      baseline: 9.1,
      runs: 1,
    };
    results.rows.push({ ...cost, ratio: ratioOf(cost) });
    const html = benchHtml(results);
    expect(charts(html).at(-1)).toEqual(['bench-cost', 2]);
    expect(html).toContain('ours ÷ seed = 0.05×');
  });
});

describe('charts', () => {
  it('rounds axes up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0, 0.7, 3, 8, 1_590, 2_400, 13_215].map(niceMax)).toEqual([1, 1, 5, 10, 2_000, 2_500, 20_000]);
  });

  it('draws gridlines at round steps', () => {
    expect([50, 2_000, 2_500, 1, 20_000, 500].map(tickCount)).toEqual([5, 4, 5, 4, 4, 5]);
  });

  it('escapes text, so a product or rule name cannot inject markup', () => {
    const html = columnChart({
      id: 'x',
      title: '<script>alert(1)</script>',
      categories: ['"a"'],
      series: [{ name: 'n', values: [1] }],
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });
});
