/**
 * DynamoDB item size by the documented rules: attribute names plus values; strings and binary by
 * UTF-8 length; numbers about one byte per two significant digits plus one; lists and maps 3 bytes
 * plus 1 per element plus their contents (map keys count like attribute names).
 */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') {
    const digits = String(Math.abs(value))
      .replace(/[.e+-]/g, '')
      .replace(/^0+/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'object') {
    let sum = 3;
    for (const [k, v] of Object.entries(value)) sum += 1 + Buffer.byteLength(k, 'utf8') + valueBytes(v);
    return sum;
  }
  return 0;
}

export function itemBytes(item: Record<string, unknown>): number {
  let sum = 0;
  for (const [k, v] of Object.entries(item)) sum += Buffer.byteLength(k, 'utf8') + valueBytes(v);
  return sum;
}
