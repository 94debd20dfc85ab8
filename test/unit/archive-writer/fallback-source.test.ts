/**
 * The re-drive's source with the archive behind the stream: whatever the stream has trimmed (the
 * head of the range, all of it, or the shard itself), the pages together are exactly the range as
 * it was on the stream, in order, `from` first.
 */
import fc from 'fast-check';
import { archiveBatch } from '../../../services/archive-writer/writer.js';
import { StreamThenArchiveSource } from '../../../services/shared/archive/fallback-source.js';
import { ArchiveStore } from '../../../services/shared/archive/store.js';
import type { RangeRecord, RangeSource } from '../../../services/shared/failure/range-source.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { compareSequence } from '../../../services/shared/sequence.js';
import { FakeS3 } from '../../helpers/fake-s3.js';
import { aKinesisEvent, aRecord } from '../../helpers/records.js';

const SHARD = 'shardId-000000000003';
const BASE = Date.UTC(2026, 10, 20);

function streamHolding(records: RangeRecord[], gone: 'none' | 'shard'): RangeSource {
  return {
    async *pages(_at, from, to) {
      if (gone === 'shard')
        throw Object.assign(new Error('shard gone'), { name: 'ResourceNotFoundException' });
      yield [];
      const inRange = records.filter(
        (r) => compareSequence(r.sequenceNumber, from) >= 0 && compareSequence(r.sequenceNumber, to) <= 0,
      );
      for (let i = 0; i < inRange.length; i += 3) yield inRange.slice(i, i + 3);
    },
  };
}

test('stream pages where the stream still has them, archive pages before; the whole range, once, in order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      fc.constantFrom('none' as const, 'shard' as const),
      async (n, trimSeed, a, b, gone) => {
        const s3 = new FakeS3();
        const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b' });
        const kinesis = Array.from({ length: n }, (_, i) =>
          aRecord(
            {
              eventId: `e-${i}`,
              userId: `u-${i % 4}`,
              eventType: 'page_view',
              timestamp: BASE + i * 60_000,
              data: {},
            },
            {
              shardId: SHARD,
              sequenceNumber: `4960${String(i).padStart(52, '0')}`,
              arrivalMs: BASE + i * 60_000 + 500,
            },
          ),
        );
        for (let i = 0; i < n; i += 7)
          await archiveBatch(aKinesisEvent(kinesis.slice(i, i + 7)), {
            store,
            logger: silentLogger,
            decode: { maxEventAheadMs: 300_000 },
          });
        const all: RangeRecord[] = kinesis.map((r) => ({
          shardId: SHARD,
          sequenceNumber: r.kinesis.sequenceNumber,
          partitionKey: r.kinesis.partitionKey,
          data: Buffer.from(r.kinesis.data, 'base64'),
          arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
        }));
        const trimmed = all.slice(trimSeed % (n + 1));
        const seqs = all.map((r) => r.sequenceNumber);
        const [from, to] = [seqs[a % n] as string, seqs[b % n] as string].sort(compareSequence) as [
          string,
          string,
        ];
        const source = new StreamThenArchiveSource({
          stream: streamHolding(trimmed, gone),
          store,
          pageSize: 4,
        });
        const got: RangeRecord[] = [];
        for await (const page of source.pages({ streamArn: 'arn', shardId: SHARD }, from, to))
          got.push(...page);
        const expected = all.filter(
          (r) => compareSequence(r.sequenceNumber, from) >= 0 && compareSequence(r.sequenceNumber, to) <= 0,
        );
        const view = (rs: RangeRecord[]) =>
          rs.map((r) => ({
            seq: r.sequenceNumber,
            key: r.partitionKey,
            event: JSON.parse(Buffer.from(r.data).toString()),
            at: r.arrivalMs,
          }));
        expect(view(got)).toEqual(view(expected));
      },
    ),
    { numRuns: 60 },
  );
});
