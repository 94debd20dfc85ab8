import { parseDuration, parseMetricsArgs, UsageError } from '../../../scripts/metrics/args.js';

describe('parseMetricsArgs', () => {
  it('defaults to a 5-minute window for dev, now, once, as a table', () => {
    expect(parseMetricsArgs([])).toEqual({
      windowMs: 300_000,
      environment: 'dev',
      namespace: 'Pulse',
      at: undefined,
      watch: false,
      json: false,
      help: false,
    });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    expect(
      parseMetricsArgs(
        [
          '--window',
          '10m',
          '--environment=prod',
          '--namespace',
          'PulseX',
          '--at',
          '2026-11-25T12:00:45Z',
          '--json',
        ],
        {},
      ),
    ).toEqual({
      windowMs: 600_000,
      environment: 'prod',
      namespace: 'PulseX',
      at: new Date('2026-11-25T12:00:45Z'),
      watch: false,
      json: true,
      help: false,
    });
    expect(parseMetricsArgs(['--watch']).watch).toBe(true);
    expect(parseMetricsArgs(['-h']).help).toBe(true);
    expect(parseMetricsArgs(['--', '--json']).json).toBe(true);
  });

  it('takes the environment default from PULSE_ENVIRONMENT and the namespace default from the caller', () => {
    const options = parseMetricsArgs([], { PULSE_ENVIRONMENT: 'staging' }, { namespace: 'FromResources' });
    expect([options.environment, options.namespace]).toEqual(['staging', 'FromResources']);
  });

  it.each([
    [['--bogus'], 'unknown flag --bogus'],
    [['--window'], '--window needs a value'],
    [['--window', '--json'], '--window needs a value'],
    [['--window', '5'], '--window must be a duration like 5m, 300s or 1h, got "5"'],
    [['--window', '30s'], '--window must be between 1m and 24h, got 30s'],
    [['--window=25h'], '--window must be between 1m and 24h, got 25h'],
    [['--environment', ''], '--environment must not be empty'],
    [['--at', 'yesterday'], '--at must be an ISO 8601 time, got "yesterday"'],
    [['--at', '2026-13-45T00:00:00Z'], '--at must be an ISO 8601 time, got "2026-13-45T00:00:00Z"'],
    [['--json=yes'], '--json takes no value'],
    [['--watch', '--at', '2026-11-25T12:00:00Z'], '--at and --watch cannot be combined'],
    [['5m'], 'unexpected argument "5m"'],
  ])('rejects %j: %s', (argv, message) => {
    expect(() => parseMetricsArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('parseDuration', () => {
  it('converts seconds, minutes and hours', () => {
    expect([
      parseDuration('--window', '300s'),
      parseDuration('--window', '5m'),
      parseDuration('--window', '1h'),
    ]).toEqual([300_000, 300_000, 3_600_000]);
    expect(parseDuration('--window', '1.5m')).toBe(90_000);
  });
});
