/** Flags of `npm run metrics`; a bad flag fails fast with a message naming it. */
import { type FlagSpec, flagMessage, parseFlags, stringFlag } from '../../lib/flags.js';

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

const FLAGS: FlagSpec = {
  window: { type: 'string' },
  environment: { type: 'string' },
  namespace: { type: 'string' },
  at: { type: 'string' },
  watch: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function parseMetricsArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  defaults: { namespace: string } = { namespace: 'Pulse' },
): MetricsOptions {
  const flags = parseFlags(argv, FLAGS, { fail: (problem) => new UsageError(flagMessage(problem)) });
  const value = (name: string): string | undefined => {
    const v = stringFlag(flags, name);
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${name} must not be empty`);
    return v;
  };
  const window = value('window');
  const at = value('at');
  const options: MetricsOptions = {
    windowMs: window === undefined ? 5 * 60_000 : parseDuration('--window', window),
    environment: value('environment') ?? (env.PULSE_ENVIRONMENT?.trim() || 'dev'),
    namespace: value('namespace') ?? defaults.namespace,
    at: at === undefined ? undefined : parseAt(at),
    watch: flags.values.watch === true,
    json: flags.values.json === true,
    help: flags.values.help === true,
  };
  if (options.watch && options.at) throw new UsageError('--at and --watch cannot be combined');
  return options;
}

function parseAt(raw: string): Date {
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--at must be an ISO 8601 time, got ${JSON.stringify(raw)}`);
  return new Date(ms);
}
