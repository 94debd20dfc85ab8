#!/usr/bin/env node
// Runs cli/src/pulse.ts in this process through the repository's own tsx (no build step, no
// second Node process: the terminal, signals and exit code stay this process's). The real path of
// this file is <repo>/cli/bin, so the repository and its node_modules are found from here.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(realpathSync(fileURLToPath(import.meta.url))), '..', '..');
let register;
try {
  // A bare specifier resolves from this file's real folder up: <repo>/node_modules/tsx.
  ({ register } = await import('tsx/esm/api'));
} catch {
  process.stderr.write('pulse: tsx is not installed in this repository; run `make install` (npm ci)\n');
  process.exit(1);
}
register();
const { main } = await import(pathToFileURL(join(repo, 'cli', 'src', 'pulse.ts')).href);
await main(process.argv.slice(2));
