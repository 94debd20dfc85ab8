import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
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
const lambdaRuntime = runtimes[0];

describe('Node versions', () => {
  it('bundles for the Node version Lambda runs', () => {
    expect(runtimes).toEqual(['22']);
    expect(read('scripts/build.ts')).toContain(`target: 'node${lambdaRuntime}'`);
  });

  it('names in engines a floor the development machines meet (Node 20)', () => {
    const floor = semver.minVersion(pkg.engines.node)?.version;
    expect(floor).toBe('20.0.0');
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it('locks only packages that install on the engines floor and run on the Lambda runtime', () => {
    const floor = semver.minVersion(pkg.engines.node)?.version as string;
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!range) continue;
      for (const version of [floor, `${lambdaRuntime}.0.0`])
        if (!semver.satisfies(version, range)) refused.push(`${path} needs node ${range}, not ${version}`);
    }
    // An SDK release after early January 2027 needs Node >= 22: raise engines (and the README) with it.
    expect(refused).toEqual([]);
  });
});
