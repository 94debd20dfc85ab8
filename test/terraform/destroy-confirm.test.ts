/**
 * `make destroy` (scripts/tf/run.sh destroy <env>) runs unattended only with an explicit
 * confirmation, CONFIRM_ENV=<env>, and says why when it has none: a CI job has no stdin, and a
 * silent `read` failure used to exit 1 with no message. run.sh runs here in a scratch copy of the
 * repository layout with a fake `terraform` that records every call, so nothing real is touched.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let dir: string;
let calls: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-destroy-'));
  mkdirSync(join(dir, 'scripts/tf'), { recursive: true });
  copyFileSync(join(root, 'scripts/tf/run.sh'), join(dir, 'scripts/tf/run.sh'));
  for (const env of ['dev', 'prod']) {
    mkdirSync(join(dir, 'terraform/envs', env), { recursive: true });
    writeFileSync(join(dir, 'terraform/envs', env, 'backend.hcl'), 'bucket = "x"\n');
  }
  calls = join(dir, 'calls.log');
  const fake = join(dir, 'fake-terraform');
  writeFileSync(
    fake,
    `#!/usr/bin/env bash\nif [[ "$1" == version ]]; then echo "Terraform v1.9.8"; exit 0; fi\necho "$*" >> "${calls}"\n`,
  );
  chmodSync(fake, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** run.sh destroy <env> with no terminal on stdin (as in CI), optionally with CONFIRM_ENV. */
function destroy(env: string, confirm?: string) {
  const r = spawnSync('bash', [join(dir, 'scripts/tf/run.sh'), 'destroy', env], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      TERRAFORM: join(dir, 'fake-terraform'),
      ...(confirm === undefined ? {} : { CONFIRM_ENV: confirm }),
    },
  });
  const terraform = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [];
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, terraform };
}

test('no confirmation and no terminal: a clear message, a non-zero exit, and Terraform is never called', () => {
  const r = destroy('dev');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/no terminal to ask/);
  expect(r.stderr).toContain('CONFIRM_ENV=dev');
  expect(r.terraform).toEqual([]);
});

test('CONFIRM_ENV=<env> destroys that environment unattended', () => {
  const r = destroy('dev', 'dev');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('confirmed by CONFIRM_ENV=dev');
  expect(r.terraform).toEqual([
    '-chdir=terraform/envs/dev init -input=false -backend-config=backend.hcl',
    '-chdir=terraform/envs/dev destroy -input=false -auto-approve',
  ]);
});

test('CONFIRM_ENV naming another environment destroys nothing', () => {
  for (const [env, confirm] of [
    ['prod', 'dev'],
    ['dev', 'prod'],
    ['dev', 'DEV'],
  ] as const) {
    const r = destroy(env, confirm);
    expect({ env, confirm, status: r.status, terraform: r.terraform }).toEqual({
      env,
      confirm,
      status: 2,
      terraform: [],
    });
    expect(r.stderr).toContain(`does not name the environment being destroyed ('${env}')`);
  }
});

/** The same with a terminal on stdin (util-linux `script` gives it a pseudo-terminal), typing `typed`. */
function destroyAtTerminal(env: string, typed: string) {
  const command = `bash ${join(dir, 'scripts/tf/run.sh')} destroy ${env}`;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    input: `${typed}\n`,
    env: { PATH: process.env.PATH ?? '', TERRAFORM: join(dir, 'fake-terraform') },
  });
  const terraform = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [];
  return { status: r.status, output: `${r.stdout}${r.stderr}`, terraform };
}

test('at a terminal, typing the environment name destroys it; anything else aborts', () => {
  const wrong = destroyAtTerminal('dev', 'prod');
  expect(wrong.status).toBe(1);
  expect(wrong.output).toContain("aborted (typed 'prod', expected 'dev')");
  expect(wrong.terraform).toEqual([]);
  const right = destroyAtTerminal('dev', 'dev');
  expect(right.status).toBe(0);
  expect(right.terraform).toContain('-chdir=terraform/envs/dev destroy -input=false -auto-approve');
});

test('make destroy passes CONFIRM_ENV through and still needs no build', () => {
  const mk = readFileSync(join(root, 'terraform/terraform.mk'), 'utf8');
  expect(mk).toMatch(/^destroy: tf-env ##.*CONFIRM_ENV=<env>/m);
  expect(mk).toMatch(/^\tscripts\/tf\/run\.sh destroy \$\(ENV\)$/m);
});
