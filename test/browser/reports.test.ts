/**
 * The demo report and the bench page, rendered in a real headless Chromium from realistic numbers
 * by the same functions `make demo` and `make bench` use. A page fails on any console error, any
 * request for something outside the file, or any chart with nothing drawn. Screenshots go to
 * .local/screenshots/ (git-ignored) for a person to look at.
 *
 * Without a browser the tests are skipped, and say so loudly: `make test` installs Debian's
 * chromium when it runs as root (CI does); elsewhere, `apt-get install chromium` or PULSE_BROWSER.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchHtml } from '../../scripts/bench/html.js';
import { formatNumber, formatRatio } from '../../scripts/bench/report.js';
import { reportLines, writeDemoHtml } from '../../scripts/demo/report.js';
import { BROWSER_SEARCH, findBrowser, type Rendered, renderPage } from '../helpers/browser.js';
import { benchResultsFixture, demoReportFixture } from './fixtures.js';

jest.setTimeout(60_000);

const browser = findBrowser();
if (!browser) {
  const banner = '!'.repeat(100);
  console.warn(
    `${banner}\nBROWSER TESTS SKIPPED: no Chromium found (looked at ${BROWSER_SEARCH}).\n` +
      'The demo and bench HTML pages were NOT rendered. Install one: apt-get install -y chromium\n' +
      `(make test does it when run as root), or set PULSE_BROWSER=/path/to/chrome.\n${banner}`,
  );
}
const describeInBrowser = browser ? describe : describe.skip;
const SCREENSHOTS = resolve(__dirname, '../../.local/screenshots');

function expectCleanPage(rendered: Rendered, charts: string[]): void {
  expect(rendered.consoleErrors).toEqual([]);
  expect(rendered.requests).toEqual([]);
  expect(rendered.charts.map((c) => c.id)).toEqual(charts);
  for (const chart of rendered.charts) {
    // An empty chart is a failure: every chart must have drawn values of visible size.
    expect({ id: chart.id, drawn: chart.visibleMarks > 0 && chart.visibleMarks === chart.marks }).toEqual({
      id: chart.id,
      drawn: true,
    });
    expect(chart.width).toBeGreaterThan(100);
    expect(chart.height).toBeGreaterThan(50);
  }
}

describeInBrowser(
  `HTML reports in headless Chromium${browser ? '' : ' (SKIPPED: no browser installed)'}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-pages-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('the demo report draws every chart, loads nothing from elsewhere and shows the text report numbers', async () => {
      const report = demoReportFixture();
      const file = writeDemoHtml(report, join(dir, 'demo-report.html'));
      const rendered = await renderPage(browser!, file, join(SCREENSHOTS, 'demo-report.png'));
      expectCleanPage(rendered, [
        'events-per-minute',
        'revenue-per-minute',
        'purchases-per-minute',
        'aov-per-minute',
        'lag-per-function',
        'alerts-timeline',
      ]);
      const marks = Object.fromEntries(rendered.charts.map((c) => [c.id, c.marks]));
      expect(marks).toMatchObject({
        'events-per-minute': 2,
        'revenue-per-minute': 4,
        'lag-per-function': 6,
        'alerts-timeline': 4,
      });
      // The same numbers as the text report: every line of it is on the page.
      const text = rendered.text.replace(/\s+/g, ' ');
      for (const line of reportLines(report).flatMap((l) => l.split('\n')))
        expect(text).toContain(line.replace(/\s+/g, ' ').trim());
      for (const shown of [
        '1,590',
        '11,594.70',
        '1,620.20',
        '158',
        '85.26',
        '73.65',
        '2,436 ms',
        'largePurchase',
        'countryHop',
      ])
        expect(text).toContain(shown);
      expect(statSync(rendered.screenshot).size).toBeGreaterThan(10_000);
    });

    it('the bench page draws a chart per area, ours vs the seed, with the ratios labelled', async () => {
      const results = benchResultsFixture();
      const file = join(dir, 'results.html');
      writeFileSync(file, benchHtml(results));
      const rendered = await renderPage(browser!, file, join(SCREENSHOTS, 'bench-results.png'));
      const areas = [...new Set(results.rows.map((r) => r.area))];
      expectCleanPage(
        rendered,
        areas.map((a) => `bench-${a}`),
      );
      const text = rendered.text.replace(/\s+/g, ' ');
      for (const row of results.rows) {
        expect(text).toContain(`ours ${formatNumber(row.ours)} ${row.unit}`);
        if (row.baseline !== null) {
          expect(text).toContain(`seed ${formatNumber(row.baseline)} ${row.unit}`);
          expect(text).toContain(`ours ÷ seed = ${formatRatio(row.ratio)}`);
        }
      }
      // Which way is better is said once per figure, beside the unit.
      expect(text).toContain('events/s, higher is better');
      expect(text).toContain('requests, lower is better');
      expect(statSync(rendered.screenshot).size).toBeGreaterThan(10_000);
    });

    it('pages are single files: no script, no stylesheet or image link, no external URL', () => {
      const pages = [
        readFileSync(writeDemoHtml(demoReportFixture(), join(dir, 'check.html')), 'utf8'),
        benchHtml(benchResultsFixture()),
      ];
      for (const html of pages) {
        expect(html).not.toMatch(/<script|<link|<img|https?:\/\/(?!www\.w3\.org)/i);
      }
    });
  },
);
