/**
 * `pulse`, the operator CLI (run it as `npx pulse <command>`; cli/ links the bin). Dispatches to
 * the subcommands in commands.ts and maps errors to exit codes: usage 2, refused write 3,
 * failure 1. Messages go to stderr, results to stdout.
 */
import { createInterface } from 'node:readline/promises';
import { AwsSetupError } from './aws-setup.js';
import { type CliIO, EXIT, RefusedError, UsageError } from './command.js';
import { COMMANDS } from './commands.js';
import { connect } from './target.js';

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: pulse <command> [options]      (inside the repository: npx pulse ...)

Operate a Pulse environment: look users up, read invalid records, republish PENDING alerts,
replay what a function skipped.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options every command takes:
  --env <local|dev|staging|prod>   environment (default $PULSE_ENV, else local); names are
                                   pulse-<env>-<key> from services/resources.json
  --json                           machine-readable output where a script would read it
  -h, --help                       help for the command

Nothing is changed without --yes or a "y" at the prompt; a non-interactive shell without --yes is
refused. AWS credentials, region and AWS_ENDPOINT_URL[_<SERVICE>] are the SDK's standard ones;
for the local stack run \`eval "$(npx tsx scripts/local/stack.ts env)"\` or just \`make local-up\`.

Exit codes: 0 ok, 1 failed, 2 bad input, 3 write not confirmed, 4 done but something needs a look.`;
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    io.stdout.write(`${mainUsage()}\n`);
    return word === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === word);
  if (!entry) {
    io.stderr.write(
      `pulse: unknown command ${JSON.stringify(word)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`,
    );
    return EXIT.usage;
  }
  const { command } = await entry.load();
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof RefusedError) {
      io.stderr.write(`${err.message}\n`);
      return EXIT.refused;
    }
    if (err instanceof AwsSetupError) {
      io.stderr.write(`pulse ${word}: ${err.message}\n`);
      return EXIT.failed;
    }
    const e = err as Error;
    io.stderr.write(`pulse ${word}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    if (io.env.PULSE_DEBUG) io.stderr.write(`${e.stack}\n`);
    return EXIT.failed;
  }
}

/** The real process: terminal, environment, SDK clients. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: process.stdin.isTTY === true,
    env: process.env,
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    connect: (env) => connect(env, process.env),
    now: () => Date.now(),
  };
}

/** Runs the CLI in this process and sets its exit code (the bin in cli/ and `tsx cli/src/pulse.ts`). */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await runCli(argv, processIO());
  } catch (err) {
    process.stderr.write(`pulse: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}

if (/[\\/]cli[\\/]src[\\/]pulse\.ts$/.test(process.argv[1] ?? '')) void main();
