import fc from 'fast-check';
import { x86 } from 'murmurhash3js-revisited';
import { userEventHash, userEventHashKey } from '../../../services/metrics-emitter/watermarks.js';
import { idHash, idPairHash } from '../../../services/shared/id-hash.js';
import { EVENT_HASH_BYTES, eventIdHash, eventIdHashKey } from '../../../services/shared/idempotency.js';

/**
 * An independent MurmurHash3_x86_128 (byte-wise, from npm) of the text's UTF-16LE bytes: its
 * first two 32-bit words, little-endian, as the C reference lays its output out.
 */
const reference = (text: string): Buffer => {
  const hex = x86.hash128(new Uint8Array(Buffer.from(text, 'utf16le')));
  const out = Buffer.alloc(EVENT_HASH_BYTES);
  out.writeUInt32LE(Number.parseInt(hex.slice(0, 8), 16), 0);
  out.writeUInt32LE(Number.parseInt(hex.slice(8, 16), 16), 4);
  return out;
};
// Any UTF-16 text, lone surrogates included, and every tail length (0-7 units after the blocks).
const anyText = fc.string({ unit: 'binary', maxLength: 80 });

describe('eventId hashes', () => {
  it('are the first 8 bytes of MurmurHash3 x86-128 of the UTF-16LE text, as a Buffer and as latin1 text', () => {
    fc.assert(
      fc.property(anyText, (id) => {
        expect(eventIdHash(id)).toEqual(reference(id));
        expect(eventIdHashKey(id)).toBe(reference(id).toString('latin1'));
        expect(eventIdHashKey(id)).toHaveLength(EVENT_HASH_BYTES);
      }),
      { numRuns: 2000 },
    );
  });

  it('differ for ids that differ in one unit', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: 1, max: 0xffff }),
        (id, at, delta) => {
          const i = at % id.length;
          const other =
            id.slice(0, i) + String.fromCharCode((id.charCodeAt(i) + delta) & 0xffff) + id.slice(i + 1);
          expect(idHash(other)).not.toBe(idHash(id));
        },
      ),
    );
  });

  it("metrics-emitter's key is the latin1 text of its hash, over the first id's length and both ids", () => {
    fc.assert(
      fc.property(anyText, anyText, (userId, eventId) => {
        expect(userEventHashKey(userId, eventId)).toBe(userEventHash(userId, eventId).toString('latin1'));
        expect(userEventHash(userId, eventId)).toEqual(
          reference(String.fromCharCode(userId.length) + userId + eventId),
        );
      }),
    );
  });

  it('keeps a pair apart from the same text split elsewhere', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 2, maxLength: 40 }), fc.nat(), (text, at) => {
        const cut = 1 + (at % (text.length - 1));
        expect(idPairHash(text.slice(0, cut), text.slice(cut))).not.toBe(
          idPairHash(text.slice(0, cut - 1), text.slice(cut - 1)),
        );
      }),
    );
  });
});
