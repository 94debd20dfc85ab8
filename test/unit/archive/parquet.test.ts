import fc from 'fast-check';
import {
  decodeEvents,
  decodeInvalid,
  encodeEvents,
  encodeInvalid,
} from '../../../services/shared/archive/parquet.js';
import type { InvalidRecord, ValidRecord } from '../../../services/shared/kinesis.js';

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
const json = fc.jsonValue({ maxDepth: 2 });
const recordArb: fc.Arbitrary<ValidRecord> = fc.record({
  shardId: fc.constantFrom('shardId-000000000000', 'shardId-000000000003'),
  sequenceNumber: fc.bigInt({ min: 0n, max: 10n ** 56n }).map(String),
  arrivalMs: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) }),
  event: fc.record(
    {
      eventId: text,
      userId: text,
      eventType: text,
      timestamp: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) }),
      data: fc.dictionary(fc.string(), json),
      schemaVersion: fc.constant(1),
    },
    { requiredKeys: ['eventId', 'userId', 'eventType', 'timestamp', 'data'] },
  ),
});

describe('archive parquet files', () => {
  it('reads back exactly the records it wrote, events as validated', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { maxLength: 30 }), async (records) => {
        // JSON normalises -0 and the like exactly as the stream did: compare through it.
        expect(await decodeEvents(encodeEvents(records))).toEqual(JSON.parse(JSON.stringify(records)));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps invalid records with their reason and raw bytes', async () => {
    const invalid: InvalidRecord[] = [
      {
        shardId: 'shardId-000000000001',
        sequenceNumber: '49600000000000000000000000000000000000000000000000000001',
        arrivalMs: Date.UTC(2026, 11, 2, 10),
        partitionKey: 'u-1',
        reason: 'data is not valid JSON',
        rawData: Buffer.from('{oops').toString('base64'),
      },
    ];
    expect(await decodeInvalid(encodeInvalid(invalid))).toEqual(invalid);
  });
});
