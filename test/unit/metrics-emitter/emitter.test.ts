import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  datumBytes,
  MetricEmissionError,
  planRequests,
  putMetricData,
} from '../../../services/metrics-emitter/emitter.js';
import { T0 } from '../../helpers/records.js';
import { FakeCloudWatch } from './fake-cloudwatch.js';

function datums(n: number): MetricDatum[] {
  return Array.from({ length: n }, (_, i) => ({
    MetricName: 'Events',
    Dimensions: [{ Name: 'Environment', Value: 'test' }],
    Timestamp: new Date(T0),
    StatisticValues: { SampleCount: i + 1, Sum: i + 1, Minimum: 1, Maximum: 1 },
    Unit: 'Count',
  }));
}

describe('planRequests', () => {
  it('chunks at 1000 datums, keeping order', () => {
    const all = datums(2500);
    const requests = planRequests(all);
    expect(requests.map((r) => r.length)).toEqual([1000, 1000, 500]);
    expect(requests.flat()).toEqual(all);
  });

  it('keeps exactly 1000 datums in one request', () => {
    expect(planRequests(datums(1000)).map((r) => r.length)).toEqual([1000]);
  });

  it('chunks by bytes when the byte budget is reached first', () => {
    const all = datums(10);
    const size = datumBytes(all[0] as MetricDatum);
    const requests = planRequests(all, 1000, size * 3 + 5);
    expect(requests.map((r) => r.length)).toEqual([3, 3, 3, 1]);
  });
});

describe('putMetricData', () => {
  it('sends every request in order with the namespace', async () => {
    const cloudwatch = new FakeCloudWatch();
    const all = datums(2001);
    await expect(putMetricData(cloudwatch, 'Pulse', all)).resolves.toBe(3);
    expect(cloudwatch.requests.map((r) => [r.Namespace, r.MetricData?.length])).toEqual([
      ['Pulse', 1000],
      ['Pulse', 1000],
      ['Pulse', 1],
    ]);
    expect(cloudwatch.datums.map((d) => d.StatisticValues?.Sum)).toEqual(
      all.map((d) => d.StatisticValues?.Sum),
    );
  });

  it('stops at the first failed request and says how much went out', async () => {
    const cloudwatch = new FakeCloudWatch();
    cloudwatch.failCall(2);
    const error = await putMetricData(cloudwatch, 'Pulse', datums(2500)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MetricEmissionError);
    expect((error as MetricEmissionError).sentDatums).toBe(1000);
    expect(((error as MetricEmissionError).cause as Error).name).toBe('ThrottlingException');
    expect(cloudwatch.requests).toHaveLength(1);
  });

  it('sends nothing for no datums', async () => {
    const cloudwatch = new FakeCloudWatch();
    await expect(putMetricData(cloudwatch, 'Pulse', [])).resolves.toBe(0);
    expect(cloudwatch.requests).toEqual([]);
  });
});
