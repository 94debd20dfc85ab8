/**
 * `pulse status --env prod` on a machine without an AWS region or credentials used to print
 * "Region is missing" once per table, queue and function and exit 4 ("needs a look"). It must say
 * once what is missing and how to set it, and fail (exit 1) before reading anything.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AwsSetupError, checkAwsSetup } from '../../../cli/src/aws-setup.js';
import type { CliIO } from '../../../cli/src/command.js';
import { runCli } from '../../../cli/src/pulse.js';

const ROOT = resolve(__dirname, '..', '..', '..');
const ok = {
  region: async () => 'eu-west-1',
  credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }),
};
const fails = (message: string) => async () => {
  throw new Error(message);
};

describe('checkAwsSetup', () => {
  it('passes when the SDK finds both', async () => {
    await expect(checkAwsSetup('prod', ok)).resolves.toBeUndefined();
  });

  it('names a missing region and how to set it, and nothing else', async () => {
    const err = await checkAwsSetup('prod', { ...ok, region: fails('Region is missing') }).catch((e) => e);
    expect(err).toBeInstanceOf(AwsSetupError);
    expect(err.name).toBe('AwsSetupError');
    expect(err.message).toContain('--env prod needs an AWS region: set AWS_REGION');
    expect(err.message).not.toContain('credentials');
  });

  it('names missing credentials (a provider that fails or finds nothing) and how to set them', async () => {
    for (const credentials of [
      fails('Could not load credentials from any providers'),
      async () => undefined,
    ]) {
      const err = await checkAwsSetup('staging', { ...ok, credentials }).catch((e) => e);
      expect(err).toBeInstanceOf(AwsSetupError);
      expect(err.message).toContain('--env staging needs AWS credentials: set AWS_PROFILE');
      expect(err.message).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      expect(err.message).not.toContain('region');
    }
  });

  it('names both in one message when both are missing', async () => {
    const err = await checkAwsSetup('prod', {
      region: fails('Region is missing'),
      credentials: fails('none'),
    }).catch((e) => e);
    expect(err.message).toMatch(/AWS region: set AWS_REGION.*; and AWS credentials: set AWS_PROFILE/);
  });
});

describe('pulse with an environment it cannot reach', () => {
  it('prints the one message and exits 1 (failed), not 4', async () => {
    let out = '';
    let errText = '';
    const io: CliIO = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (errText += t) },
      interactive: false,
      env: {},
      ask: async () => '',
      connect: async () => {
        throw new AwsSetupError('--env prod needs an AWS region: set AWS_REGION');
      },
      now: () => 0,
    };
    expect(await runCli(['status', '--env', 'prod'], io)).toBe(1);
    expect(errText).toBe('pulse status: --env prod needs an AWS region: set AWS_REGION\n');
    expect(out).toBe('');
  });

  // The real SDK resolution, in a process whose environment and home hold no AWS settings.
  const runPulse = (extra: Record<string, string>) => {
    const home = mkdtempSync(join(tmpdir(), 'pulse-home-'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
    Object.assign(env, { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...extra });
    try {
      return spawnSync('npx', ['--no-install', 'pulse', 'status', '--env', 'prod'], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  it('pulse status --env prod without region or credentials: one message naming both, exit 1', () => {
    const run = runPulse({});
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('pulse'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('set AWS_REGION');
    expect(lines[0]).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(run.stderr).not.toContain('Region is missing');
  }, 60_000);

  it('pulse status --env prod with a region but no credentials names only the credentials', () => {
    const run = runPulse({ AWS_REGION: 'eu-west-1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--env prod needs AWS credentials');
    expect(run.stderr).not.toContain('AWS_REGION');
  }, 60_000);
});
