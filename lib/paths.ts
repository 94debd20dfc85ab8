/** Where the local pipeline keeps its state: everything under the git-ignored `.local/` folder. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The repository root: the nearest folder above the working directory holding services/resources.json. */
export function repoRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'services', 'resources.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no services/resources.json above ${start}: run from the Pulse repository`);
    dir = parent;
  }
}

export interface LocalPaths {
  root: string;
  /** State folder: stack.json, logs/, checkpoints/. */
  stateDir: string;
  stackFile: string;
  logsDir: string;
  checkpointsDir: string;
}

export function localPaths(stateDir?: string): LocalPaths {
  const root = repoRoot();
  const dir = stateDir ? resolve(root, stateDir) : join(root, '.local');
  return {
    root,
    stateDir: dir,
    stackFile: join(dir, 'stack.json'),
    logsDir: join(dir, 'logs'),
    checkpointsDir: join(dir, 'checkpoints'),
  };
}
