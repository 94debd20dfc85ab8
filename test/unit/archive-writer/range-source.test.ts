/**
 * The archive serves a shard's sequence range as the stream did, before and after compaction:
 * the same records in the same order (valid events as the JSON that decodes to the same event,
 * invalid records as the exact bytes), nothing outside the range or from another shard.
 */
import fc from 'fast-check';
import { compactClosedHours } from '../../../services/archive-writer/compactor.js';
import { archiveBatch } from '../../../services/archive-writer/writer.js';
import { ArchiveRangeSource } from '../../../services/shared/archive/range-source.js';
import { ArchiveStore } from '../../../services/shared/archive/store.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { compareSequence } from '../../../services/shared/sequence.js';
import { FakeS3 } from '../../helpers/fake-s3.js';
import { aKinesisEvent, aRawRecord, aRecord } from '../../helpers/records.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 10, 20);
const decode = { maxEventAheadMs: 300_000 };

test('a shard range read back from the archive equals the stream range, compacted or not', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          shard: fc.constantFrom('shardId-000000000000', 'shardId-000000000001'),
          user: fc.integer({ min: 0, max: 9 }),
          hour: fc.integer({ min: 0, max: 5 }),
          invalid: fc.boolean(),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      fc.integer({ min: 1, max: 20 }),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
      async (specs, batchSize, a, b, compact) => {
        const s3 = new FakeS3();
        const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b' });
        const records = specs.map((s, i) => {
          const sequenceNumber = `4960${String(1000 + i).padStart(52, '0')}`;
          const timestamp = BASE + s.hour * HOUR + i;
          return s.invalid
            ? aRawRecord(`{"broken":${i}`, {
                shardId: s.shard,
                sequenceNumber,
                partitionKey: `u-${s.user}`,
                arrivalMs: timestamp,
              })
            : aRecord(
                { eventId: `e-${i}`, userId: `u-${s.user}`, eventType: 'page_view', timestamp, data: { i } },
                { shardId: s.shard, sequenceNumber, arrivalMs: timestamp + 1000 },
              );
        });
        for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
          const own = records.filter((r) => r.eventID.startsWith(shard));
          for (let i = 0; i < own.length; i += batchSize) {
            await archiveBatch(aKinesisEvent(own.slice(i, i + batchSize)), {
              store,
              logger: silentLogger,
              decode,
            });
          }
        }
        if (compact) {
          await compactClosedHours({
            store,
            logger: silentLogger,
            nowMs: BASE + 30 * HOUR,
            graceMs: 0,
            lookbackHours: 48,
          });
        }
        const shard = 'shardId-000000000001';
        const onShard = records.filter((r) => r.eventID.startsWith(shard));
        fc.pre(onShard.length > 0);
        const seqs = onShard.map((r) => r.kinesis.sequenceNumber);
        const [from, to] = [seqs[a % seqs.length] as string, seqs[b % seqs.length] as string].sort(
          compareSequence,
        ) as [string, string];
        const expected = onShard
          .filter(
            (r) =>
              compareSequence(r.kinesis.sequenceNumber, from) >= 0 &&
              compareSequence(r.kinesis.sequenceNumber, to) <= 0,
          )
          .map((r) => ({
            sequenceNumber: r.kinesis.sequenceNumber,
            partitionKey: r.kinesis.partitionKey,
            data: JSON.parse(
              Buffer.from(r.kinesis.data, 'base64')
                .toString('utf8')
                .replace(/^\{"broken":(\d+)$/, '"$1"'),
            ),
            arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
          }));
        const source = new ArchiveRangeSource({ store, pageSize: 7 });
        const got = [];
        for await (const page of source.pages({ streamArn: 'arn', shardId: shard }, from, to))
          got.push(...page);
        expect(got.every((r) => r.shardId === shard)).toBe(true);
        expect(
          got.map((r) => ({
            sequenceNumber: r.sequenceNumber,
            partitionKey: r.partitionKey,
            data: JSON.parse(
              Buffer.from(r.data)
                .toString('utf8')
                .replace(/^\{"broken":(\d+)$/, '"$1"'),
            ),
            arrivalMs: r.arrivalMs,
          })),
        ).toEqual(expected);
      },
    ),
    { numRuns: 40 },
  );
});
