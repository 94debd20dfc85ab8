/** Command-line flags of the load generator, validated with messages that say what to type instead. */
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

export function parseProduceArgs(argv: readonly string[], random: () => number = Math.random): ProduceArgs {
  const args: ProduceArgs = {
    rate: 50,
    users: 20,
    duration: 30,
    seed: Math.floor(random() * 1_000_000),
    fraud: {},
    mix: {},
    returning: 0.2,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case '--rate':
        args.rate = positiveNumber(flag, value, false);
        i += 1;
        break;
      case '--users':
        args.users = positiveNumber(flag, value, true);
        i += 1;
        break;
      case '--duration':
        args.duration = positiveNumber(flag, value, false);
        i += 1;
        break;
      case '--seed': {
        const seed = Number(value);
        if (value === undefined || !Number.isInteger(seed) || seed < 0)
          throw new UsageError(`--seed needs a non-negative integer, got ${JSON.stringify(value ?? null)}`);
        args.seed = seed;
        i += 1;
        break;
      }
      case '--fraud':
        args.fraud = keyed(flag, value, FRAUD_KEYS, 1);
        i += 1;
        break;
      case '--mix': {
        args.mix = keyed(flag, value, MIX_KEYS);
        i += 1;
        break;
      }
      case '--returning': {
        const f = Number(value);
        if (value === undefined || !Number.isFinite(f) || f < 0 || f > 1)
          throw new UsageError(
            `--returning needs a fraction between 0 and 1, got ${JSON.stringify(value ?? null)}`,
          );
        args.returning = f;
        i += 1;
        break;
      }
      case '--stream':
        if (!value || value.startsWith('--')) throw new UsageError('--stream needs a stream name or ARN');
        args.stream = value;
        i += 1;
        break;
      case '--quiet':
        args.quiet = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError(PRODUCE_USAGE);
      default:
        throw new UsageError(`unknown flag ${JSON.stringify(flag)}\n${PRODUCE_USAGE}`);
    }
  }
  if (args.rate * args.duration < 1) throw new UsageError('--rate × --duration must be at least one event');
  return args;
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
