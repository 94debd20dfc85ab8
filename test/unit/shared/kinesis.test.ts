import { decodeBatch, decodeRecord, jsonErrorReason } from '../../../services/shared/kinesis.js';
import { anEvent, aRawRecord, aRecord, MINUTE, T0 } from '../../helpers/records.js';

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
    expect(decoded.ok ? '' : decoded.record.reason).toBe('data is not valid JSON: it ends early');
  });

  it('never quotes the input in the reason, only the position V8 reports', () => {
    const reasonOf = (text: string) => {
      const decoded = decodeRecord(aRawRecord(text));
      return decoded.ok ? '' : decoded.record.reason;
    };
    expect(reasonOf('\u001b[31mERROR\u001b[0m')).toBe('data is not valid JSON');
    expect(reasonOf('{"a":1}\u0000')).toBe('data is not valid JSON: error at character 7');
    expect(reasonOf('"ab\u0001c"')).toBe('data is not valid JSON: error at character 3');
    expect(reasonOf('\uffff')).toBe('data is not valid JSON');
  });

  it('names a parse failure that is not a syntax error without claiming a position', () => {
    expect(jsonErrorReason(new RangeError('Maximum call stack size exceeded'))).toBe(
      'data could not be parsed as JSON',
    );
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

describe('event time against arrival time', () => {
  const at = (timestamp: number, arrivalMs: number, maxEventAheadMs = 300_000) =>
    decodeRecord(aRecord(anEvent({ timestamp }), { arrivalMs }), { maxEventAheadMs });

  it('accepts an event up to the tolerance ahead of its arrival', () => {
    expect(at(T0 + 300_000, T0).ok).toBe(true);
    expect(at(T0 + 60_000, T0, 60_000).ok).toBe(true);
  });

  it('rejects an event further ahead, saying by how much and what the tolerance is', () => {
    expect(at(T0 + 300_001, T0)).toMatchObject({
      ok: false,
      record: { reason: "timestamp is 301 s ahead of the record's arrival time; the tolerance is 300 s" },
    });
    expect(at(T0 + 365 * 24 * 60 * MINUTE, T0)).toMatchObject({
      ok: false,
      record: {
        reason: "timestamp is 31536000 s ahead of the record's arrival time; the tolerance is 300 s",
      },
    });
    expect(at(T0 + 1, T0, 0)).toMatchObject({ ok: false });
  });

  it('accepts old events whatever their age: offline clients upload late', () => {
    expect(at(T0 - 30 * 24 * 60 * MINUTE, T0).ok).toBe(true);
    expect(at(Date.UTC(2000, 0, 1), T0, 0).ok).toBe(true);
  });

  it('uses the shipped default (300 s) when the caller passes no options', () => {
    expect(decodeRecord(aRecord(anEvent({ timestamp: T0 + 300_000 }), { arrivalMs: T0 })).ok).toBe(true);
    expect(decodeRecord(aRecord(anEvent({ timestamp: T0 + 300_001 }), { arrivalMs: T0 })).ok).toBe(false);
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
