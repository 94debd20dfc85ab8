/** Flags of `npm run metrics`; a bad flag fails fast with a message naming it. */

export const SLIDE_MS = 30_000;
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 24 * 60 * 60_000;

export interface MetricsOptions {
  windowMs: number;
  environment: string;
  namespace: string;
  /** Fixed evaluation time; undefined means "now" (re-evaluated on every --watch tick). */
  at: Date | undefined;
  watch: boolean;
  json: boolean;
  help: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: npm run metrics -- [options]

Prints the sliding-window numbers (events/min, purchases/min, revenue/min, average order value)
read from CloudWatch for the current window (5-minute window, 30-second slide).

Options:
  --window <duration>     window length, e.g. 5m, 300s, 1h (default 5m; 1m to 24h)
  --environment <name>    Environment dimension (default $PULSE_ENVIRONMENT or dev)
  --namespace <name>      CloudWatch namespace (default from services/resources.json)
  --at <iso-time>         evaluate the window ending at this time instead of now
  --watch                 re-print every 30 seconds (not with --at)
  --json                  print JSON instead of a table
  -h, --help              show this help

AWS_REGION and AWS_ENDPOINT_URL[_CLOUDWATCH] select the region and endpoint.`;

/** Parses a duration such as 5m, 300s or 1h into milliseconds. */
export function parseDuration(flag: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(raw.trim());
  if (!match)
    throw new UsageError(`${flag} must be a duration like 5m, 300s or 1h, got ${JSON.stringify(raw)}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS)
    throw new UsageError(`${flag} must be between 1m and 24h, got ${raw}`);
  return ms;
}

export function parseMetricsArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  defaults: { namespace: string } = { namespace: 'Pulse' },
): MetricsOptions {
  const options: MetricsOptions = {
    windowMs: 5 * 60_000,
    environment: env.PULSE_ENVIRONMENT?.trim() || 'dev',
    namespace: defaults.namespace,
    at: undefined,
    watch: false,
    json: false,
    help: false,
  };
  const args = [...argv];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--') continue;
    if (!arg.startsWith('-')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? args.shift();
      if (v === undefined || (inline === undefined && v.startsWith('--')))
        throw new UsageError(`${flag} needs a value`);
      if (v.trim() === '') throw new UsageError(`${flag} must not be empty`);
      return v;
    };
    const noValue = () => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
    };
    switch (flag) {
      case '--window':
        options.windowMs = parseDuration(flag, value());
        break;
      case '--environment':
        options.environment = value();
        break;
      case '--namespace':
        options.namespace = value();
        break;
      case '--at': {
        const raw = value();
        const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)
          ? Date.parse(raw)
          : Number.NaN;
        if (Number.isNaN(ms))
          throw new UsageError(`--at must be an ISO 8601 time, got ${JSON.stringify(raw)}`);
        options.at = new Date(ms);
        break;
      }
      case '--watch':
        noValue();
        options.watch = true;
        break;
      case '--json':
        noValue();
        options.json = true;
        break;
      case '-h':
      case '--help':
        noValue();
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown flag ${flag}`);
    }
  }
  if (options.watch && options.at) throw new UsageError('--at and --watch cannot be combined');
  return options;
}
