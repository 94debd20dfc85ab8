/** The one GetMetricData paging loop: the metrics CLI, the demo and the e2e read-back all use it. */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';

export interface MetricPoint {
  /** Epoch ms of the period's start. */
  timestamp: number;
  value: number;
}

/** Every point of every query, across all pages, by query Id. */
export async function getMetricData(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  input: Omit<GetMetricDataCommandInput, 'NextToken'>,
): Promise<Map<string, MetricPoint[]>> {
  const points = new Map<string, MetricPoint[]>();
  let nextToken: string | undefined;
  do {
    const out = await cloudwatch.send(new GetMetricDataCommand({ ...input, NextToken: nextToken }));
    for (const result of out.MetricDataResults ?? []) {
      const id = result.Id ?? '';
      const list = points.get(id) ?? [];
      const values = result.Values ?? [];
      (result.Timestamps ?? []).forEach((t, i) => {
        list.push({ timestamp: new Date(t).getTime(), value: values[i] ?? 0 });
      });
      points.set(id, list);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return points;
}
