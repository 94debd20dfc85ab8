/**
 * Progress of a long step. On a terminal it redraws one line with `\r`; anywhere else (CI, a pipe,
 * a log file) a redraw would write thousands of fragments, so it prints a few plain lines instead:
 * one at each quarter, and one at the end.
 */
import { progressBar } from './traffic/args.js';

export interface ProgressOptions {
  total: number;
  label: string;
  stream?: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };
  /** Defaults to a terminal that is not CI. */
  interactive?: boolean;
  /** Plain lines printed over the run when not interactive (default 4). */
  steps?: number;
}

export interface Progress {
  update(done: number, detail?: string): void;
  /** Clears the redrawn line so another message can be printed (terminal only). */
  clear(): void;
  /** Ends the progress line. */
  finish(): void;
}

export function isInteractive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}

export function progress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? isInteractive(stream);
  const steps = options.steps ?? 4;
  let printedStep = 0;
  let drawn = false;
  let width = 0;
  return {
    update(done, detail = '') {
      if (interactive) {
        const line = `  ${progressBar(done, options.total, 20)} ${detail}`;
        stream.write(`\r${line.padEnd(width)}`);
        width = line.length;
        drawn = true;
        return;
      }
      const step = options.total > 0 ? Math.floor((done / options.total) * steps) : steps;
      if (step <= printedStep) return;
      printedStep = step;
      const percent = options.total > 0 ? Math.round((done / options.total) * 100) : 100;
      stream.write(
        `  ${options.label} ${done}/${options.total} (${percent}%)${detail ? ` ${detail}` : ''}\n`,
      );
    },
    clear() {
      if (!interactive || !drawn) return;
      stream.write(`\r${' '.repeat(width)}\r`);
      drawn = false;
    },
    finish() {
      if (interactive && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
