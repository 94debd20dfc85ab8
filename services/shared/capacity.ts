/**
 * DynamoDB item sizes and capacity units by the documented rules, so an item's cost is known
 * before it is written (bounds, benchmarks, the capacity planner) and not only from a bill.
 *
 * Sizes (Developer Guide, "DynamoDB item sizes and formats",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * attribute name bytes + value bytes; strings and map keys by UTF-8 length; binary by raw length;
 * numbers 1 byte per two significant digits (leading and trailing zeroes trimmed) + 1 byte;
 * null and Boolean 1 byte; a list or map 3 bytes + 1 byte per element + its elements.
 *
 * Units (Developer Guide, "DynamoDB read and write operations",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
 * a write costs one unit per started 1 KB, a strongly consistent read one unit per started 4 KB,
 * an eventually consistent read half that, a transactional read or write twice. A read of a
 * missing item still costs the minimum (one unit, or half for an eventually consistent read).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export const KB = 1024;
export const WRITE_UNIT_BYTES = KB;
export const READ_UNIT_BYTES = 4 * KB;
export const DYNAMODB_MAX_ITEM_BYTES = 400 * KB;

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Significant digits of a decimal number's text (sign, point and exponent aside). */
export function significantDigits(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.max(1, digits.length);
}

export function numberBytes(text: string): number {
  return Math.ceil(significantDigits(text) / 2) + 1;
}

/** Size of one attribute value in DynamoDB's wire form ({S}, {N}, {M}...), without its name. */
export function attributeValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return value.L.reduce((sum, v) => sum + 1 + attributeValueBytes(v), 3);
  if (value.M !== undefined) {
    let sum = 3;
    for (const [name, v] of Object.entries(value.M)) sum += 1 + utf8(name) + attributeValueBytes(v);
    return sum;
  }
  return 0;
}

/** Size of an item in DynamoDB's wire form (what the low-level client sends and receives). */
export function attributeMapBytes(item: Record<string, AttributeValue>): number {
  let sum = 0;
  for (const [name, value] of Object.entries(item)) sum += utf8(name) + attributeValueBytes(value);
  return sum;
}

/** Size of a plain JavaScript value as the document client stores it (undefined is left out). */
export function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(String(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value))
    return value.reduce((sum: number, v) => (v === undefined ? sum : sum + 1 + valueBytes(v)), 3);
  if (value instanceof Set) {
    let sum = 0;
    for (const v of value) sum += valueBytes(v);
    return sum;
  }
  if (typeof value === 'object') {
    let sum = 3;
    for (const [name, v] of Object.entries(value as Record<string, unknown>))
      if (v !== undefined) sum += 1 + utf8(name) + valueBytes(v);
    return sum;
  }
  return 0;
}

/** Size of a plain JavaScript item as the document client would store it. */
export function itemBytes(item: Record<string, unknown>): number {
  let sum = 0;
  for (const [name, value] of Object.entries(item))
    if (value !== undefined) sum += utf8(name) + valueBytes(value);
  return sum;
}

/** Write units for writing one item of `bytes` (PutItem, one BatchWriteItem put, DeleteItem). */
export function writeUnits(bytes: number, options: { transactional?: boolean } = {}): number {
  const units = Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
  return options.transactional ? 2 * units : units;
}

export type ReadConsistency = 'strong' | 'eventual' | 'transactional';

/** Read units for reading one item of `bytes`; a missing item (0 bytes) costs the minimum. */
export function readUnits(bytes: number, consistency: ReadConsistency = 'strong'): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  if (consistency === 'eventual') return units / 2;
  if (consistency === 'transactional') return 2 * units;
  return units;
}

/**
 * Read units of one Query or Scan page: the items' sizes are summed first and the sum is rounded
 * (unlike BatchGetItem, where every item is rounded on its own).
 */
export function queryReadUnits(
  itemSizes: readonly number[],
  consistency: ReadConsistency = 'eventual',
): number {
  return readUnits(
    itemSizes.reduce((a, b) => a + b, 0),
    consistency,
  );
}
