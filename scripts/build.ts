/**
 * Bundles each function on its own with esbuild and zips it deterministically:
 * dist/<fn>/index.mjs (+ .map), dist/<fn>/tracer.mjs (+ .map: the X-Ray tracer, which index.mjs
 * imports only when tracing is active) and dist/<fn>.zip with the two modules. Same input gives
 * the same zip bytes (fixed mtimes, sorted entries), so Terraform's source_code_hash changes only
 * when the code does.
 *
 * The source maps stay in dist/ and out of the zip. Lambda reads them only with
 * NODE_OPTIONS=--enable-source-maps, which makes every error stack trace parse the map (slower
 * errors, more memory) for file:line names the logs do not need: errors carry a message and an
 * error name, and a stack from production is mapped offline against dist/<fn>/*.map of the same
 * build (the local runner does use them). Without them the zip is less than half the size, so
 * deploys upload less and a cold start downloads and unpacks less.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { zipSync } from 'fflate';
import { flagMessage, parseFlags } from '../lib/flags.js';

export const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter', 'archive-writer'] as const;
const ROOT = new URL('..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist');
// 1980-01-01 is the earliest time a zip entry can carry; any fixed value makes the bytes stable.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

const TRACER_PACKAGE = '@aws-lambda-powertools/tracer';

/**
 * Leaves the tracer out of index.mjs: its dynamic import() points at ./tracer.mjs, bundled on its
 * own. Inlined, it would add ~124 KiB that every cold start parses, tracing or not.
 */
const tracerOnItsOwn: Plugin = {
  name: 'tracer-on-its-own',
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/tracer$/ }, () => ({
      path: './tracer.mjs',
      external: true,
    }));
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  // Prefer the SDK's ES module builds: esbuild can only tree-shake ESM.
  mainFields: ['module', 'main'],
  // What Lambda runs (runtime nodejs22.x in Terraform), not what the local tools need.
  target: 'node22',
  format: 'esm',
  minify: true,
  treeShaking: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // The SDK bundles some CommonJS; give it a real `require` inside an ES module.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
};

/** What goes into the zip: the modules, not their source maps (see the top of this file). */
const FILES = ['index.mjs', 'tracer.mjs'];

async function bundle(fn: string): Promise<{ fn: string; bundleBytes: number; zipBytes: number }> {
  const outdir = join(DIST, fn);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await Promise.all([
    build({
      ...COMMON,
      entryPoints: [join(ROOT, 'services', fn, 'handler.ts')],
      outfile: join(outdir, 'index.mjs'),
      plugins: [tracerOnItsOwn],
    }),
    build({
      ...COMMON,
      stdin: {
        contents: `export { Tracer } from '${TRACER_PACKAGE}';`,
        resolveDir: ROOT,
        sourcefile: 'tracer.ts',
      },
      outfile: join(outdir, 'tracer.mjs'),
    }),
  ]);
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {};
  for (const file of FILES) entries[file] = [await readFile(join(outdir, file)), { mtime: ZIP_MTIME }];
  const zip = zipSync(entries, { level: 9 });
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
