/** One GetMetricData paging loop serves the metrics CLI and the e2e/demo read-back (metricSum). */
import type { GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import type { Clients } from '../../../lib/aws.js';
import { getMetricData } from '../../../lib/get-metric-data.js';
import { metricSum } from '../../../scripts/local/readback.js';
import { MINUTE, T0 } from '../../helpers/records.js';

/** Three pages; each page carries one point of every query. */
function pagedCloudWatch(points: Array<[number, number]>) {
  const inputs: GetMetricDataCommandInput[] = [];
  return {
    inputs,
    async send(command: { input: unknown }) {
      const input = command.input as GetMetricDataCommandInput;
      inputs.push(input);
      const page = Number(input.NextToken ?? 0);
      const point = points[page];
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
          Id: q.Id,
          Timestamps: point ? [new Date(point[0])] : [],
          Values: point ? [point[1]] : [],
        })),
        NextToken: page + 1 < points.length ? String(page + 1) : undefined,
      };
    },
  };
}

const query = (Id: string) => ({
  Id,
  MetricStat: { Metric: { Namespace: 'Pulse', MetricName: 'Events' }, Period: 60, Stat: 'Sum' },
});

describe('getMetricData', () => {
  it('follows NextToken and gathers every page by query id', async () => {
    const cloudwatch = pagedCloudWatch([
      [T0, 5],
      [T0 + MINUTE, 7],
      [T0 + 2 * MINUTE, 1.5],
    ]);
    const points = await getMetricData(cloudwatch, {
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 3 * MINUTE),
      MetricDataQueries: [query('a'), query('b')],
    });
    expect(cloudwatch.inputs.map((i) => i.NextToken)).toEqual([undefined, '1', '2']);
    expect(points.get('a')).toEqual([
      { timestamp: T0, value: 5 },
      { timestamp: T0 + MINUTE, value: 7 },
      { timestamp: T0 + 2 * MINUTE, value: 1.5 },
    ]);
    expect(points.get('b')).toHaveLength(3);
  });

  it('is what metricSum pages with: the sum and the minutes over all pages', async () => {
    const cloudwatch = pagedCloudWatch([
      [T0, 5],
      [T0 + MINUTE, 7],
      [T0 + 2 * MINUTE, 1.5],
    ]);
    const sum = await metricSum({ cloudwatch } as unknown as Clients, {
      namespace: 'Pulse',
      metric: 'Events',
      dimensions: { Environment: 'local' },
      start: new Date(T0),
      end: new Date(T0 + 3 * MINUTE),
    });
    expect(sum).toEqual({ sum: 13.5, minutes: 3 });
    expect(cloudwatch.inputs).toHaveLength(3);
  });
});
