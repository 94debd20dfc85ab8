import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { userEventHash, userEventHashKey } from '../../../services/metrics-emitter/watermarks.js';
import { EVENT_HASH_BYTES, eventIdHash, eventIdHashKey } from '../../../services/shared/idempotency.js';

// Stored items carry these bytes: the fast text form must never drift from the SHA-256 prefix.
const reference = (text: string) => createHash('sha256').update(text).digest().subarray(0, EVENT_HASH_BYTES);
// Any UTF-16 text, lone surrogates included (Node hashes them as U+FFFD on both paths).
const anyText = fc.string({ unit: 'binary' });

describe('eventId hashes', () => {
  it('are the first 8 bytes of SHA-256 of the UTF-8 text, as a Buffer and as latin1 text', () => {
    fc.assert(
      fc.property(anyText, (id) => {
        expect(eventIdHash(id)).toEqual(reference(id));
        expect(eventIdHashKey(id)).toBe(reference(id).toString('latin1'));
        expect(eventIdHashKey(id)).toHaveLength(EVENT_HASH_BYTES);
      }),
    );
  });

  it("metrics-emitter's key is the latin1 text of its hash", () => {
    fc.assert(
      fc.property(anyText, anyText, (userId, eventId) => {
        expect(userEventHashKey(userId, eventId)).toBe(userEventHash(userId, eventId).toString('latin1'));
        expect(userEventHash(userId, eventId)).toEqual(reference(JSON.stringify([userId, eventId])));
      }),
    );
  });
});
