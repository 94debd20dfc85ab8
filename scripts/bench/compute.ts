/**
 * (4) Compute per record, measured on code bundled the way the functions ship: compute-tasks.ts is
 * bundled by esbuild with the build's options (scripts/build.ts: minified, node22 target, ESM)
 * and run in a child node process. Under tsx the figures run 10-20 % high (it keeps names and
 * wraps closures), and the ratios to the seed would not be what Lambda runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '../../lib/paths.js';
import { BUNDLE_OPTIONS } from '../build.js';
import type { ComputeOptions } from './compute-tasks.js';
import type { BenchContext, Row } from './types.js';

export async function benchCompute(ctx: BenchContext): Promise<Row[]> {
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'pulse-compute-'));
  try {
    const outfile = join(dir, 'compute.mjs');
    await build({
      ...BUNDLE_OPTIONS,
      sourcemap: false,
      stdin: {
        contents: [
          "import { computeRows } from './scripts/bench/compute-tasks.ts';",
          'const rows = await computeRows(JSON.parse(process.argv[2]), (m) => console.error(m));',
          'process.stdout.write(JSON.stringify(rows));',
        ].join('\n'),
        resolveDir: root,
        sourcefile: 'compute-entry.ts',
        loader: 'ts',
      },
      outfile,
    });
    const options: ComputeOptions = ctx.options.compute;
    const child = spawnSync(process.execPath, [outfile, JSON.stringify(options)], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const line of child.stderr.split('\n')) if (line.startsWith('  ')) ctx.log(line);
    if (child.status !== 0)
      throw new Error(`bundled compute bench exited ${child.status}: ${child.stderr.slice(-2000)}`);
    return JSON.parse(child.stdout) as Row[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
