/**
 * A UTF-8 byte-order mark before the JSON. The review found services/shared/kinesis.ts decodeText
 * reading the payload with Buffer#toString (which keeps the BOM as U+FEFF, which JSON.parse
 * refuses) and, only when the text held a U+FFFD, again with a fatal TextDecoder (which strips a
 * leading BOM): the same BOM-prefixed event was invalid unless one of its strings happened to hold
 * a valid U+FFFD. Decided: one leading BOM is accepted and dropped, in both paths; anything else
 * about U+FEFF is left to JSON (a second BOM, or one between tokens, is invalid JSON; one inside a
 * string is data).
 */
import { decodeRecord } from '../../../services/shared/kinesis.js';
import { aRawRecord, T0 } from '../../helpers/records.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const event = (page: string) =>
  JSON.stringify({ eventId: 'e-1', userId: 'user-1', eventType: 'page_view', timestamp: T0, data: { page } });
const decode = (...parts: Buffer[]) => decodeRecord(aRawRecord(Buffer.concat(parts)));

describe('a BOM-prefixed record', () => {
  it('is judged the same whatever its strings contain', () => {
    const plain = decode(BOM, Buffer.from(event('/home')));
    const withReplacementChar = decode(BOM, Buffer.from(event('/h\uFFFDme')));
    expect(withReplacementChar.ok).toBe(plain.ok);
  });

  it('is valid, the BOM dropped, in the fast path and in the strict one (text holding U+FFFD)', () => {
    for (const page of ['/home', '/h\uFFFDme']) {
      const decoded = decode(BOM, Buffer.from(event(page)));
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(decoded.record.event.data).toEqual({ page });
    }
  });

  it('two BOMs, or one after the first byte, are invalid JSON in both paths', () => {
    for (const page of ['/home', '/h\uFFFDme']) {
      const twice = decode(BOM, BOM, Buffer.from(event(page)));
      const inside = decode(Buffer.from(' '), BOM, Buffer.from(event(page)));
      expect([twice.ok, inside.ok]).toEqual([false, false]);
      if (!twice.ok) expect(twice.record.reason).toMatch(/^data is not valid JSON/);
    }
  });

  it('keeps a U+FEFF inside a string as data, and still refuses invalid UTF-8 after a BOM', () => {
    const kept = decode(BOM, Buffer.from(event('\uFEFF/home')));
    expect(kept.ok && kept.record.event.data).toEqual({ page: '\uFEFF/home' });
    const broken = decode(BOM, Buffer.from(event('/home')), Buffer.from([0xff]));
    expect(broken.ok ? undefined : broken.record.reason).toBe('data is not valid UTF-8');
  });

  it('keeps the raw bytes, BOM included, for the invalid-records queue', () => {
    const raw = Buffer.concat([BOM, BOM, Buffer.from(event('/home'))]);
    const decoded = decodeRecord(aRawRecord(raw));
    expect(decoded.ok ? undefined : decoded.record.rawData).toBe(raw.toString('base64'));
  });
});
