/**
 * The import graph of the code (services/, lib/, cli/, scripts/) has no circle, type-only imports
 * included, and runs one way between the layers:
 *
 *   services/  the functions and the producer: imports nothing of the repository outside services/
 *   lib/       what cli/ and scripts/ share (specs, SDK clients, paths, Lambda event shapes, flags,
 *              GetMetricData, the archive's local DuckDB engine): imports services/ and lib/ only
 *   cli/       the pulse command: services/, lib/, itself (and the bench's cost model, see below)
 *   scripts/   real scripts (local stack, demo, bench, traffic, Terraform helpers): never cli/;
 *              scripts/local/ (the local stack) never imports the other scripts
 *
 * Imports are read with regular expressions (no TypeScript compiler): static `import`/`export ...
 * from`, side-effect imports and dynamic `import('...')` with a relative specifier.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const AREAS = ['services', 'lib', 'cli', 'scripts'];
const SOURCE = /\.(ts|mts|mjs)$/;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative specifiers a module imports, type-only ones included; comments and strings in code ignored. */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const patterns = [
    /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?[\w*\s{},$]*?\s*from\s*['"]([^'"]+)['"]/g,
    /(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1] as string);
  return found.filter((s) => s.startsWith('.'));
}

/** file -> the repository files it imports (paths relative to the root). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps: string[] = [];
    for (const spec of importSpecifiers(readFileSync(join(ROOT, file), 'utf8'))) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
      const candidates = [
        target,
        target.replace(/\.js$/, '.ts'),
        target.replace(/\.mjs$/, '.mts'),
        `${target}.ts`,
      ];
      const hit = candidates.find((c) => known.has(c));
      if (hit) deps.push(hit);
      else if (/\.(js|ts|mjs|mts)$/.test(target) && target.split('/')[0] !== '..')
        throw new Error(`${file} imports ${spec}, which is not a source file here`);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components with more than one module (or a module importing itself). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Which imports between areas are allowed: `from` may import `to`. */
function allowed(from: string, to: string): boolean {
  const area = (f: string) => f.split('/')[0] as string;
  const [a, b] = [area(from), area(to)];
  if (a === b) {
    // The local stack is what the other scripts build on, never the other way round.
    if (a === 'scripts' && from.startsWith('scripts/local/')) return to.startsWith('scripts/local/');
    return true;
  }
  if (a === 'services') return false;
  if (a === 'lib') return b === 'services';
  if (a === 'cli')
    // The capacity planner prices with the bench's measured cost model (left in scripts/bench
    // while that model is being reworked there); nothing else of scripts/.
    return b === 'services' || b === 'lib' || CLI_TO_BENCH.has(`${from} -> ${to}`);
  if (a === 'scripts') return b === 'services' || b === 'lib';
  return false;
}
const CLI_TO_BENCH = new Set([
  'cli/src/plan.ts -> scripts/bench/cost-model.ts',
  'cli/src/plan.ts -> scripts/bench/types.ts',
  // The archive's cost per event is measured by encoding generated traffic (the bench's traffic
  // generator); the planner prices the archive with that same model rather than a copy of it.
  'cli/src/plan.ts -> scripts/bench/archive-cost.ts',
  // Handler time on AWS is estimated by running the domain code over a batch of the workload's
  // shape with latency stand-ins: the bench's compute harness and traffic generator, not a copy.
  'cli/src/plan.ts -> scripts/bench/compute-tasks.ts',
  'cli/src/plan.ts -> scripts/bench/data.ts',
]);

describe('the import graph', () => {
  const files = AREAS.flatMap((a) => sourceFiles(a));
  const graph = importGraph(files);

  it('reads every area and the imports in it', () => {
    for (const area of AREAS) expect(files.some((f) => f.startsWith(`${area}/`))).toBe(true);
    expect(graph.get('cli/src/target.ts')).toEqual(expect.arrayContaining(['lib/config.ts', 'lib/aws.ts']));
  });

  it('has no circle, type-only imports included', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('runs one way between the layers', () => {
    const upward: string[] = [];
    for (const [from, deps] of graph)
      for (const to of deps) if (!allowed(from, to)) upward.push(`${from} -> ${to}`);
    expect(upward).toEqual([]);
  });

  it('keeps only real scripts in scripts/: every module there is run, or serves one that is', () => {
    // A script takes flags (process.argv) or is one a make target runs without any (make schema).
    const makefile = read('Makefile');
    const entryPoints = files.filter(
      (f) => f.startsWith('scripts/') && (/\bprocess\.argv\b/.test(read(f)) || makefile.includes(` ${f}`)),
    );
    const reachable = new Set<string>();
    const walk = (f: string) => {
      if (reachable.has(f)) return;
      reachable.add(f);
      for (const d of graph.get(f) ?? []) walk(d);
    };
    for (const e of entryPoints) walk(e);
    // A module of scripts/ imported from cli/ or lib/ would be a library in the wrong place.
    const importedFromBelow = [...graph]
      .filter(([from]) => !from.startsWith('scripts/'))
      .flatMap(([from, deps]) => deps.filter((d) => d.startsWith('scripts/')).map((d) => `${from} -> ${d}`))
      .filter((edge) => !CLI_TO_BENCH.has(edge));
    expect(importedFromBelow).toEqual([]);
    expect(entryPoints.length).toBeGreaterThan(5);
    expect(files.filter((f) => f.startsWith('scripts/') && !reachable.has(f))).toEqual([]);
  });
});

const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

describe('the import reader and the circle finder', () => {
  it('reads static, type-only, re-exported, multi-line, side-effect and dynamic imports, not comments', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.js';",
      "export { e } from './e.js';",
      "export type * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "// import { x } from './commented.js';",
      "/* import { y } from './block.js'; */",
      "import { z } from 'node:fs';",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(
      ['../b.js', './a.js', './c.js', './e.js', './f.js', './g.js', './h.js'].sort(),
    );
  });

  it('finds a circle through any number of modules, and a module importing itself', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(circles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(
      circles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });
});
