/**
 * BASELINE, not production code: the seed design's metrics, one PutMetricData per record (that
 * record's datums: Events, Events by EventType and, for a purchase, Purchases and Revenue), with
 * no de-duplication (a re-delivered batch is counted twice).
 */
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { KinesisStreamEvent } from 'aws-lambda';
import { isPurchase } from '../../../services/shared/event.js';
import { decodeSeedRecord } from './decode.js';

export async function seedEmitMetrics(
  event: KinesisStreamEvent,
  deps: { cloudwatch: Pick<CloudWatchClient, 'send'>; namespace: string; environment: string },
): Promise<{ processed: number; requests: number }> {
  let processed = 0;
  let requests = 0;
  for (const record of event.Records) {
    const parsed = decodeSeedRecord(record);
    if (!parsed) continue;
    const env = { Name: 'Environment', Value: deps.environment };
    const Timestamp = new Date(parsed.timestamp);
    const datums: MetricDatum[] = [
      { MetricName: 'Events', Dimensions: [env], Timestamp, Value: 1, Unit: 'Count' },
      {
        MetricName: 'Events',
        Dimensions: [env, { Name: 'EventType', Value: parsed.eventType }],
        Timestamp,
        Value: 1,
        Unit: 'Count',
      },
    ];
    if (isPurchase(parsed)) {
      datums.push(
        { MetricName: 'Purchases', Dimensions: [env], Timestamp, Value: 1, Unit: 'Count' },
        { MetricName: 'Revenue', Dimensions: [env], Timestamp, Value: parsed.data.amount, Unit: 'None' },
      );
    }
    await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: deps.namespace, MetricData: datums }));
    requests += 1;
    processed += 1;
  }
  return { processed, requests };
}
