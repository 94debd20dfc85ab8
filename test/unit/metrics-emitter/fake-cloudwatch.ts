/** A hand-written stand-in for CloudWatchClient.send: records PutMetricData inputs, fails on demand. */
import type { MetricDatum, PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';

export class FakeCloudWatch {
  readonly requests: PutMetricDataCommandInput[] = [];
  private readonly failures = new Map<number, Error>();
  private attempts = 0;

  /** The `n`th PutMetricData call from now (1-based) throws `error`. */
  failCall(
    n: number,
    error: Error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
  ): void {
    this.failures.set(this.attempts + n, error);
  }

  async send(command: { constructor: { name: string }; input: unknown }): Promise<Record<string, unknown>> {
    if (command.constructor.name !== 'PutMetricDataCommand')
      throw new Error(`unexpected ${command.constructor.name}`);
    this.attempts += 1;
    const error = this.failures.get(this.attempts);
    if (error) throw error;
    this.requests.push(structuredClone(command.input as PutMetricDataCommandInput));
    return {};
  }

  get datums(): MetricDatum[] {
    return this.requests.flatMap((r) => r.MetricData ?? []);
  }

  /** Total of Sum over every datum sent for `metric` with exactly these dimension values. */
  total(metric: string, dims: Record<string, string>, field: 'Sum' | 'SampleCount' = 'Sum'): number {
    return this.matching(metric, dims).reduce((n, d) => n + (d.StatisticValues?.[field] ?? 0), 0);
  }

  matching(metric: string, dims: Record<string, string>): MetricDatum[] {
    const wanted = Object.entries(dims).sort().join(';');
    return this.datums.filter(
      (d) =>
        d.MetricName === metric &&
        (d.Dimensions ?? [])
          .map((x) => [x.Name, x.Value])
          .sort()
          .join(';') === wanted,
    );
  }
}
