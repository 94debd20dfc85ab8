import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter'];
const build = () => execFileSync('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, encoding: 'utf8' });
const digest = (fn: string) =>
  createHash('sha256')
    .update(readFileSync(join(ROOT, 'dist', `${fn}.zip`)))
    .digest('hex');

describe('make build', () => {
  let output: string;
  let first: string[];

  beforeAll(() => {
    output = build();
    first = FUNCTIONS.map(digest);
  }, 120_000);

  it('prints the size of every bundle', () => {
    for (const fn of FUNCTIONS)
      expect(output).toMatch(new RegExp(`^${fn}\\s+\\d+\\.\\d KiB\\s+\\d+\\.\\d KiB$`, 'm'));
  });

  it('zips each function on its own with its handler; the source map stays in dist/, out of the zip', () => {
    for (const fn of FUNCTIONS) {
      const files = unzipSync(readFileSync(join(ROOT, 'dist', `${fn}.zip`)));
      // Lambda runs without --enable-source-maps, so a map in the zip would only be uploaded and unpacked.
      expect(Object.keys(files).sort()).toEqual(['index.mjs']);
      expect(existsSync(join(ROOT, 'dist', fn, 'index.mjs.map'))).toBe(true);
      expect(Buffer.from(files['index.mjs'] as Uint8Array).toString()).toMatch(/export\s*\{[^}]*\bhandler\b/);
    }
  });

  it('gives the same bytes for the same input', () => {
    build();
    expect(FUNCTIONS.map(digest)).toEqual(first);
  }, 120_000);

  it('keeps the fraud rules out of the session bundle (tree-shaken, separate bundles)', () => {
    const sessions = readFileSync(join(ROOT, 'dist', 'session-updater', 'index.mjs'), 'utf8');
    expect(sessions).not.toContain('purchaseVelocity');
    expect(sessions).not.toContain('PutMetricData');
  });
});
