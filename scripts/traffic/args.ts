/** Command-line flags of the load generator, validated with messages that say what to type instead. */
import { type FlagSpec, flagMessage, type ParsedFlags, parseFlags } from '../../lib/flags.js';
import type { FraudPatterns, Mix } from './generator.js';
import { generateTraffic, type Traffic } from './generator.js';

export interface ProduceArgs {
  rate: number;
  users: number;
  duration: number;
  seed: number;
  fraud: FraudPatterns;
  mix: Partial<Mix>;
  returning: number;
  stream?: string;
  quiet: boolean;
}

export class UsageError extends Error {}

export const PRODUCE_USAGE = `Usage: npm run produce -- [options]   (or make produce ARGS="...")
  --rate N          events per second (default 50; kinesis-local takes a few hundred)
  --users N         distinct users (default 20)
  --duration S      seconds of traffic (default 30)
  --seed N          seed: same seed, same events (default: random, printed)
  --fraud LIST      fraud patterns: large,burst,hop or large=2,burst=1,hop=1
  --mix LIST        event mix weights: page=35,view=40,cart=15,purchase=10
  --returning F     fraction of users with an earlier, closed session (default 0.2)
  --stream NAME     stream name or ARN (default pulse-local-events)
  --quiet           no progress bar`;

function positiveNumber(flag: string, raw: string | undefined, integer: boolean): number {
  const value = Number(raw);
  if (
    raw === undefined ||
    raw.startsWith('--') ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `${flag} needs a positive ${integer ? 'integer' : 'number'}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
    );
  }
  return value;
}

const FRAUD_KEYS: Record<string, keyof FraudPatterns> = {
  large: 'largePurchase',
  burst: 'burst',
  hop: 'countryHop',
};
const MIX_KEYS: Record<string, keyof Mix> = {
  page: 'pageView',
  view: 'productView',
  cart: 'addToCart',
  purchase: 'purchase',
};

function keyed<T extends string>(
  flag: string,
  raw: string | undefined,
  keys: Record<string, T>,
  defaultCount?: number,
): Partial<Record<T, number>> {
  if (!raw || raw.startsWith('--'))
    throw new UsageError(`${flag} needs a list like ${Object.keys(keys).join(',')}`);
  const out: Partial<Record<T, number>> = {};
  for (const part of raw.split(',')) {
    const [name, count] = part.split('=');
    const key = keys[name?.trim() ?? ''];
    if (!key)
      throw new UsageError(
        `${flag}: unknown ${JSON.stringify(name)}; expected one of ${Object.keys(keys).join(', ')}`,
      );
    if (count === undefined && defaultCount === undefined)
      throw new UsageError(`${flag}: ${name} needs a value (${name}=N)`);
    const value = count === undefined ? defaultCount! : Number(count);
    if (!Number.isFinite(value) || value < 0 || (defaultCount !== undefined && !Number.isInteger(value))) {
      throw new UsageError(
        `${flag}: ${name} needs a non-negative ${defaultCount !== undefined ? 'integer' : 'number'}, got ${JSON.stringify(count)}`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** The produce flags; the demo accepts them too, beside its own. */
export const PRODUCE_FLAGS: FlagSpec = {
  rate: { type: 'string' },
  users: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  fraud: { type: 'string' },
  mix: { type: 'string' },
  returning: { type: 'string' },
  stream: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Parses flags with the produce wording: validators say what a missing or bad value should be. */
export function parseTrafficFlags(argv: readonly string[], spec: FlagSpec = PRODUCE_FLAGS): ParsedFlags {
  return parseFlags(argv, spec, {
    values: 'raw',
    fail: (problem) =>
      new UsageError(
        problem.kind === 'unknown'
          ? `unknown flag ${JSON.stringify(problem.flag)}\n${PRODUCE_USAGE}`
          : problem.kind === 'positional'
            ? `unexpected argument ${JSON.stringify(problem.value)}\n${PRODUCE_USAGE}`
            : flagMessage(problem),
      ),
  });
}

/** Produce options from parsed flags; absent flags keep the produce defaults. */
export function produceArgsFrom(flags: ParsedFlags, random: () => number = Math.random): ProduceArgs {
  if (flags.values.help) throw new UsageError(PRODUCE_USAGE);
  const raw = (name: string): string | undefined => flags.values[name] as string | undefined;
  const has = (name: string) => flags.given.has(name);
  const args: ProduceArgs = {
    rate: has('rate') ? positiveNumber('--rate', raw('rate'), false) : 50,
    users: has('users') ? positiveNumber('--users', raw('users'), true) : 20,
    duration: has('duration') ? positiveNumber('--duration', raw('duration'), false) : 30,
    seed: has('seed') ? parseSeed(raw('seed')) : Math.floor(random() * 1_000_000),
    fraud: has('fraud') ? keyed('--fraud', raw('fraud'), FRAUD_KEYS, 1) : {},
    mix: has('mix') ? keyed('--mix', raw('mix'), MIX_KEYS) : {},
    returning: has('returning') ? parseReturning(raw('returning')) : 0.2,
    quiet: flags.values.quiet === true,
  };
  if (has('stream')) {
    const stream = raw('stream');
    if (!stream || stream.startsWith('--')) throw new UsageError('--stream needs a stream name or ARN');
    args.stream = stream;
  }
  if (args.rate * args.duration < 1) throw new UsageError('--rate × --duration must be at least one event');
  return args;
}

export function parseProduceArgs(argv: readonly string[], random: () => number = Math.random): ProduceArgs {
  return produceArgsFrom(parseTrafficFlags(argv), random);
}

function parseSeed(value: string | undefined): number {
  const seed = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed needs a non-negative integer, got ${JSON.stringify(value ?? null)}`);
  return seed;
}

function parseReturning(value: string | undefined): number {
  const f = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(f) || f < 0 || f > 1)
    throw new UsageError(
      `--returning needs a fraction between 0 and 1, got ${JSON.stringify(value ?? null)}`,
    );
  return f;
}

/** A one-line progress bar for a terminal. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** The seeded traffic a parsed command line asks for. */
export function trafficFor(args: ProduceArgs): Traffic {
  return generateTraffic({
    seed: args.seed,
    users: args.users,
    events: Math.round(args.rate * args.duration),
    rate: args.rate,
    fraud: args.fraud,
    mix: args.mix,
    returningUsers: args.returning,
  });
}
