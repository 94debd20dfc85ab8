/**
 * (6) Cold start: each bundle's size, and in a fresh Node process the module load (import of
 * dist/<fn>/index.mjs: SDK, config, clients) and the first invocation (10 records, against the
 * emulator, so connections are opened too). Median of several fresh processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS, type FunctionName } from '../../lib/config.js';
import { repoRoot } from '../../lib/paths.js';
import { functionEnvironment } from '../local/resources.js';
import { stackEnv } from '../local/stack.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { aLambdaContextJson } from './lambda-context.js';
import { median } from './stats.js';
import type { BenchContext, Row } from './types.js';

const CHILD = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_BUNDLE_URL);
const t1 = performance.now();
// JSON carries the context's fields; the handlers also ask it for their remaining time.
const context = { ...JSON.parse(process.env.BENCH_CONTEXT), getRemainingTimeInMillis: () => 60000 };
const response = await mod.handler(JSON.parse(process.env.BENCH_EVENT), context);
const t2 = performance.now();
const failures = response && Array.isArray(response.batchItemFailures) ? response.batchItemFailures.length : -1;
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ bootMs: t0, loadMs: t1 - t0, invokeMs: t2 - t1, failures }) + '\\n');
process.exit(0);
`;

interface ColdSample {
  bootMs: number;
  loadMs: number;
  invokeMs: number;
  failures: number;
}

function coldStartOnce(
  bundle: string,
  env: Record<string, string>,
  event: string,
  fn: FunctionName,
): ColdSample {
  const { NODE_OPTIONS: _ignored, ...parentEnv } = process.env;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: {
      ...parentEnv,
      ...env,
      LOG_LEVEL: 'ERROR',
      BENCH_BUNDLE_URL: pathToFileURL(bundle).href,
      BENCH_EVENT: event,
      BENCH_CONTEXT: aLambdaContextJson(`pulse-bench-${fn}`),
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`cold start of ${fn} failed: ${child.stderr || child.stdout}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as ColdSample;
}

export async function benchColdStart(ctx: BenchContext): Promise<Row[]> {
  const { env, options } = ctx;
  const rows: Row[] = [];
  const root = repoRoot();
  for (const fn of FUNCTIONS) {
    const bundle = join(root, 'dist', fn, 'index.mjs');
    const zip = join(root, 'dist', `${fn}.zip`);
    if (!existsSync(bundle)) {
      rows.push({
        area: fn,
        metric: 'cold start',
        unit: 'ms',
        ours: null,
        baseline: null,
        runs: 0,
        note: 'not measured: dist/ missing, run `make build`',
      });
      continue;
    }
    const fnEnv = { ...functionEnvironment(fn, env.resources), ...stackEnv(env.state) };
    const samples: ColdSample[] = [];
    for (let run = 0; run < options.coldStart.runs; run++) {
      const events = makeEvents({
        count: 10,
        users: 5,
        prefix: `cs${run}${fn.slice(0, 2)}${Date.now().toString(36)}`,
        purchaseRate: 0.5,
      });
      const sample = coldStartOnce(bundle, fnEnv, JSON.stringify(toKinesisEvent(events)), fn);
      if (sample.failures !== 0) throw new Error(`${fn} first invoke reported ${sample.failures} failures`);
      samples.push(sample);
    }
    const m = (k: keyof ColdSample) => median(samples.map((s) => s[k]));
    rows.push(
      {
        area: fn,
        metric: 'bundle size (index.mjs / zip)',
        unit: 'KiB',
        ours: statSync(bundle).size / 1024,
        baseline: null,
        runs: 1,
        note: existsSync(zip) ? `zip ${(statSync(zip).size / 1024).toFixed(1)} KiB` : '',
      },
      {
        area: fn,
        metric: 'cold start: module load (import of the bundle)',
        unit: 'ms',
        ours: m('loadMs'),
        baseline: null,
        runs: samples.length,
        note: `fresh node process; node's own boot ${m('bootMs').toFixed(0)} ms before it`,
      },
      {
        area: fn,
        metric: 'cold start: first invoke (10 records, emulator)',
        unit: 'ms',
        ours: m('invokeMs'),
        baseline: null,
        runs: samples.length,
        note: 'includes opening connections',
      },
    );
    ctx.log(`  ${fn}: load ${m('loadMs').toFixed(0)} ms, first invoke ${m('invokeMs').toFixed(0)} ms`);
  }
  return rows;
}
