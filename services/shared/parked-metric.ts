/**
 * How long set-aside (parked) users have waited, per function: each re-drive run writes one
 * CloudWatch Embedded Metric Format line, which CloudWatch Logs turns into the metrics below with
 * no PutMetricData call (so no permission and no extra failure mode). The observability module's
 * per-function alarm reads `oldestAge`; a run with nothing parked reports 0, so a healed function
 * clears its alarm.
 */
import type { RedriveReport } from './failure/redrive.js';

export const PARKED_METRIC = {
  oldestAge: 'OldestParkedUserAgeSeconds',
  count: 'ParkedUsers',
  dimension: 'FunctionName',
} as const;

export interface ParkedSummary {
  namespace: string;
  functionName: string;
  /** Users set aside now. */
  parked: number;
  /** When the longest-waiting of them was set aside (epoch ms); absent when none is. */
  oldestParkedAt?: number;
  now: number;
}

export class ParkedMetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParkedMetricError';
  }
}

/** The EMF object to write as one line on stdout. */
export function parkedUsersEmf(s: ParkedSummary): Record<string, unknown> {
  if (!Number.isInteger(s.parked) || s.parked < 0)
    throw new ParkedMetricError(`parked must be a whole number >= 0, got ${s.parked}`);
  if (s.parked > 0 && s.oldestParkedAt === undefined)
    throw new ParkedMetricError('oldestParkedAt is required when users are parked');
  const age = s.parked === 0 ? 0 : Math.max(0, Math.floor((s.now - s.oldestParkedAt!) / 1000));
  return {
    _aws: {
      Timestamp: s.now,
      CloudWatchMetrics: [
        {
          Namespace: s.namespace,
          Dimensions: [[PARKED_METRIC.dimension]],
          Metrics: [
            { Name: PARKED_METRIC.oldestAge, Unit: 'Seconds' },
            { Name: PARKED_METRIC.count, Unit: 'Count' },
          ],
        },
      ],
    },
    [PARKED_METRIC.dimension]: s.functionName,
    [PARKED_METRIC.oldestAge]: age,
    [PARKED_METRIC.count]: s.parked,
  };
}

/** What stays set aside after a re-drive run: every entry it did not finish, and the oldest one's parkedAt. */
export function parkedAfterRun(report: Pick<RedriveReport, 'entries'>): {
  parked: number;
  oldestParkedAt?: number;
} {
  const waiting = report.entries.filter((e) => e.outcome !== 'done');
  const users = new Set(waiting.map((e) => e.sk));
  const times = waiting
    .map((e) => (e.parkedAt ? Date.parse(e.parkedAt) : Number.NaN))
    .filter(Number.isFinite);
  return {
    parked: users.size,
    ...(users.size > 0 ? { oldestParkedAt: times.length > 0 ? Math.min(...times) : undefined } : {}),
  };
}

/**
 * Writes the run's parked-users metric as one EMF line on stdout (where Lambda's log agent reads
 * it; the Powertools logger would wrap it in its own fields). An entry without `parkedAt` counts,
 * and the age is then measured from now: it shows as parked, never as older than it is.
 */
export function writeParkedMetric(
  report: Pick<RedriveReport, 'entries'>,
  o: {
    functionName: string;
    env: Record<string, string | undefined>;
    now?: number;
    write?: (line: string) => void;
  },
): void {
  const now = o.now ?? Date.now();
  const { parked, oldestParkedAt } = parkedAfterRun(report);
  const emf = parkedUsersEmf({
    namespace: o.env.METRICS_NAMESPACE?.trim() || 'Pulse',
    functionName: o.functionName,
    parked,
    ...(parked > 0 ? { oldestParkedAt: oldestParkedAt ?? now } : {}),
    now,
  });
  (o.write ?? ((line: string) => process.stdout.write(`${line}\n`)))(JSON.stringify(emf));
}
