/**
 * A clone is all a newcomer has: every relative link in the repository's Markdown must resolve to
 * a file inside it, and the architecture page must carry the flow diagram GitHub renders.
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

/** Targets of inline links and images, minus web addresses and in-page anchors. */
function relativeTargets(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    targets.push(target.split('#')[0]!);
  }
  return targets;
}

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

  it('draws the flow as a Mermaid diagram', () => {
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    expect(doc).toMatch(/```mermaid\n(flowchart|graph) /);
  });
});
