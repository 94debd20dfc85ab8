/**
 * Every script parses its flags with node:util parseArgs (lib/flags.ts): `--flag=value` works,
 * and an unknown flag is an error that names it, in each script's own wording.
 */

import { type FlagProblem, flagMessage, parseFlags } from '../../../lib/flags.js';
import { parseBenchArgs } from '../../../scripts/bench/run.js';
import { parseDemoArgs } from '../../../scripts/demo/args.js';
import { parseRunnerArgs } from '../../../scripts/local/runner.js';
import { parseStackArgs } from '../../../scripts/local/stack.js';
import { parseProduceArgs, UsageError } from '../../../scripts/traffic/args.js';

const noRandom = () => 0.5;

describe('parseFlags', () => {
  const spec = { name: { type: 'string' }, loud: { type: 'boolean', short: 'l' } } as const;
  const fail = (problem: FlagProblem) => new Error(flagMessage(problem));

  it('reads --flag value, --flag=value and short aliases, and drops a bare --', () => {
    expect(parseFlags(['--name', 'a', '-l'], spec, { fail }).values).toEqual({ name: 'a', loud: true });
    expect(parseFlags(['--name=b=c', '--', '--loud'], spec, { fail }).values).toEqual({
      name: 'b=c',
      loud: true,
    });
  });

  it.each([
    [['--nmae', 'a'], 'unknown flag --nmae'],
    [['-x'], 'unknown flag -x'],
    [['--name'], '--name needs a value'],
    [['--name', '--loud'], '--name needs a value'],
    [['--loud=yes'], '--loud takes no value'],
    [['stray'], 'unexpected argument "stray"'],
  ])('rejects %j: %s', (argv, message) => {
    expect(() => parseFlags(argv, spec, { fail })).toThrow(message);
  });

  it('passes a missing value on in raw mode, for validators that say what was expected', () => {
    expect(parseFlags(['--name'], spec, { fail, values: 'raw' }).values).toEqual({ name: undefined });
  });
});

describe('produce flags', () => {
  it('accepts --flag=value as well as --flag value', () => {
    const args = parseProduceArgs(
      ['--rate=100', '--users', '7', '--seed=3', '--fraud=large,hop', '--quiet'],
      noRandom,
    );
    expect(args).toMatchObject({
      rate: 100,
      users: 7,
      seed: 3,
      fraud: { largePurchase: 1, countryHop: 1 },
      quiet: true,
    });
  });

  it.each([
    [['--rate'], '--rate needs a positive number, got nothing'],
    [['--rate', '--users', '3'], '--rate needs a positive number, got "--users"'],
    [['--users=2.5'], '--users needs a positive integer, got "2.5"'],
    [['--seed=-1'], '--seed needs a non-negative integer, got "-1"'],
    [['--seed='], '--seed needs a non-negative integer, got ""'],
    [['--returning', '2'], '--returning needs a fraction between 0 and 1, got "2"'],
    [['--fraud', 'huge'], '--fraud: unknown "huge"; expected one of large, burst, hop'],
    [['--stream'], '--stream needs a stream name or ARN'],
    [['--rate', '0.01', '--duration', '1'], '--rate × --duration must be at least one event'],
  ])('keeps the validation message for %j', (argv, message) => {
    expect(() => parseProduceArgs(argv, noRandom)).toThrow(new UsageError(message));
  });

  it('names an unknown flag and shows the usage', () => {
    expect(() => parseProduceArgs(['--rat', '5'])).toThrow(/^unknown flag "--rat"\nUsage: npm run produce/);
  });
});

describe('demo flags', () => {
  it('uses the demo defaults unless told otherwise', () => {
    const options = parseDemoArgs([], noRandom);
    expect(options).toMatchObject({ help: false, keepRunning: false, shards: 2 });
    expect(options.traffic).toMatchObject({
      duration: 60,
      rate: 40,
      fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
    });
  });

  it('reads its own flags and the produce flags, in both forms', () => {
    const options = parseDemoArgs([
      '--shards=3',
      '--keep-running',
      '--duration',
      '30',
      '--rate=60',
      '--fraud=burst',
    ]);
    expect(options).toMatchObject({ keepRunning: true, shards: 3 });
    expect(options.traffic).toMatchObject({ duration: 30, rate: 60, fraud: { burst: 1 } });
    expect(parseDemoArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--shards', '9'], '--shards needs an integer from 1 to 8'],
    [['--shards'], '--shards needs an integer from 1 to 8'],
    [['--keep-running=yes'], '--keep-running takes no value'],
    [['--bogus'], /^unknown flag "--bogus"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(message);
  });
});

describe('bench, stack and runner flags', () => {
  it('bench: modes, --out=dir, --only=areas, and errors that name the flag', () => {
    expect(parseBenchArgs(['--quick', '--out=/tmp/b', '--only=sessions,fraud'])).toEqual({
      mode: 'quick',
      outDir: '/tmp/b',
      areas: ['sessions', 'fraud'],
    });
    expect(parseBenchArgs([])).toEqual({ mode: 'full' });
    expect(() => parseBenchArgs(['--fast'])).toThrow(/^unknown flag --fast: expected --quick/);
    expect(() => parseBenchArgs(['--only', 'gpu'])).toThrow(/^unknown area\(s\) gpu/);
  });

  it('stack: one command, default up, --no-resources', () => {
    expect(parseStackArgs([])).toEqual({ command: 'up', resources: true });
    expect(parseStackArgs(['up', '--no-resources'])).toEqual({ command: 'up', resources: false });
    expect(() => parseStackArgs(['up', '--detach'])).toThrow(/^unknown flag --detach/);
    expect(() => parseStackArgs(['up', 'down'])).toThrow(/^one command at a time/);
  });

  it('runner: --functions=a,b and --stats-every, checked', () => {
    expect(parseRunnerArgs(['--functions=fraud-rules', '--stats-every', '2'])).toEqual({
      functions: ['fraud-rules'],
      statsEveryMs: 2_000,
    });
    expect(() => parseRunnerArgs(['--functions', 'fraud'])).toThrow(/^--functions: unknown fraud/);
    expect(() => parseRunnerArgs(['--every', '2'])).toThrow(/^unknown flag --every/);
  });
});
