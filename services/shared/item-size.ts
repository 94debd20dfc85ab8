/**
 * DynamoDB item sizes by the documented rules ("Item sizes and formats", DynamoDB Developer
 * Guide), for the values the document client writes. DynamoDB refuses items over 400 KB and
 * bills reads and writes by size, so the functions bound their items with these numbers.
 *
 * - An item is the sum over its attributes of the name's UTF-8 bytes plus the value's size.
 * - String: its UTF-8 bytes. Binary: its bytes. Boolean and null: 1 byte.
 * - Number: 1 byte per two significant digits, plus 1 byte (at most 21 bytes).
 * - List and map: 3 bytes, plus per element its size and 1 byte; a map element also its key's bytes.
 * - Set: the sum of its elements' sizes.
 */

/** DynamoDB's hard limit for one item. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * What Pulse allows its own items: well under the limit, leaving room for attributes a later
 * version adds (and for the rounding of the documented number formula).
 */
export const ITEM_BYTE_BUDGET = 300 * 1024;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function numberBytes(value: number | bigint): number {
  const digits = String(value)
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

/** The size of one attribute value as DynamoDB counts it. */
export function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let total = 0;
    for (const element of value) total += valueBytes(element);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value) total += valueBytes(element) + 1;
    return total;
  }
  if (typeof value === 'object') {
    let total = 3;
    for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
      if (element === undefined) continue; // the document client leaves undefined out
      total += utf8Bytes(key) + valueBytes(element) + 1;
    }
    return total;
  }
  return 0;
}

/** The size of a whole item: attribute names plus values (undefined attributes are not written). */
export function itemBytes(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += utf8Bytes(name) + valueBytes(value);
  }
  return total;
}

/** A number with 17 significant digits, the most a JavaScript number prints: its largest size. */
const WIDEST_NUMBER = 1234567890123456.8;

/**
 * `value` with every number replaced by the widest one: the worst case of an item whose shape is
 * known, for the cold-start size checks.
 */
export function widestNumbers<T>(value: T): T {
  if (typeof value === 'number') return WIDEST_NUMBER as T;
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(widestNumbers) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, widestNumbers(v)])) as T;
}

/** An id of exactly `bytes` UTF-8 bytes made of 4-byte characters (the fewest characters per byte). */
export function widestId(bytes: number): string {
  return '\u{1D11E}'.repeat(Math.floor(bytes / 4)) + 'x'.repeat(bytes % 4);
}

/** Kinesis allows shard ids and sequence numbers of up to 128 characters. */
export const MAX_SHARD_ID = 's'.repeat(128);
export const MAX_SEQUENCE_NUMBER = '9'.repeat(128);
