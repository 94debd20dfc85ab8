/**
 * A clone is all a newcomer has: every relative link in the repository's Markdown must resolve to
 * a file inside it (and an anchor to a heading there), and the architecture page must carry the
 * flow diagram GitHub renders. The README stays short: every page of docs/ is one click from it,
 * and so is every section that moved out of it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');

function markdownFiles(): string[] {
  // git knows what is part of the repository (tracked or new, not ignored), unlike a directory walk.
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out.split('\n').filter((f) => f && existsSync(join(root, f)));
}

const withoutCode = (markdown: string) => markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');

/** Targets of inline links and images with their anchors, minus web addresses. */
function linkTargets(markdown: string): { path: string; anchor?: string }[] {
  const targets: { path: string; anchor?: string }[] = [];
  for (const match of withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [path = '', anchor] = target.split('#');
    targets.push(anchor === undefined ? { path } : { path, anchor });
  }
  return targets;
}

/** Targets of inline links and images, minus web addresses and in-page anchors. */
function relativeTargets(markdown: string): string[] {
  return linkTargets(markdown)
    .map((t) => t.path)
    .filter((p) => p !== '');
}

/** The anchors GitHub gives a document's headings (lower case, punctuation dropped, `-` for spaces). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = match[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Headings of a document, as written (`##` and deeper). */
const headings = (markdown: string) =>
  [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} +(.+?) *$/gm)].map((m) => m[1]!);

describe('links in the repository', () => {
  const files = markdownFiles();

  it('finds the Markdown files, the architecture page among them', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md']));
  });

  it('resolves every relative link to an existing file inside the repository', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const target of relativeTargets(readFileSync(join(root, file), 'utf8'))) {
        const path = resolve(root, dirname(file), target);
        const inside = !relative(root, path).startsWith('..');
        if (!inside || !existsSync(path)) broken.push(`${file} -> ${target}${inside ? '' : ' (outside)'}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links the README to docs/architecture.md and names no design file outside the repository', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(relativeTargets(readme)).toContain('docs/architecture.md');
    for (const file of files)
      expect(readFileSync(join(root, file), 'utf8')).not.toMatch(/shared\/DESIGN\.md/);
  });

  it('resolves every anchor to a heading of the page it points to', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const { path, anchor } of linkTargets(readFileSync(join(root, file), 'utf8'))) {
        if (anchor === undefined) continue;
        const target = path === '' ? join(root, file) : resolve(root, dirname(file), path);
        if (!target.endsWith('.md') || !existsSync(target)) continue;
        if (!headingAnchors(readFileSync(target, 'utf8')).has(anchor))
          broken.push(`${file} -> ${path}#${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds the anchors GitHub makes of headings with code, punctuation and repeats', () => {
    const anchors = headingAnchors(
      '# A\n## Runbook: one entry per alarm (`a/b`)\n## The `pulse` command\n## A\n',
    );
    expect([...anchors]).toEqual(['a', 'runbook-one-entry-per-alarm-ab', 'the-pulse-command', 'a-1']);
  });

  describe('the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const linked = relativeTargets(readme).map((t) => relative(root, resolve(root, t)));

    it('is short enough to read in five minutes', () => {
      expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    });

    it('links every page of docs/', () => {
      const pages = files.filter((f) => f.startsWith('docs/'));
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.filter((p) => !linked.includes(p))).toEqual([]);
    });

    // The sections the README held before it was cut down, each now on a page the README links.
    it.each([
      'The event',
      'Sessions',
      'Producing events',
      'Delivery semantics',
      'The `pulse` command',
      'Replay: how skipped records are applied exactly once',
      'Runbook: one entry per alarm (`terraform/modules/observability`)',
      'Configuration',
      'Logging',
      'Deploying',
      'Subscribing to fraud alerts',
      'The local stack',
      'What each make target needs',
      'Performance',
      'What it costs',
      'Capacity planning',
      'Troubleshooting',
    ])('reaches "%s" in one click', (heading) => {
      const where = [
        readme,
        ...linked.filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(root, f), 'utf8')),
      ];
      expect(where.some((doc) => headings(doc).includes(heading))).toBe(true);
    });
  });

  it('draws the flow as a Mermaid diagram', () => {
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    expect(doc).toMatch(/```mermaid\n(flowchart|graph) /);
  });
});
