/**
 * The benchmark must not rot: run it in tiny mode against the emulators and check that it produced
 * every expected row, with positive numbers, in the terminal table, JSON and Markdown. No timing
 * assertions: this machine's speed is not the test's business.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interpolateUsage, loadModel } from '../../cli/src/plan.js';
import { SHAPES } from '../../scripts/bench/cost.js';
import { COMPONENTS } from '../../scripts/bench/cost-model.js';
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
      ['re-drive', /^records read per record recovered/, { baseline: false }],
      ['re-drive', /^reads per record of the set-aside ranges/, { baseline: false }],
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

  it('the re-drive reads each record of the set-aside ranges at most twice', () => {
    expect(row('re-drive', /^reads per record of the set-aside ranges/).ours as number).toBeLessThanOrEqual(
      2,
    );
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
    // The rows table comes first; the dollars-per-million section follows it.
    const rowsTable = md.split('## Dollars per million events')[0] ?? '';
    expect(rowsTable.split('\n').filter((l) => l.startsWith('| ')).length).toBe(results.rows.length + 1);
    const table = terminalTable(results);
    expect(table).toContain('ours/baseline');
    expect(existsSync(join(outDir, 'stack', 'stack.json'))).toBe(false); // emulators stopped
  });

  it('prices every traffic shape for Pulse and the seed: units, requests, GB-s, Kinesis bytes, dollars', () => {
    for (const shape of SHAPES) {
      const totalRow = row('cost', new RegExp(`^${shape.key}: total as deployed \\(`));
      expect(totalRow.unit).toBe('$/M events');
      expect(totalRow.ours as number).toBeGreaterThan(0);
      expect(totalRow.baseline as number).toBeGreaterThan(totalRow.ours as number);
      // The archive is deployed by default: the shape's total with it adds the archive's own figure.
      const archived = row('cost', new RegExp(`^${shape.key}: total as deployed, with the event archive`));
      const archive = row('archive', /^archive total, first month/);
      expect(archive.ours as number).toBeGreaterThan(0);
      expect(archived.ours as number).toBeCloseTo((totalRow.ours as number) + (archive.ours as number), 9);
      // The seed sends one PutMetricData per event: 1,000 per 1,000 events, counted, not assumed.
      expect(row('cost', new RegExp(`^${shape.key}: metrics-emitter PutMetricData requests`)).baseline).toBe(
        1000,
      );
      expect(
        row('cost', new RegExp(`^${shape.key}: session-updater DynamoDB write units`)).ours,
      ).toBeGreaterThan(0);
      expect(
        row('cost', new RegExp(`^${shape.key}: session-updater Lambda GB-seconds`)).ours,
      ).toBeGreaterThan(0);
      expect(
        row('cost', new RegExp(`^${shape.key}: Kinesis bytes in per 1,000 events`)).ours,
      ).toBeGreaterThan(0);
      expect(row('cost', new RegExp(`^${shape.key}: distinct custom metrics`)).ours).toBeGreaterThan(0);
    }
    const md = readFileSync(results.files.md, 'utf8');
    expect(md).toContain('## Dollars per million events');
    expect(md).toContain('**with the event archive**');
    for (const c of COMPONENTS) expect(md).toContain(`| ${c} |`);
    const json = JSON.parse(readFileSync(results.files.json, 'utf8'));
    expect(json.cost.shapes.map((s: { shape: string }) => s.shape)).toEqual(SHAPES.map((s) => s.key));
    expect(existsSync(join(outDir, 'cost-model.json'))).toBe(true);
  });

  it("the planner's committed defaults agree with this fresh run within tolerance", () => {
    // The planner interpolates the committed figures at each fresh shape's user-batch share; the
    // per-user DynamoDB units and the record size must match what this run measured.
    const defaults = loadModel(join(__dirname, '..', '..', 'scripts', 'bench', 'cost-model.defaults.json'));
    const fresh = loadModel(join(outDir, 'cost-model.json'));
    for (const shape of fresh.shapes) {
      const batches = {
        'session-updater': shape.events,
        'fraud-rules': shape.events,
        'metrics-emitter': shape.events,
      };
      const predicted = interpolateUsage(
        defaults,
        shape.userBatchesPerEvent,
        shape.purchaseShare,
        batches,
        shape.averageEventBytes,
      );
      const units = (u: { readUnits: number; writeUnits: number }) => u.readUnits + u.writeUnits;
      const measured = units(shape.pulse.functions['session-updater']);
      const expected = units(predicted.functions['session-updater']);
      // "Every event a new user" is not interpolated towards (returning users are the high end:
      // their items exist), so there the planner may only overestimate.
      if (shape.shape === 'unique') expect(expected).toBeGreaterThanOrEqual(measured - 0.02);
      else expect(Math.abs(measured - expected)).toBeLessThanOrEqual(0.3 * measured + 0.02);
      const defaultShape = defaults.shapes.find((s) => s.shape === shape.shape);
      expect(defaultShape).toBeDefined();
      expect(Math.abs(shape.averageEventBytes - (defaultShape?.averageEventBytes ?? 0))).toBeLessThanOrEqual(
        0.1 * shape.averageEventBytes,
      );
    }
  });

  it('writes the HTML page next to them, one chart per area, every chart drawn', () => {
    const html = readFileSync(results.files.html, 'utf8');
    const charts = [...html.matchAll(/data-chart="bench-([^"]+)" data-marks="(\d+)"/g)];
    expect(charts.map((m) => m[1])).toEqual([...new Set(results.rows.map((r) => r.area))]);
    for (const [, , marks] of charts) expect(Number(marks)).toBeGreaterThan(0);
  });
});
