/**
 * The 64-bit hash the functions remember recent eventIds by: the first 8 bytes of MurmurHash3
 * (x86, 128-bit, seed 0) of the text's UTF-16LE bytes, returned as latin1 text (one character per
 * byte), the form the callers search and store.
 *
 * Why not SHA-256: it was a third of metrics-emitter's own compute per record. A native hash call
 * costs ~250 ns whatever the input, this loop ~30 ns for a short id. What the hash has to do here
 * is not collide by accident (64 bits: a false match among 1,000 recent ids is about one in 10^16).
 * It does not have to resist a forger: ids are remembered per user (session-updater, fraud-rules)
 * or per user and event (metrics-emitter), so a crafted collision can only make the forger's own
 * event count once, or needs another user's eventId before that user sends it.
 *
 * The bytes are UTF-16 code units, not UTF-8: no encoding step, and validated ids are well-formed
 * Unicode (event.ts), so both are one-to-one.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** 8 bytes of MurmurHash3_x86_128 of `text`'s UTF-16LE bytes, as latin1 text. */
export function idHash(text: string): string {
  const n = text.length;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  // A 16-byte block is 8 code units; each 32-bit word is two units, little-endian.
  const end = n & ~7;
  let i = 0;
  for (; i < end; i += 8) {
    const k1 = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    const k2 = text.charCodeAt(i + 2) | (text.charCodeAt(i + 3) << 16);
    const k3 = text.charCodeAt(i + 4) | (text.charCodeAt(i + 5) << 16);
    const k4 = text.charCodeAt(i + 6) | (text.charCodeAt(i + 7) << 16);
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 = (rotl(h1, 19) + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 = (rotl(h2, 17) + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 = (rotl(h3, 15) + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 = (rotl(h4, 13) + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  // The tail (fewer than 8 units) fills the words in order; a lane with no tail bytes keeps 0,
  // and mixing 0 changes nothing, so every lane is mixed.
  const rest = n - i;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  if (rest > 0) k1 = text.charCodeAt(i);
  if (rest > 1) k1 |= text.charCodeAt(i + 1) << 16;
  if (rest > 2) k2 = text.charCodeAt(i + 2);
  if (rest > 3) k2 |= text.charCodeAt(i + 3) << 16;
  if (rest > 4) k3 = text.charCodeAt(i + 4);
  if (rest > 5) k3 |= text.charCodeAt(i + 5) << 16;
  if (rest > 6) k4 = text.charCodeAt(i + 6);
  h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  const bytes = n * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  return String.fromCharCode(
    h1 & 0xff,
    (h1 >>> 8) & 0xff,
    (h1 >>> 16) & 0xff,
    h1 >>> 24,
    h2 & 0xff,
    (h2 >>> 8) & 0xff,
    (h2 >>> 16) & 0xff,
    h2 >>> 24,
  );
}

/**
 * idHash of a pair of ids, unambiguous whatever they contain: the first id's length (one code
 * unit: ids are at most 128 bytes) comes before the two, so ("ab", "c") and ("a", "bc") differ.
 */
export function idPairHash(first: string, second: string): string {
  return idHash(String.fromCharCode(first.length) + first + second);
}
