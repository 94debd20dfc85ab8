/** Reads the per-minute series behind the sliding window from CloudWatch (GetMetricData). */
import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { getMetricData } from './get-metric-data.js';
import { MINUTE_MS, type Window, type WindowNumbers, windowNumbers } from './window.js';

export interface SlidingWindowRequest {
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  environment: string;
  /** End of the window (callers align it to the slide, see slidingWindow). */
  end: Date;
  windowMinutes: number;
  namespace?: string;
  /** Current time, to weigh the minute in progress; defaults to Date.now(). */
  now?: number;
}

export interface SlidingWindowResult extends WindowNumbers {
  environment: string;
  namespace: string;
  windowStart: string;
  windowEnd: string;
  windowMinutes: number;
}

const SERIES = { events: 'Events', purchases: 'Purchases', revenue: 'Revenue' } as const;
type SeriesId = keyof typeof SERIES;

/** One query per series: the Sum of the Environment-only metric (statistic sets: Sum is the total). */
export function metricQueries(namespace: string, environment: string): MetricDataQuery[] {
  return (Object.keys(SERIES) as SeriesId[]).map((id) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: SERIES[id],
        Dimensions: [{ Name: 'Environment', Value: environment }],
      },
      Period: 60,
      Stat: 'Sum',
    },
    ReturnData: true,
  }));
}

export async function readSeries(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  namespace: string,
  environment: string,
  window: Window,
): Promise<Record<SeriesId, Map<number, number>>> {
  const series: Record<SeriesId, Map<number, number>> = {
    events: new Map(),
    purchases: new Map(),
    revenue: new Map(),
  };
  // Whole minutes around the window: the first and last may count only in part.
  const start = Math.floor(window.start.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.ceil(window.end.getTime() / MINUTE_MS) * MINUTE_MS;
  const points = await getMetricData(cloudwatch, {
    MetricDataQueries: metricQueries(namespace, environment),
    StartTime: new Date(start),
    EndTime: new Date(Math.max(end, start + MINUTE_MS)),
    ScanBy: 'TimestampAscending',
  });
  for (const [id, list] of points) {
    const target = series[id as SeriesId];
    if (!target) continue;
    for (const { timestamp, value } of list) target.set(timestamp, (target.get(timestamp) ?? 0) + value);
  }
  return series;
}

/** The four sliding-window numbers for the window of `windowMinutes` ending at `end`. */
export async function readSlidingWindow(request: SlidingWindowRequest): Promise<SlidingWindowResult> {
  const namespace = request.namespace ?? 'Pulse';
  const window: Window = {
    start: new Date(request.end.getTime() - request.windowMinutes * MINUTE_MS),
    end: request.end,
  };
  const series = await readSeries(request.cloudwatch, namespace, request.environment, window);
  return {
    environment: request.environment,
    namespace,
    windowStart: window.start.toISOString(),
    windowEnd: window.end.toISOString(),
    windowMinutes: request.windowMinutes,
    ...windowNumbers(series, window, request.now ?? Date.now()),
  };
}

export function formatResult(result: SlidingWindowResult): string {
  const fmt = (n: number | null, digits: number) => (n === null ? 'n/a' : n.toFixed(digits)).padStart(12);
  const time = (iso: string) => iso.replace('.000Z', 'Z');
  return [
    `Pulse ${result.environment} (${result.namespace}): ${time(result.windowStart)} .. ${time(result.windowEnd)}  (${result.windowMinutes} min window, 30 s slide)`,
    `  events/min      ${fmt(result.eventsPerMinute, 1)}`,
    `  purchases/min   ${fmt(result.purchasesPerMinute, 2)}`,
    `  revenue/min     ${fmt(result.revenuePerMinute, 2)}`,
    `  avg order value ${fmt(result.averageOrderValue, 2)}`,
  ].join('\n');
}
