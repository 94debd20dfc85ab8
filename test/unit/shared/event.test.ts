import { MAX_ID_BYTES, validateEvent } from '../../../services/shared/event.js';
import { anEvent, aPurchase } from '../../helpers/records.js';

describe('validateEvent', () => {
  it('accepts a page view', () => {
    expect(validateEvent(anEvent()).ok).toBe(true);
  });

  it('accepts unknown event types', () => {
    expect(validateEvent(anEvent({ eventType: 'video_play' })).ok).toBe(true);
  });

  it('treats missing data as an empty object', () => {
    const { data: _data, ...rest } = anEvent();
    const result = validateEvent(rest);
    expect(result).toEqual({ ok: true, event: { ...rest, data: {} } });
  });

  it.each([
    ['a non-object', 'nope', 'event must be a JSON object'],
    ['an array', [], 'event must be a JSON object'],
    ['a missing eventId', { ...anEvent(), eventId: undefined }, 'eventId must be a string'],
    ['an empty userId', { ...anEvent(), userId: '' }, 'userId must not be empty'],
    ['a numeric eventType', { ...anEvent(), eventType: 7 }, 'eventType must be a string'],
    [
      'a timestamp in seconds',
      { ...anEvent(), timestamp: 1_700_000_000 },
      'timestamp must be epoch milliseconds between 2000 and 2100',
    ],
    [
      'a fractional timestamp',
      { ...anEvent(), timestamp: 1.5 },
      'timestamp must be an integer (epoch milliseconds)',
    ],
    ['data that is an array', { ...anEvent(), data: [] }, 'data must be an object when present'],
    [
      'a product view without a product',
      anEvent({ eventType: 'product_view', data: {} }),
      'data.productId must be a string',
    ],
  ])('rejects %s', (_name, value, reason) => {
    expect(validateEvent(value)).toEqual({ ok: false, reason });
  });

  it.each([
    ['a negative amount', { amount: -1 }, 'data.amount must be a finite number >= 0'],
    ['an infinite amount', { amount: Number.POSITIVE_INFINITY }, 'data.amount must be a finite number >= 0'],
    ['an amount given as a string', { amount: '10' }, 'data.amount must be a finite number >= 0'],
    [
      'an amount DynamoDB cannot hold',
      { amount: 1e16 },
      'data.amount must be 0 or between 0.000001 and 1000000000',
    ],
    [
      'a vanishingly small amount',
      { amount: 1e-200 },
      'data.amount must be 0 or between 0.000001 and 1000000000',
    ],
    ['a lower-case currency', { currency: 'usd' }, 'data.currency must be an ISO 4217 currency code'],
    [
      'three letters that are no currency',
      { currency: 'ABC' },
      'data.currency must be an ISO 4217 currency code',
    ],
    ['a missing orderId', { orderId: undefined }, 'data.orderId must be a string'],
    [
      'a country that is not ISO 3166',
      { country: 'France' },
      'data.country must be an ISO 3166-1 alpha-2 country code when present',
    ],
  ])('rejects a purchase with %s', (_name, change, reason) => {
    const purchase = aPurchase();
    expect(validateEvent({ ...purchase, data: { ...purchase.data, ...change } })).toEqual({
      ok: false,
      reason,
    });
  });

  it('accepts the largest amount', () => {
    expect(validateEvent(aPurchase({ amount: 1_000_000_000 })).ok).toBe(true);
  });

  it('accepts a free purchase', () => {
    expect(validateEvent(aPurchase({ amount: 0 })).ok).toBe(true);
  });

  describe('ids are bounded in UTF-8 bytes', () => {
    const withId = (field: string, id: string) => {
      const purchase = aPurchase();
      if (field === 'orderId') return { ...purchase, data: { ...purchase.data, orderId: id } };
      if (field === 'productId') return anEvent({ eventType: 'product_view', data: { productId: id } });
      return { ...purchase, [field]: id };
    };
    const label = (field: string) => (['orderId', 'productId'].includes(field) ? `data.${field}` : field);

    const FIELDS = ['eventId', 'userId', 'eventType', 'orderId', 'productId'];

    it.each(FIELDS)('accepts a %s of exactly 128 bytes (44 characters)', (field) => {
      const id = `${'€'.repeat(42)}ab`;
      expect(Buffer.byteLength(id)).toBe(MAX_ID_BYTES);
      expect(validateEvent(withId(field, id)).ok).toBe(true);
    });

    it.each(FIELDS)('rejects a %s of 129 bytes, though it is only 43 characters', (field) => {
      const id = '€'.repeat(43);
      expect(Buffer.byteLength(id)).toBe(MAX_ID_BYTES + 1);
      expect(validateEvent(withId(field, id))).toEqual({
        ok: false,
        reason: `${label(field)} must be at most 128 bytes (UTF-8)`,
      });
    });

    it('rejects a 129-byte ASCII id', () => {
      expect(validateEvent(withId('eventId', 'e'.repeat(129)))).toEqual({
        ok: false,
        reason: 'eventId must be at most 128 bytes (UTF-8)',
      });
    });

    it.each(['eventId', 'userId', 'orderId', 'productId'])('rejects a %s with a lone surrogate', (field) => {
      expect(validateEvent(withId(field, 'emoji-\ud83d'))).toEqual({
        ok: false,
        reason: `${label(field)} must be well-formed Unicode (no lone surrogates)`,
      });
    });

    it('accepts a full emoji (a surrogate pair) in an id', () => {
      expect(validateEvent(withId('userId', 'user-\u{1F600}')).ok).toBe(true);
    });
  });
});
