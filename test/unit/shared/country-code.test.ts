/**
 * docs/event.md and docs/architecture.md promise `data.country` "ISO 3166-1 alpha-2"; the review found the
 * schema (services/shared/event.ts) accepting any two capital letters, so "ZZ" or "XX" passed and
 * each change between such codes was a country hop for the fraud rules. It is now a closed list,
 * services/shared/countries.ts, like the ISO 4217 currencies.
 */
import { ISO_3166_ALPHA2_CODES, isCountryCode } from '../../../services/shared/countries.js';
import { validateEvent } from '../../../services/shared/event.js';

const purchase = (country: unknown) => ({
  eventId: 'e-1',
  userId: 'u-1',
  eventType: 'purchase',
  timestamp: Date.UTC(2026, 0, 1),
  data: { amount: 1, currency: 'EUR', orderId: 'o-1', country },
});

describe('data.country is ISO 3166-1 alpha-2', () => {
  it.each(['UK', 'ZZ', 'QQ', 'XY'])('%s (not an ISO 3166-1 alpha-2 code) is refused', (code) => {
    expect(validateEvent(purchase(code)).ok).toBe(false);
  });

  it.each(['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN', 'CA', 'AX', 'CW', 'SS'])('%s is accepted', (code) => {
    expect(validateEvent(purchase(code)).ok).toBe(true);
  });

  it.each([['us'], ['USA'], [' US'], [''], [840], [null]])('%p is refused (codes are exact)', (code) => {
    expect(validateEvent(purchase(code)).ok).toBe(false);
  });

  it('is the 249 officially assigned codes, two capital letters each', () => {
    expect(ISO_3166_ALPHA2_CODES.size).toBe(249);
    for (const code of ISO_3166_ALPHA2_CODES) expect(code).toMatch(/^[A-Z]{2}$/);
    expect(isCountryCode('XK')).toBe(false);
  });
});
