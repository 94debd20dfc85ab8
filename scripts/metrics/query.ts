/** Reads the per-minute series behind the sliding window from CloudWatch (GetMetricData). */
import { type CloudWatchClient, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { getMetricData } from '../../lib/get-metric-data.js';
import { MINUTE_MS, type Window, type WindowNumbers, type WindowSeries, windowNumbers } from './window.js';

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

/** The currencies that have a Revenue series in this environment (ListMetrics, all pages). */
export async function listCurrencies(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  namespace: string,
  environment: string,
): Promise<string[]> {
  const currencies = new Set<string>();
  let nextToken: string | undefined;
  do {
    const out = await cloudwatch.send(
      new ListMetricsCommand({
        Namespace: namespace,
        MetricName: 'Revenue',
        Dimensions: [{ Name: 'Environment', Value: environment }],
        NextToken: nextToken,
      }),
    );
    for (const metric of out.Metrics ?? []) {
      const currency = metric.Dimensions?.find((d) => d.Name === 'Currency')?.Value;
      if (currency) currencies.add(currency);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return [...currencies].sort();
}

const query = (
  id: string,
  namespace: string,
  metric: string,
  dimensions: Record<string, string>,
  stat: 'Sum' | 'SampleCount',
): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: namespace,
      MetricName: metric,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: 60,
    Stat: stat,
  },
  ReturnData: true,
});

/**
 * Sums of Events and Purchases (Environment only); per currency the Revenue Sum and the
 * OrderValue SampleCount (that currency's purchases, for its average order value).
 */
export function metricQueries(namespace: string, environment: string, currencies: readonly string[] = []) {
  const env = { Environment: environment };
  return [
    query('events', namespace, 'Events', env, 'Sum'),
    query('purchases', namespace, 'Purchases', env, 'Sum'),
    ...currencies.flatMap((currency, i) => [
      query(`revenue_${i}`, namespace, 'Revenue', { ...env, Currency: currency }, 'Sum'),
      query(`orders_${i}`, namespace, 'OrderValue', { ...env, Currency: currency }, 'SampleCount'),
    ]),
  ];
}

export async function readSeries(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  namespace: string,
  environment: string,
  window: Window,
): Promise<WindowSeries> {
  const currencies = await listCurrencies(cloudwatch, namespace, environment);
  const revenue = new Map(currencies.map((c) => [c, new Map<number, number>()]));
  const orders = new Map(currencies.map((c) => [c, new Map<number, number>()]));
  const targets = new Map<string, Map<number, number>>([
    ['events', new Map()],
    ['purchases', new Map()],
  ]);
  currencies.forEach((c, i) => {
    targets.set(`revenue_${i}`, revenue.get(c) as Map<number, number>);
    targets.set(`orders_${i}`, orders.get(c) as Map<number, number>);
  });
  // Whole minutes around the window: the first and last may count only in part.
  const start = Math.floor(window.start.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.ceil(window.end.getTime() / MINUTE_MS) * MINUTE_MS;
  const points = await getMetricData(cloudwatch, {
    MetricDataQueries: metricQueries(namespace, environment, currencies),
    StartTime: new Date(start),
    EndTime: new Date(Math.max(end, start + MINUTE_MS)),
    ScanBy: 'TimestampAscending',
  });
  for (const [id, list] of points) {
    const target = targets.get(id);
    if (!target) continue;
    for (const { timestamp, value } of list) target.set(timestamp, (target.get(timestamp) ?? 0) + value);
  }
  return {
    events: targets.get('events') as Map<number, number>,
    purchases: targets.get('purchases') as Map<number, number>,
    revenue,
    orders,
  };
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
    ...Object.entries(result.byCurrency).flatMap(([currency, n]) => [
      `  revenue/min     ${fmt(n.revenuePerMinute, 2)} ${currency}`,
      `  avg order value ${fmt(n.averageOrderValue, 2)} ${currency}`,
    ]),
    ...(Object.keys(result.byCurrency).length === 0 ? ['  revenue/min              n/a (no purchases)'] : []),
  ].join('\n');
}
