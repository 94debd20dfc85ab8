/**
 * Bundles each function on its own with esbuild and zips it deterministically:
 * dist/<fn>/index.mjs (+ .map) and dist/<fn>.zip. Same input gives the same zip bytes (fixed
 * mtimes, sorted entries), so Terraform's source_code_hash changes only when the code does.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { flagMessage, parseFlags } from './cli.js';

export const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter'] as const;
const ROOT = new URL('..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist');
// 1980-01-01 is the earliest time a zip entry can carry; any fixed value makes the bytes stable.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

async function bundle(fn: string): Promise<{ fn: string; bundleBytes: number; zipBytes: number }> {
  const outdir = join(DIST, fn);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'services', fn, 'handler.ts')],
    outfile: join(outdir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    // Prefer the SDK's ES module builds: esbuild can only tree-shake ESM.
    mainFields: ['module', 'main'],
    target: 'node20',
    format: 'esm',
    minify: true,
    treeShaking: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    // The SDK bundles some CommonJS; give it a real `require` inside an ES module.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  const code = await readFile(join(outdir, 'index.mjs'));
  const map = await readFile(join(outdir, 'index.mjs.map'));
  const zip = zipSync(
    {
      'index.mjs': [code, { mtime: ZIP_MTIME }],
      'index.mjs.map': [map, { mtime: ZIP_MTIME }],
    },
    { level: 9 },
  );
  await writeFile(join(DIST, `${fn}.zip`), zip);
  return { fn, bundleBytes: (await stat(join(outdir, 'index.mjs'))).size, zipBytes: zip.byteLength };
}

async function main(): Promise<void> {
  // Positionals are function names; there are no flags, so any `--x` is an error naming it.
  const only = parseFlags(
    process.argv.slice(2),
    {},
    {
      positionals: true,
      fail: (problem) => new Error(`${flagMessage(problem)}; usage: build.ts [function...]`),
    },
  ).positionals;
  const unknown = only.filter((fn) => !(FUNCTIONS as readonly string[]).includes(fn));
  if (unknown.length > 0) {
    throw new Error(`unknown function(s): ${unknown.join(', ')}; expected one of ${FUNCTIONS.join(', ')}`);
  }
  const targets = only.length > 0 ? only : [...FUNCTIONS];
  const results = await Promise.all(targets.map(bundle));
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`.padStart(11);
  console.log(`${'function'.padEnd(18)}${'index.mjs'.padStart(11)}${'zip'.padStart(11)}`);
  for (const r of results) console.log(`${r.fn.padEnd(18)}${kb(r.bundleBytes)}${kb(r.zipBytes)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
