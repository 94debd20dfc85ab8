/**
 * Command-line flags for every script, on node:util parseArgs (so `--flag value`, `--flag=value`
 * and short aliases behave as in other tools). parseArgs' own strict errors are long and generic;
 * this walks its tokens instead and reports each problem with the flag's name, in the wording the
 * scripts have always used.
 */
import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export type FlagProblem =
  | { kind: 'unknown'; flag: string }
  | { kind: 'missing-value'; flag: string }
  | { kind: 'unexpected-value'; flag: string; value: string }
  | { kind: 'positional'; value: string };

export function flagMessage(problem: FlagProblem): string {
  switch (problem.kind) {
    case 'unknown':
      return `unknown flag ${problem.flag}`;
    case 'missing-value':
      return `${problem.flag} needs a value`;
    case 'unexpected-value':
      return `${problem.flag} takes no value`;
    case 'positional':
      return `unexpected argument ${JSON.stringify(problem.value)}`;
  }
}

export interface ParsedFlags {
  /** Per flag name (without dashes): the last value given, true for a boolean flag. */
  values: Record<string, string | true | undefined>;
  /** Names of the flags that were given at all. */
  given: Set<string>;
  positionals: string[];
}

export interface ParseFlagsOptions {
  /** Turns a problem into the script's own error (its UsageError, with its wording). */
  fail: (problem: FlagProblem) => Error;
  /** Positional arguments are allowed (default: each one is a problem). */
  positionals?: boolean;
  /**
   * 'check' (default): a value flag without a value, or followed by another `--flag`, is a
   * problem. 'raw': it gets undefined or that next word, for validators whose messages already
   * say what was wrong ("--rate needs a positive number, got nothing").
   */
  values?: 'check' | 'raw';
}

export function parseFlags(argv: readonly string[], spec: FlagSpec, options: ParseFlagsOptions): ParsedFlags {
  // A bare `--` is what npm and make pass through; it separates nothing for these scripts.
  const parsed: ParsedFlags = { values: {}, given: new Set(), positionals: [] };
  walk(
    argv.filter((a) => a !== '--'),
    spec,
    options,
    parsed,
  );
  return parsed;
}

function walk(args: string[], spec: FlagSpec, options: ParseFlagsOptions, parsed: ParsedFlags): void {
  const { tokens } = parseArgs({ args, options: spec, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!options.positionals) throw options.fail({ kind: 'positional', value: token.value });
      parsed.positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const flag = token.rawName;
    const known = spec[token.name];
    if (!known || (flag.length === 2 && known.short !== flag.slice(1)))
      throw options.fail({ kind: 'unknown', flag });
    parsed.given.add(token.name);
    if (known.type === 'boolean') {
      if (token.value !== undefined)
        throw options.fail({ kind: 'unexpected-value', flag, value: token.value });
      parsed.values[token.name] = true;
      continue;
    }
    const value = token.value;
    const swallowed = value !== undefined && !token.inlineValue && value.startsWith('--');
    if ((value === undefined || swallowed) && options.values !== 'raw')
      throw options.fail({ kind: 'missing-value', flag });
    parsed.values[token.name] = value;
    if (swallowed) {
      // parseArgs took the next flag as this one's value; that flag still counts as given.
      walk(args.slice(token.index + 1), spec, options, parsed);
      return;
    }
  }
}

/** The value of a string flag (undefined when absent); for flags parsed with values 'check'. */
export function stringFlag(parsed: ParsedFlags, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}
