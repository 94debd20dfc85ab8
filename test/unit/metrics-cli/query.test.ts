import type { GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { formatResult, metricQueries, readSlidingWindow } from '../../../scripts/metrics/query.js';
import { MINUTE, T0 } from '../../helpers/records.js';

/** A hand-written GetMetricData fake: answers from per-query series, two pages. */
function fakeCloudWatch(series: Record<string, Array<[number, number]>>, currencies: string[] = []) {
  const inputs: GetMetricDataCommandInput[] = [];
  return {
    inputs,
    async send(command: { constructor: { name: string }; input: unknown }) {
      if (command.constructor.name === 'ListMetricsCommand') {
        return {
          Metrics: currencies.map((c) => ({
            MetricName: 'Revenue',
            Dimensions: [
              { Name: 'Environment', Value: 'dev' },
              { Name: 'Currency', Value: c },
            ],
          })),
        };
      }
      if (command.constructor.name !== 'GetMetricDataCommand')
        throw new Error(`unexpected ${command.constructor.name}`);
      const input = command.input as GetMetricDataCommandInput;
      inputs.push(input);
      const page = input.NextToken === undefined ? 0 : 1;
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
          const points = (series[q.Id ?? ''] ?? []).filter((_, i) => i % 2 === page);
          return { Id: q.Id, Timestamps: points.map(([t]) => new Date(t)), Values: points.map(([, v]) => v) };
        }),
        NextToken: page === 0 ? 'page-2' : undefined,
      };
    },
  };
}

describe('readSlidingWindow', () => {
  it('reads the Sum of Events, Purchases and, per currency, Revenue and orders, and computes the window numbers', async () => {
    const cloudwatch = fakeCloudWatch(
      {
        events: [0, 1, 2, 3, 4, 5].map((i) => [T0 + i * MINUTE, 60]),
        purchases: [
          [T0, 4],
          [T0 + 2 * MINUTE, 2],
        ],
        revenue_0: [[T0 + 2 * MINUTE, 7]],
        orders_0: [[T0 + 2 * MINUTE, 1]],
        revenue_1: [
          [T0, 200],
          [T0 + 2 * MINUTE, 100],
        ],
        orders_1: [
          [T0, 4],
          [T0 + 2 * MINUTE, 1],
        ],
      },
      ['USD', 'EUR'],
    );
    const result = await readSlidingWindow({
      cloudwatch,
      environment: 'dev',
      end: new Date(T0 + 5 * MINUTE + 30_000),
      windowMinutes: 5,
      now: T0 + 60 * MINUTE,
    });
    // Window 12:00:30..12:05:30: minute 12:00 and 12:05 count half.
    expect(result).toEqual({
      environment: 'dev',
      namespace: 'Pulse',
      windowStart: new Date(T0 + 30_000).toISOString(),
      windowEnd: new Date(T0 + 5 * MINUTE + 30_000).toISOString(),
      windowMinutes: 5,
      eventsPerMinute: 60,
      purchasesPerMinute: 0.8,
      byCurrency: {
        EUR: { revenuePerMinute: 1.4, averageOrderValue: 7 },
        USD: { revenuePerMinute: 40, averageOrderValue: 100 / 1.5 },
      },
    });
    expect(cloudwatch.inputs).toHaveLength(2);
    expect(cloudwatch.inputs[0]?.StartTime).toEqual(new Date(T0));
    expect(cloudwatch.inputs[0]?.EndTime).toEqual(new Date(T0 + 6 * MINUTE));
    expect(cloudwatch.inputs[1]?.NextToken).toBe('page-2');
  });

  it('queries the Environment-only counts and each currency’s Revenue Sum and OrderValue SampleCount per minute', () => {
    expect(
      metricQueries('Pulse', 'prod', ['USD']).map((q) => [
        q.Id,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Stat,
        q.MetricStat?.Period,
      ]),
    ).toEqual([
      ['events', 'Events', 'Sum', 60],
      ['purchases', 'Purchases', 'Sum', 60],
      ['revenue_0', 'Revenue', 'Sum', 60],
      ['orders_0', 'OrderValue', 'SampleCount', 60],
    ]);
    expect(metricQueries('Pulse', 'prod', ['USD'])[2]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'Environment', Value: 'prod' },
      { Name: 'Currency', Value: 'USD' },
    ]);
    expect(metricQueries('Pulse', 'prod')[0]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'Environment', Value: 'prod' },
    ]);
  });
});

describe('formatResult', () => {
  it('prints the rates, and revenue and average order value per currency', () => {
    const text = formatResult({
      environment: 'dev',
      namespace: 'Pulse',
      windowStart: '2026-11-25T12:00:00.000Z',
      windowEnd: '2026-11-25T12:05:00.000Z',
      windowMinutes: 5,
      eventsPerMinute: 12.34,
      purchasesPerMinute: 1,
      byCurrency: {
        EUR: { revenuePerMinute: 6, averageOrderValue: 30 },
        USD: { revenuePerMinute: 1.005, averageOrderValue: null },
      },
    });
    expect(
      text
        .split('\n')
        .slice(3)
        .map((l) => l.replace(/\s+/g, ' ').trim()),
    ).toEqual([
      'revenue/min 6.00 EUR',
      'avg order value 30.00 EUR',
      'revenue/min 1.00 USD',
      'avg order value n/a USD',
    ]);
  });

  it('prints the rates, n/a revenue without purchases', () => {
    const text = formatResult({
      environment: 'dev',
      namespace: 'Pulse',
      windowStart: '2026-11-25T12:00:00.000Z',
      windowEnd: '2026-11-25T12:05:00.000Z',
      windowMinutes: 5,
      eventsPerMinute: 12.34,
      purchasesPerMinute: 0,
      byCurrency: {},
    });
    expect(text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'Pulse dev (Pulse): 2026-11-25T12:00:00Z .. 2026-11-25T12:05:00Z (5 min window, 30 s slide)',
      'events/min 12.3',
      'purchases/min 0.00',
      'revenue/min n/a (no purchases)',
    ]);
  });
});
