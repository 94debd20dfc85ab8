/** Runs the real `pulse` bin (npx --no-install, as an operator would) against a test pipeline. */
import { execFile } from 'node:child_process';
import { endpointEnv } from '../../lib/aws.js';
import type { Pipeline } from './pipeline.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function pulse(p: Pipeline, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['--no-install', 'pulse', ...args],
      {
        env: {
          ...process.env,
          ...endpointEnv(p.stack.endpoints),
          PULSE_ENV: p.resources.environment,
          PULSE_STATE_DIR: p.stateDir,
          // A registry that cannot answer: the bin must come from the repository.
          npm_config_registry: 'http://127.0.0.1:9/',
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
