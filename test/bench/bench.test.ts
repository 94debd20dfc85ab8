/**
 * The benchmark must not rot: run it in tiny mode against the emulators and check that it produced
 * every expected row, with positive numbers, in the terminal table, JSON and Markdown. No timing
 * assertions: this machine's speed is not the test's business.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { terminalTable } from '../../scripts/bench/report.js';
import { runBench } from '../../scripts/bench/run.js';

jest.setTimeout(240_000);

const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter'];

describe('make bench (tiny mode)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  let results: Awaited<ReturnType<typeof runBench>>;

  beforeAll(async () => {
    results = await runBench({ mode: 'tiny', outDir, stateDir: join(outDir, 'stack'), log: () => {} });
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const row = (area: string, metric: RegExp) => {
    const found = results.rows.find((r) => r.area === area && metric.test(r.metric));
    if (!found)
      throw new Error(
        `no row ${area} / ${metric}: ${results.rows.map((r) => `${r.area} / ${r.metric}`).join('\n')}`,
      );
    return found;
  };

  it('finishes without a failed area', () => {
    expect(results.rows.filter((r) => r.metric === 'failed')).toEqual([]);
  });

  it('has every expected row, with positive figures, units and ratios where there is a baseline', () => {
    const expected: Array<[string, RegExp, { baseline: boolean }]> = [
      ['compute', /^floor: JSON\.parse alone/, { baseline: false }],
      ['compute', /^floor: base64 decode \+ JSON\.parse/, { baseline: false }],
      ...FUNCTIONS.map((fn): [string, RegExp, { baseline: boolean }] => [
        'compute',
        new RegExp(`^${fn}: decode \\+ validate \\+ aggregate`),
        { baseline: true },
      ]),
      ['session-updater', /^DynamoDB requests per 1,000 events \(batch 20, 5 users\)/, { baseline: true }],
      ['session-updater', /^throughput \(batch 20, 5 users\)/, { baseline: true }],
      ['session-updater', /^largest session item after 50 events of one user/, { baseline: true }],
      ['fraud-rules', /^DynamoDB \+ SNS requests per 1,000 events \(1 % purchases\)/, { baseline: true }],
      ['fraud-rules', /^throughput/, { baseline: true }],
      ['metrics-emitter', /^CloudWatch requests per batch/, { baseline: true }],
      ['metrics-emitter', /^throughput/, { baseline: true }],
      ['producer', /^records\/s into local Kinesis/, { baseline: true }],
      ['producer', /^in-process validate \+ encode \+ chunk/, { baseline: true }],
      ...FUNCTIONS.flatMap(
        (fn): Array<[string, RegExp, { baseline: boolean }]> => [
          [fn, /^bundle size/, { baseline: false }],
          [fn, /^cold start: module load/, { baseline: false }],
          [fn, /^cold start: first invoke/, { baseline: false }],
          [fn, /^end to end: .*p50$/, { baseline: false }],
          [fn, /^end to end: .*p99$/, { baseline: false }],
        ],
      ),
    ];
    for (const [area, metric, { baseline }] of expected) {
      const r = row(area, metric);
      expect(r.unit).not.toBe('');
      expect(r.runs).toBeGreaterThan(0);
      expect(r.ours).toEqual(expect.any(Number));
      expect(r.ours as number).toBeGreaterThan(0);
      if (baseline) {
        expect(r.baseline as number).toBeGreaterThan(0);
        expect(r.ratio as number).toBeGreaterThan(0);
      }
    }
  });

  it('counts requests rather than guessing them: ours batches, the seed does two per event', () => {
    const requests = row('session-updater', /^DynamoDB requests per 1,000 events/);
    expect(requests.baseline).toBe(2_000);
    expect(requests.ours as number).toBeLessThan(requests.baseline as number);
    expect(Object.keys(results.requestBreakdown).length).toBeGreaterThan(0);
  });

  it('writes JSON and Markdown with the machine, and prints a table', () => {
    const json = JSON.parse(readFileSync(results.files.json, 'utf8'));
    expect(json.machine).toEqual(
      expect.objectContaining({
        cpuModel: expect.any(String),
        cores: expect.any(Number),
        node: process.version,
      }),
    );
    expect(json.rows).toHaveLength(results.rows.length);
    const md = readFileSync(results.files.md, 'utf8');
    expect(md).toContain('| area | metric | unit | ours | baseline | ours/baseline | runs | note |');
    expect(md.split('\n').filter((l) => l.startsWith('| ')).length).toBe(results.rows.length + 1);
    const table = terminalTable(results);
    expect(table).toContain('ours/baseline');
    expect(existsSync(join(outDir, 'stack', 'stack.json'))).toBe(false); // emulators stopped
  });

  it('writes the HTML page next to them, one chart per area, every chart drawn', () => {
    const html = readFileSync(results.files.html, 'utf8');
    const charts = [...html.matchAll(/data-chart="bench-([^"]+)" data-marks="(\d+)"/g)];
    expect(charts.map((m) => m[1])).toEqual([...new Set(results.rows.map((r) => r.area))]);
    for (const [, , marks] of charts) expect(Number(marks)).toBeGreaterThan(0);
  });
});
