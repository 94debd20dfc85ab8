/** `make demo` flags: the produce flags with demo defaults, plus --keep-running and --shards. */
import {
  PRODUCE_FLAGS,
  PRODUCE_USAGE,
  type ProduceArgs,
  parseTrafficFlags,
  produceArgsFrom,
  UsageError,
} from '../traffic/args.js';

export const DEMO_USAGE = `Usage: make demo DEMO_ARGS="[options]"   (or npx tsx scripts/demo.ts [options])
  --keep-running    leave the local stack and data up afterwards (make local-down stops it)
  --shards N        stream shards, 1 to 8 (default 2)
  defaults differ from produce: --duration 60 --rate 40 --fraud large,burst,hop
Traffic options (as npm run produce):
${PRODUCE_USAGE.split('\n').slice(1).join('\n')}`;

export interface DemoOptions {
  help: boolean;
  keepRunning: boolean;
  shards: number;
  traffic: ProduceArgs;
}

export function parseDemoArgs(argv: readonly string[], random: () => number = Math.random): DemoOptions {
  const flags = parseTrafficFlags(argv, {
    ...PRODUCE_FLAGS,
    'keep-running': { type: 'boolean' },
    shards: { type: 'string' },
  });
  const help = flags.values.help === true;
  // --help is the demo's own: produce's help would list the wrong defaults.
  const traffic = produceArgsFrom({ ...flags, values: { ...flags.values, help: undefined } }, random);
  if (!flags.given.has('duration')) traffic.duration = 60;
  if (!flags.given.has('rate')) traffic.rate = 40;
  if (!flags.given.has('fraud')) traffic.fraud = { largePurchase: 1, burst: 1, countryHop: 1 };
  const rawShards = flags.values.shards;
  const shards = flags.given.has('shards') ? Number(rawShards) : 2;
  if (
    typeof rawShards === 'boolean' ||
    (flags.given.has('shards') && rawShards === undefined) ||
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > 8
  )
    throw new UsageError('--shards needs an integer from 1 to 8');
  return { help, keepRunning: flags.values['keep-running'] === true, shards, traffic };
}
