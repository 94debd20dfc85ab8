/**
 * scripts/tf/tools.sh provider-from-archive: a prebuilt provider is unpacked into the filesystem
 * mirror layout only when its sha256 is the expected one, and reused afterwards without re-hashing.
 * A small stand-in archive plays the 128 MB provider (same code path: zstd --long, sha256, layout).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const tools = join(root, 'scripts/tf/tools.sh');

let dir: string;
let archive: string;
let sha: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-tools-'));
  const binary = join(dir, 'terraform-provider-aws_v6.48.0');
  writeFileSync(binary, `#!/bin/sh\necho stand-in provider ${Date.now()}\n`);
  sha = createHash('sha256').update(readFileSync(binary)).digest('hex');
  archive = join(dir, 'provider.zst');
  const z = spawnSync('zstd', ['-q', '--long=27', '-o', archive, binary]);
  if (z.status !== 0) throw new Error(`zstd failed: ${z.stderr}`);
  rmSync(binary);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cache: string, expected: string) {
  return spawnSync('bash', [tools, 'provider-from-archive'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PULSE_TF_CACHE: cache,
      PULSE_TF_PROVIDER_ARCHIVE: archive,
      PULSE_TF_PROVIDER_SHA256: expected,
    },
  });
}

test('a matching archive becomes an executable mirror entry and a CLI config that points at it', () => {
  const cache = join(dir, 'ok');
  const r = run(cache, sha);
  expect({ status: r.status, stderr: r.stderr }).toEqual({
    status: 0,
    stderr: expect.stringContaining('verified'),
  });
  const bin = join(cache, 'mirror/registry.terraform.io/hashicorp/aws/6.48.0');
  const platform =
    spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim() === 'aarch64'
      ? 'linux_arm64'
      : 'linux_amd64';
  const file = join(bin, platform, 'terraform-provider-aws_v6.48.0');
  expect(existsSync(file)).toBe(true);
  expect(statSync(file).mode & 0o111).not.toBe(0);
  expect(readFileSync(join(cache, 'terraformrc'), 'utf8')).toContain(`path    = "${join(cache, 'mirror')}"`);
  // second run: recognised by its recorded checksum, nothing unpacked again
  const again = run(cache, sha);
  expect(again.status).toBe(0);
  expect(again.stderr).toContain('sha256 verified earlier');
});

test('an archive with another checksum is refused and leaves no provider behind', () => {
  const cache = join(dir, 'bad');
  const r = run(cache, '0'.repeat(64));
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(`unpacks to sha256 ${sha}, expected ${'0'.repeat(64)}`);
  const env = spawnSync('bash', [tools, 'provider-ready'], {
    env: { ...process.env, PULSE_TF_CACHE: cache },
  });
  expect(env.status).not.toBe(0);
});
