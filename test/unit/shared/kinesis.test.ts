import { decodeBatch, decodeRecord } from '../../../services/shared/kinesis.js';
import { anEvent, aRawRecord, aRecord, T0 } from '../../helpers/records.js';

describe('decodeRecord', () => {
  it('decodes base64 JSON into a validated event with its position', () => {
    const event = anEvent({ userId: 'u-9' });
    const record = aRecord(event, {
      shardId: 'shardId-000000000003',
      sequenceNumber: '42',
      arrivalMs: T0 + 500,
    });
    expect(decodeRecord(record)).toEqual({
      ok: true,
      record: { event, shardId: 'shardId-000000000003', sequenceNumber: '42', arrivalMs: T0 + 500 },
    });
  });

  it('rejects data that is not JSON, keeping the raw bytes and the position', () => {
    const record = aRawRecord('{"eventId":', { sequenceNumber: '7' });
    const decoded = decodeRecord(record);
    expect(decoded).toEqual({
      ok: false,
      record: expect.objectContaining({ rawData: record.kinesis.data, sequenceNumber: '7' }),
    });
    expect(decoded.ok ? '' : decoded.record.reason).toMatch(/^data is not valid JSON: /);
  });

  it('rejects bytes that are not UTF-8', () => {
    const decoded = decodeRecord(aRawRecord(Buffer.from([0xff, 0xfe, 0x7b])));
    expect(decoded).toMatchObject({ ok: false, record: { reason: 'data is not valid UTF-8' } });
  });

  it('rejects schema violations with the schema reason', () => {
    const decoded = decodeRecord(aRecord({ ...anEvent(), timestamp: 12 }));
    expect(decoded).toMatchObject({
      ok: false,
      record: { reason: 'schema: timestamp must be epoch milliseconds between 2000 and 2100' },
    });
  });

  it('rejects an event whose userId is not the partition key', () => {
    const decoded = decodeRecord(aRecord(anEvent({ userId: 'a' }), { partitionKey: 'b' }));
    expect(decoded).toMatchObject({
      ok: false,
      record: { reason: 'schema: userId does not match the record partition key' },
    });
  });

  it('accepts a replacement character that was really sent', () => {
    const event = anEvent({ data: { page: 'bad \uFFFD byte' } });
    expect(decodeRecord(aRecord(event))).toMatchObject({ ok: true, record: { event } });
  });

  it('keeps odd but valid unicode intact', () => {
    const event = anEvent({ userId: 'üser-😀', data: { page: '/caf\u00e9\u200d\u{1F468}' } });
    const decoded = decodeRecord(aRecord(event));
    expect(decoded).toMatchObject({ ok: true, record: { event } });
  });
});

describe('decodeBatch', () => {
  it('splits a batch into valid and invalid records in order', () => {
    const good1 = aRecord(anEvent());
    const bad = aRawRecord('not json');
    const good2 = aRecord(anEvent());
    const { valid, invalid } = decodeBatch([good1, bad, good2]);
    expect(valid.map((r) => r.sequenceNumber)).toEqual([
      good1.kinesis.sequenceNumber,
      good2.kinesis.sequenceNumber,
    ]);
    expect(invalid.map((r) => r.sequenceNumber)).toEqual([bad.kinesis.sequenceNumber]);
  });
});
