// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output is untyped JSON
/**
 * Regenerates the Inputs/Outputs tables of terraform/modules/<m>/README.md between
 * <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> from the HCL (terraform-docs is not available
 * offline). `npx tsx scripts/tf/module-docs.ts` writes; `--check` exits 1 when a README is stale.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';
import { flagMessage, parseFlags } from '../../lib/flags.js';

const BEGIN = '<!-- BEGIN_TF_DOCS -->';
const END = '<!-- END_TF_DOCS -->';
export const modulesDir = join(process.cwd(), 'terraform', 'modules'); // run from the repository root

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const unwrap = (t: unknown) =>
  typeof t === 'string' ? t.replace(/^\$\{([\s\S]*)\}$/, '$1') : JSON.stringify(t);

export async function moduleDocs(dir: string): Promise<string> {
  const hcl = (await convertFiles(dir)) as Record<string, any>;
  const vars = Object.entries<any[]>(hcl.variable ?? {}).map(([name, [v]]) => ({ name, ...v }));
  const outs = Object.entries<any[]>(hcl.output ?? {}).map(([name, [o]]) => ({ name, ...o }));
  vars.sort((a, b) => Number('default' in a) - Number('default' in b) || a.name.localeCompare(b.name));
  const lines = [
    BEGIN,
    '## Inputs',
    '',
    '| Name | Description | Type | Default | Required |',
    '|------|-------------|------|---------|:--------:|',
    ...vars.map(
      (v) =>
        `| \`${v.name}\` | ${cell(v.description ?? '')} | \`${cell(unwrap(v.type))}\` | ${'default' in v ? `\`${cell(JSON.stringify(v.default))}\`` : 'n/a'} | ${'default' in v ? 'no' : 'yes'} |`,
    ),
    '',
    '## Outputs',
    '',
    '| Name | Description |',
    '|------|-------------|',
    ...outs
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((o) => `| \`${o.name}\` | ${cell(o.description ?? '')} |`),
    END,
  ];
  return lines.join('\n');
}

export function splice(readme: string, docs: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) return `${readme.trimEnd()}\n\n${docs}\n`;
  return readme.slice(0, start) + docs + readme.slice(end + END.length);
}

async function main() {
  const check =
    parseFlags(
      process.argv.slice(2),
      { check: { type: 'boolean' } },
      {
        fail: (problem) => new Error(`${flagMessage(problem)}; usage: module-docs.ts [--check]`),
      },
    ).values.check === true;
  let stale = 0;
  for (const m of readdirSync(modulesDir)) {
    const dir = join(modulesDir, m);
    const path = join(dir, 'README.md');
    const current = existsSync(path) ? readFileSync(path, 'utf8') : `# ${m}\n`;
    const next = splice(current, await moduleDocs(dir));
    if (next === current) continue;
    stale++;
    if (check)
      console.error(`stale: terraform/modules/${m}/README.md (run npx tsx scripts/tf/module-docs.ts)`);
    else writeFileSync(path, next);
  }
  if (check && stale) process.exit(1);
}

if (process.argv[1]?.endsWith('module-docs.ts'))
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
