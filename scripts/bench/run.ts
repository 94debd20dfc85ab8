/**
 * `make bench`: ours vs the seed design, same emulator, same data, same run.
 *
 *   npx tsx scripts/bench/run.ts [--quick] [--out .bench] [--only sessions,fraud,...]
 *
 * Prints a table and writes <out>/results.json, <out>/results.md and <out>/results.html (a chart
 * per area). Areas: compute (I/O stubbed),
 * sessions, fraud, metrics, producer, coldstart, e2e; each in its own module.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flagMessage, parseFlags, stringFlag } from '../../lib/flags.js';
import { repoRoot } from '../../lib/paths.js';
import { benchColdStart } from './coldstart.js';
import { benchCompute } from './compute.js';
import { benchCost, costMarkdown } from './cost.js';
import { benchEndToEnd } from './e2e.js';
import { openBenchEnv } from './env.js';
import { benchFraud } from './fraud.js';
import { benchHtml } from './html.js';
import { machineInfo } from './machine.js';
import { benchMetrics } from './metrics.js';
import { benchOptions, type Mode } from './options.js';
import { benchProducer } from './producer.js';
import { markdownTable, ratioOf, terminalTable, toJson } from './report.js';
import { benchSessions } from './sessions.js';
import type { BenchContext, BenchResults, Row } from './types.js';

export const AREAS = {
  compute: benchCompute,
  sessions: benchSessions,
  fraud: benchFraud,
  metrics: benchMetrics,
  producer: benchProducer,
  coldstart: benchColdStart,
  e2e: benchEndToEnd,
  cost: benchCost,
} as const;
export type Area = keyof typeof AREAS;

export interface RunOptions {
  mode: Mode;
  /** Output folder; default <repo>/.bench. */
  outDir?: string;
  /** Emulator state folder; default <outDir>/stack. */
  stateDir?: string;
  areas?: readonly Area[];
  log?: (message: string) => void;
}

export async function runBench(
  options: RunOptions,
): Promise<BenchResults & { files: { json: string; md: string; html: string } }> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => console.error(m));
  const outDir = resolve(options.outDir ?? join(repoRoot(), '.bench'));
  mkdirSync(outDir, { recursive: true });
  const env = await openBenchEnv(options.stateDir ?? join(outDir, 'stack'));
  const ctx: BenchContext = { env, options: benchOptions(options.mode), breakdown: {}, log };
  const rows: Row[] = [];
  try {
    for (const area of options.areas ?? (Object.keys(AREAS) as Area[])) {
      const t = Date.now();
      log(`${area}...`);
      try {
        rows.push(...(await AREAS[area](ctx)));
      } catch (err) {
        log(`${area} failed: ${(err as Error).stack ?? err}`);
        rows.push({
          area,
          metric: 'failed',
          unit: '',
          ours: null,
          baseline: null,
          runs: 0,
          note: `failed: ${(err as Error).message}`.slice(0, 300),
        });
      }
      log(`${area} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
  } finally {
    await env.close();
  }
  const results: BenchResults = {
    mode: options.mode,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine: machineInfo(),
    rows: rows.map((row) => ({ ...row, ratio: ratioOf(row) })),
    requestBreakdown: ctx.breakdown,
    ...(ctx.cost ? { cost: ctx.cost } : {}),
  };
  const files = {
    json: join(outDir, 'results.json'),
    md: join(outDir, 'results.md'),
    html: join(outDir, 'results.html'),
  };
  writeFileSync(files.json, toJson(results));
  writeFileSync(files.md, markdownTable(results) + (ctx.cost ? `\n${costMarkdown(ctx.cost)}` : ''));
  writeFileSync(files.html, benchHtml(results));
  // The capacity planner's per-event figures (cli/src/plan.ts reads this file when it exists).
  if (ctx.cost) writeFileSync(join(outDir, 'cost-model.json'), `${JSON.stringify(ctx.cost, null, 2)}\n`);
  return { ...results, files };
}

const EXPECTED = 'expected --quick, --tiny, --out <dir>, --only <areas>';

/** `make bench` flags; an unknown flag or a stray argument is an error that names it. */
export function parseBenchArgs(argv: readonly string[]): RunOptions {
  const flags = parseFlags(
    argv,
    {
      quick: { type: 'boolean' },
      tiny: { type: 'boolean' },
      out: { type: 'string' },
      only: { type: 'string' },
    },
    { fail: (problem) => new Error(`${flagMessage(problem)}: ${EXPECTED}`) },
  );
  const values = {
    tiny: flags.values.tiny,
    quick: flags.values.quick,
    out: stringFlag(flags, 'out'),
    only: stringFlag(flags, 'only'),
  };
  const options: RunOptions = { mode: values.tiny ? 'tiny' : values.quick ? 'quick' : 'full' };
  if (values.out !== undefined) options.outDir = values.out;
  if (values.only !== undefined) {
    const areas = values.only.split(',').filter(Boolean);
    const unknown = areas.filter((a) => !(a in AREAS));
    if (unknown.length > 0)
      throw new Error(`unknown area(s) ${unknown.join(', ')}: ${Object.keys(AREAS).join(', ')}`);
    options.areas = areas as Area[];
  }
  return options;
}

async function main(): Promise<void> {
  let options: RunOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const results = await runBench(options);
  console.log(terminalTable(results));
  console.log(`\nwritten: ${results.files.json}, ${results.files.md}, ${results.files.html}`);
  if (results.rows.some((r) => r.metric === 'failed')) process.exitCode = 1;
}

if (process.argv[1] && /scripts[/\\]bench[/\\]run\.ts$/.test(process.argv[1])) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
}
