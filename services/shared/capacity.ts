/**
 * DynamoDB capacity units by the documented rules, so an item's cost is known before it is
 * written (benchmarks, the capacity planner) and not only from a bill. Item sizes come from the
 * one size calculator, item-size.ts; this adds the wire form ({S}, {N}...) and the units.
 *
 * Units (Developer Guide, "DynamoDB read and write operations",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
 * a write costs one unit per started 1 KB, a strongly consistent read one unit per started 4 KB,
 * an eventually consistent read half that, a transactional read or write twice. A read of a
 * missing item still costs the minimum (one unit, or half for an eventually consistent read).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { itemBytes, valueBytes } from './item-size.js';

export const KB = 1024;
export const WRITE_UNIT_BYTES = KB;
export const READ_UNIT_BYTES = 4 * KB;

/**
 * An attribute value in DynamoDB's wire form ({S}, {N}, {M}...) as the plain value the document
 * client would give, so wire-form items (what the low-level client sends) are sized by the one
 * calculator in item-size.ts.
 */
function plain(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.B !== undefined) return value.B;
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(Number));
  if (value.BS !== undefined) return new Set(value.BS);
  if (value.L !== undefined) return value.L.map(plain);
  if (value.M !== undefined)
    return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, plain(v)]));
  return undefined;
}

/** Size of one attribute value in wire form, without its name. */
export function attributeValueBytes(value: AttributeValue): number {
  return valueBytes(plain(value));
}

/** Size of an item in wire form (what the low-level client sends and receives). */
export function attributeMapBytes(item: Record<string, AttributeValue>): number {
  return itemBytes(Object.fromEntries(Object.entries(item).map(([k, v]) => [k, plain(v)])));
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
