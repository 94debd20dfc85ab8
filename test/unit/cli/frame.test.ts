import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { COMMANDS } from '../../../cli/src/commands.js';
import { run } from './support.js';

test('pulse --help lists every command; no command is a usage error', async () => {
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name}`);
  const none = await run([]);
  expect(none.code).toBe(2);
  expect(none.stdout).toContain('Usage: pulse <command>');
});

test('an unknown command is named, with the list of commands, exit 2', async () => {
  const r = await run(['frobnicate']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown command "frobnicate"');
  expect(r.stderr).toContain('invalid');
});

test.each(COMMANDS.map((c) => c.name))(
  'pulse %s --help prints its usage and touches nothing',
  async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: pulse ${name}`));
    expect(r.calls).toEqual([]);
  },
);

test.each(COMMANDS.map((c) => c.name))('pulse %s rejects an unknown option, naming it', async (name) => {
  const unknown = await run([name, '--frob']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('--frob');
  expect(unknown.calls).toEqual([]);
});

// The commands that talk to an environment (a command like `plan` needs none).
const AWS_COMMANDS: Record<string, string[]> = {
  status: [],
  user: ['u1'],
  invalid: [],
  alerts: ['pending'],
  replay: ['--function', 'fraud-rules'],
};
test.each(Object.keys(AWS_COMMANDS))('pulse %s names a bad --env and what is allowed', async (name) => {
  expect(COMMANDS.map((c) => c.name)).toContain(name);
  const unknown = await run([name, '--frob']);
  expect(unknown.stderr).toContain(`pulse ${name}: unknown option --frob`);
  const env = await run([name, '--env', 'qa', ...(AWS_COMMANDS[name] ?? [])]);
  expect(env.code).toBe(2);
  expect(env.stderr).toContain('--env must be one of local, dev, staging, prod, got "qa"');
});

test('an option without its value is named', async () => {
  const r = await run(['invalid', '--limit']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--limit');
  expect(r.stderr).toContain('needs a value');
});

// The bin must come from the repository (cli/ via file:), never from the registry, where an
// unrelated `pulse` exists. A registry on a closed port makes any download attempt fail loudly.
test('npx --no-install pulse runs ours without the registry', async () => {
  const { stdout } = await promisify(execFile)('npx', ['--no-install', 'pulse', '--help'], {
    env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true' },
    timeout: 60_000,
  });
  expect(stdout).toContain('Usage: pulse <command>');
});

test('tsx cli/src/pulse.ts runs the CLI too (the module knows its own path)', async () => {
  const { stdout } = await promisify(execFile)('npx', ['tsx', 'cli/src/pulse.ts', '--help'], {
    timeout: 60_000,
  });
  expect(stdout).toContain('Usage: pulse <command>');
}, 60_000);
