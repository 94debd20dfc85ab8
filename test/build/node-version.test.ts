/**
 * One Node major everywhere: the one Lambda runs. The Makefile puts it first on PATH (fetched from
 * the npm registry into .cache/node when the machine has another), so npm, npx, tsx, jest, the
 * pulse command and the local Lambda sandbox (which spawns process.execPath) all run on it. The
 * AWS SDK warns (NodeVersionSupportWarning) on a major it will drop; nothing may print that.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import semver from 'semver';
import { Sandbox } from '../../scripts/local/sandbox.js';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
};
/** Every `nodejsNN.x` runtime the Terraform code names (module defaults, environments). */
function terraformRuntimes(dir = join(ROOT, 'terraform')): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...terraformRuntimes(path));
    else if (entry.name.endsWith('.tf'))
      for (const m of readFileSync(path, 'utf8').matchAll(/"nodejs(\d+)\.x"/g)) found.push(m[1] as string);
  }
  return found;
}
const runtimes = [...new Set(terraformRuntimes())];
const lambdaRuntime = runtimes[0] as string;
const WARNING = 'NodeVersionSupportWarning';

/** The node the Makefile's recipes find first on PATH (fetching it if needed), as `make node` reports it. */
function makefileNode(): string {
  const out = execFileSync('make', ['--no-print-directory', '-s', 'node'], { cwd: ROOT, encoding: 'utf8' });
  const match = /^node (v\S+) at (\S+)$/m.exec(out);
  if (!match) throw new Error(`make node printed: ${out}`);
  return match[2] as string;
}

describe('Node versions', () => {
  it('bundles for the Node version Lambda runs', () => {
    expect(runtimes).toEqual(['22']);
    expect(read('scripts/build.ts')).toContain(`target: 'node${lambdaRuntime}'`);
  });

  it("pins the Makefile's node, engines and @types/node to Lambda's major", () => {
    expect(/^NODE_VERSION := (\d+)\./m.exec(read('Makefile'))?.[1]).toBe(lambdaRuntime);
    expect(semver.minVersion(pkg.engines.node)?.version).toBe(`${lambdaRuntime}.0.0`);
    expect(semver.minVersion(pkg.devDependencies['@types/node'] as string)?.major).toBe(
      Number(lambdaRuntime),
    );
  });

  it("runs the tests and the Makefile's recipes on that major", () => {
    expect(process.versions.node.split('.')[0]).toBe(lambdaRuntime);
    const node = makefileNode();
    expect(execFileSync(node, ['--version'], { encoding: 'utf8' })).toMatch(
      new RegExp(`^v${lambdaRuntime}\\.`),
    );
  });

  it('locks only packages that install and run where they run: the Lambda runtime, or the pinned local node', () => {
    // Bundled (non-dev) packages run on any nodejsNN.x release; dev tools run only on the node the
    // Makefile pins, so a tool may need a later minor of the same major.
    const pinned = /^NODE_VERSION := (\S+)$/m.exec(read('Makefile'))?.[1] as string;
    expect(semver.major(pinned)).toBe(Number(lambdaRuntime));
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      const runsOn = entry.dev ? pinned : `${lambdaRuntime}.0.0`;
      if (range && !semver.satisfies(runsOn, range))
        refused.push(`${path} needs node ${range}, not ${runsOn}`);
    }
    expect(refused).toEqual([]);
  });
});

describe(`no command prints the SDK's ${WARNING}`, () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    const node = makefileNode();
    // As a recipe sees it: the Makefile's node first, so `npx` and every `#!/usr/bin/env node` use it.
    env = {
      ...process.env,
      PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Nothing listens there: every request fails at once, after the SDK clients were built.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    };
  }, 300_000);

  it('the pulse command (it builds its SDK clients, then cannot connect)', () => {
    const run = spawnSync('npx', ['--no-install', 'pulse', 'status', '--env', 'local'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(`${run.stdout}${run.stderr}`).toMatch(/ECONNREFUSED|connect/i);
    expect(run.stderr).not.toContain(WARNING);
  });

  it('a tsx script', () => {
    const code = [
      "import { SQSClient } from '@aws-sdk/client-sqs';",
      "import { clientConfig } from './services/shared/clients.ts';",
      'new SQSClient(clientConfig);',
      "console.log('client built on', process.version);",
    ].join('\n');
    const run = spawnSync('npx', ['tsx', '--eval', code], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stdout).toContain(`client built on v${lambdaRuntime}.`);
    expect(run.stderr).not.toContain(WARNING);
  });

  it('a bundled handler in the local Lambda sandbox', async () => {
    const fn = 'metrics-emitter';
    const handlerPath = join(ROOT, 'dist', fn, 'index.mjs');
    if (!existsSync(handlerPath)) execFileSync('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, env });
    const spec = JSON.parse(read(`services/${fn}/function.json`)) as {
      environment?: Record<string, string>;
      resources: Record<string, unknown>;
    };
    // Names only: the empty batch below touches none of them.
    const names: Record<string, string> = { ENVIRONMENT: 'local', METRICS_NAMESPACE: 'Pulse' };
    for (const group of ['tables', 'queues', 'topics', 'secrets'])
      for (const variable of Object.keys(
        (spec.resources[group] as Record<string, unknown> | undefined) ?? {},
      ))
        names[variable] = `pulse-local-${variable.toLowerCase()}`;
    const dir = mkdtempSync(join(tmpdir(), 'pulse-node-'));
    const logFile = join(dir, `${fn}.log`);
    const sandbox = new Sandbox({
      name: fn,
      handlerPath,
      env: { ...(env as Record<string, string>), ...spec.environment, ...names },
      logFile,
      timeoutMs: 30_000,
    });
    try {
      const outcome = await sandbox.invoke({ Records: [] }, { functionName: `pulse-local-${fn}` });
      expect(outcome).toMatchObject({ ok: true, response: { batchItemFailures: [] } });
      expect(readFileSync(logFile, 'utf8')).not.toContain(WARNING);
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
