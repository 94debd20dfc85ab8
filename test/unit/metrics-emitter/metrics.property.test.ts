/**
 * Property: whatever the delivery (arbitrary batch splits, CloudWatch and watermark faults,
 * lost responses and re-deliveries, running out of time, a reshard whose children number their
 * records below the parents' and receive producer retries of events their parents emitted), the
 * datums sent sum, per metric, minute and dimensions, to a plain reference model applied once
 * to the unique valid events (and once per invalid record).
 */
import fc from 'fast-check';
import { emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import type { ParentShards } from '../../../services/shared/lineage.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, MINUTE } from '../../helpers/records.js';
import { ARRIVAL0, deliver, prng, streams } from '../../helpers/stream-model.js';
import { FakeCloudWatch } from './fake-cloudwatch.js';

const TABLE = 'watermarks';
const FN = 'metrics-emitter';
const NOW = ARRIVAL0 + 60 * MINUTE;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

type Sums = Map<string, { count: number; sum: number }>;

function addTo(sums: Sums, key: string, value: number): void {
  const cell = sums.get(key) ?? { count: 0, sum: 0 };
  cell.count += 1;
  cell.sum += value;
  sums.set(key, cell);
}

const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

test('metric sums equal the reference model over generated streams, reshards and faulty deliveries', async () => {
  let totals = { invocations: 0, partialFailures: 0, redeliveries: 0 };
  await fc.assert(
    fc.asyncProperty(
      streams,
      fc.integer(),
      fc.integer({ min: 3, max: 40 }),
      async (stream, seed, maxDatums) => {
        const rand = prng(seed);
        const dynamo = new FakeDynamo({ [TABLE]: ['pk'] });
        const cloudwatch = new FakeCloudWatch();
        const lineage = new Map(stream.shards.map((s) => [s.id, s.parents]));
        let lineageFails = false;
        const parentShards: ParentShards = async (_arn, shardId) => {
          if (lineageFails) {
            lineageFails = false;
            throw Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' });
          }
          return lineage.get(shardId) ?? [];
        };
        let deadlineAfterRequests = Number.POSITIVE_INFINITY;
        let requestsAtStart = 0;
        const stats = await deliver(
          stream.shards,
          async (records) => {
            const { response } = await emitBatchMetrics(aKinesisEvent(records), {
              cloudwatch,
              watermarks: new WatermarkStore({ db: dynamo.asClient(), tableName: TABLE, now: () => NOW }),
              namespace: 'Pulse',
              environment: 'test',
              functionName: FN,
              maxEventTypes: 50,
              recentEventIdsLimit: 5_000,
              duplicateWindowSeconds: 3_600,
              parentShards,
              // Small requests: a batch becomes several segments, each its own PutMetricData.
              segmentLimits: { maxDatums, maxBytes: 900_000 },
              logger: silentLogger,
              now: () => NOW,
              deadline: {
                remainingMs: () =>
                  cloudwatch.requests.length - requestsAtStart >= deadlineAfterRequests ? 0 : 60_000,
                marginMs: 6_000,
              },
            });
            return response;
          },
          {
            bisectOnError: false,
            maxBatch: 12,
            rand,
            redeliverChance: 0.1,
            beforeInvoke: () => {
              requestsAtStart = cloudwatch.requests.length;
              deadlineAfterRequests = rand() < 0.1 ? Math.floor(rand() * 3) : Number.POSITIVE_INFINITY;
              const r = rand();
              if (r < 0.15) cloudwatch.failCall(1 + Math.floor(rand() * 3));
              else if (r < 0.2) dynamo.failNext('GetCommand', new Error('watermark table throttled'));
              else if (r < 0.25) lineageFails = true;
            },
          },
        );
        totals = {
          invocations: totals.invocations + stats.invocations,
          partialFailures: totals.partialFailures + stats.partialFailures,
          redeliveries: totals.redeliveries + stats.redeliveries,
        };

        const expected: Sums = new Map();
        for (const e of stream.unique) {
          const m = minute(e.timestamp);
          addTo(expected, `Events|${m}|Environment=test`, 1);
          addTo(expected, `Events|${m}|Environment=test,EventType=${e.eventType}`, 1);
          if (e.eventType === 'purchase') {
            const amount = e.data.amount as number;
            addTo(expected, `Purchases|${m}|Environment=test`, 1);
            addTo(expected, `Revenue|${m}|Environment=test,Currency=${e.data.currency as string}`, amount);
            addTo(expected, `OrderValue|${m}|Environment=test,Currency=${e.data.currency as string}`, amount);
          }
        }
        const invalidRecords = stream.shards.flatMap((s) =>
          s.records.filter((r) => Buffer.from(r.kinesis.data, 'base64').toString().startsWith('{not json')),
        );
        for (const r of invalidRecords) {
          addTo(
            expected,
            `InvalidRecords|${minute(r.kinesis.approximateArrivalTimestamp * 1000)}|Environment=test`,
            1,
          );
        }

        const got: Sums = new Map();
        let lagSamples = 0;
        for (const d of cloudwatch.datums) {
          if (d.MetricName === 'PipelineLagMs') {
            lagSamples += d.StatisticValues?.SampleCount ?? 0;
            continue;
          }
          const dims = (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).join(',');
          const key = `${d.MetricName}|${d.Timestamp?.getTime()}|${dims}`;
          const cell = got.get(key) ?? { count: 0, sum: 0 };
          cell.count += d.StatisticValues?.SampleCount ?? 0;
          cell.sum += d.StatisticValues?.Sum ?? 0;
          got.set(key, cell);
        }
        const sorted = (s: Sums) => [...s].sort(([a], [b]) => (a < b ? -1 : 1));
        expect(sorted(got)).toEqual(sorted(expected));
        expect(lagSamples).toBe(stream.unique.length + invalidRecords.length);
      },
    ),
    { numRuns: RUNS },
  );
  expect(Object.values(totals).every((n) => n > 0)).toBe(true);
  console.log(`metrics property: ${RUNS} streams, ${JSON.stringify(totals)}`);
});
