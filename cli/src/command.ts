/**
 * The contract every `pulse` subcommand implements (see README.md here). A subcommand is a module
 * exporting `command: Command`; commands.ts lists them. Commands never touch process.* directly:
 * everything they read or write goes through `CliIO`, so unit tests run them with fakes.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ENVIRONMENTS, type EnvName } from './environments.js';
import type { Target } from './target.js';

/** Exit codes, the same for every subcommand. */
export const EXIT = {
  ok: 0,
  /** The work failed (an AWS call, a record that could not be applied, ...). */
  failed: 1,
  /** Bad input: unknown flag, missing or malformed value. Nothing was done. */
  usage: 2,
  /** A write was needed but not confirmed (no --yes in a non-interactive shell, or "no"). */
  refused: 3,
  /** The work ran but left something for a person to look at (e.g. records past retention). */
  incomplete: 4,
} as const;

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIO {
  stdout: Stream;
  stderr: Stream;
  /** Whether a person can answer a question (stdin is a terminal). */
  interactive: boolean;
  env: Record<string, string | undefined>;
  /** Reads one answer from the terminal; only called when `interactive`. */
  ask(question: string): Promise<string>;
  /** AWS access for an environment (names from services/resources.json); tests inject fakes. */
  connect(env: EnvName): Promise<Target>;
  now(): number;
}

export interface Command {
  /** The subcommand word: `pulse <name> ...`. */
  name: string;
  /** One line for `pulse --help`. */
  summary: string;
  /** The whole `pulse <name> --help` text. */
  usage: string;
  /** Runs with the arguments after the subcommand word; resolves to an EXIT code. */
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

/** Bad input; the message names the problem. Exit code 2, the usage text is not repeated. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A write was not confirmed. Exit code 3. */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every subcommand accepts. */
export const COMMON_OPTIONS = {
  env: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** `--yes` for subcommands that write. */
export const WRITE_OPTIONS = { yes: { type: 'boolean', short: 'y' } } as const satisfies Options;

/**
 * node:util parseArgs with its errors turned into UsageErrors that name the subcommand and the
 * flag (parseArgs' own messages mention internals like "args").
 */
export function parse<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  positionals: { min?: number; max?: number; names?: string } = {},
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as { code?: string; message: string };
    const flag = /'(-[^' ]*)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(
        `pulse ${command}: unknown option ${flag ?? e.message} (see pulse ${command} --help)`,
      );
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(
        `pulse ${command}: ${flag ?? 'an option'} ${e.message.includes('argument missing') ? 'needs a value' : 'takes no value'}`,
      );
    throw new UsageError(`pulse ${command}: ${e.message}`);
  }
  const help = (parsed.values as { help?: boolean }).help === true;
  if (!help) {
    const count = parsed.positionals.length;
    const { min = 0, max = 0, names = 'arguments' } = positionals;
    if (count < min) throw new UsageError(`pulse ${command}: missing ${names} (see pulse ${command} --help)`);
    if (count > max)
      throw new UsageError(
        `pulse ${command}: unexpected argument ${JSON.stringify(parsed.positionals[max])} (see pulse ${command} --help)`,
      );
  }
  return parsed;
}

/**
 * A subcommand whose arguments `parse` reads. `--help` prints the usage and exits 0 before `run`
 * sees anything, the same way in every subcommand.
 */
export function defineCommand<O extends Options>(spec: {
  name: string;
  summary: string;
  usage: string;
  options: O;
  positionals?: { min?: number; max?: number; names?: string };
  run(args: ReturnType<typeof parse<O>>, io: CliIO): Promise<number>;
}): Command {
  const { name, summary, usage } = spec;
  return {
    name,
    summary,
    usage,
    async run(argv, io) {
      const args = parse(name, argv, spec.options, spec.positionals);
      if ((args.values as { help?: boolean }).help === true) {
        println(io, usage);
        return EXIT.ok;
      }
      return spec.run(args, io);
    },
  };
}

/** --env value, else $PULSE_ENV, else local (the safe default: nothing deployed is touched). */
export function envOption(raw: string | undefined, io: CliIO): EnvName {
  const value = raw ?? io.env.PULSE_ENV ?? 'local';
  if (!(ENVIRONMENTS as readonly string[]).includes(value))
    throw new UsageError(`--env must be one of ${ENVIRONMENTS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as EnvName;
}

/** A positive integer flag within bounds, e.g. --limit. */
export function intOption(flag: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A duration such as 90s, 10m, 2h or 1d in milliseconds. */
export function durationOption(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+)(s|m|h|d)$/.exec(raw.trim());
  if (!match)
    throw new UsageError(`${flag} must be a duration like 90s, 10m, 2h or 1d, got ${JSON.stringify(raw)}`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's'];
}

/**
 * Asks before a write. --yes answers for the operator; without it a non-interactive shell is
 * refused rather than assumed to agree, so a script never writes by accident.
 */
export async function confirm(io: CliIO, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!io.interactive) throw new RefusedError(`${question} Refusing without --yes: stdin is not a terminal.`);
  const answer = (await io.ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new RefusedError('Not confirmed; nothing was changed.');
}

export function println(io: CliIO, text = ''): void {
  io.stdout.write(`${text}\n`);
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Progress on long work, on stderr so stdout stays clean for --json. On a terminal one line is
 * rewritten in place; otherwise (CI logs, pipes) each update is a plain line.
 */
export function progress(io: CliIO): { update(text: string): void; done(text?: string): void } {
  const tty = io.stderr.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (tty) {
        io.stderr.write(`\r\x1b[2K${text}`);
        shown = true;
      } else io.stderr.write(`${text}\n`);
    },
    done(text) {
      if (tty && shown) io.stderr.write('\r\x1b[2K');
      if (text !== undefined) io.stderr.write(`${text}\n`);
    },
  };
}
