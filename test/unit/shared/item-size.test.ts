import { itemBytes, valueBytes, widestId } from '../../../services/shared/item-size.js';

// The rules of "Item sizes and formats" in the DynamoDB Developer Guide, one by one.
describe('itemBytes', () => {
  it('counts a string as the UTF-8 bytes of its name and value', () => {
    expect(itemBytes({ name: 'abc' })).toBe(4 + 3);
    expect(itemBytes({ naïve: 'é€𝄞' })).toBe(6 + 2 + 3 + 4);
  });

  it('counts a number as 1 byte per two significant digits plus 1, leading and trailing zeros trimmed', () => {
    expect(valueBytes(7)).toBe(2);
    expect(valueBytes(12)).toBe(2);
    expect(valueBytes(123)).toBe(3);
    expect(valueBytes(1_000_000)).toBe(2);
    expect(valueBytes(0.0012)).toBe(2);
    expect(valueBytes(-12345.678)).toBe(5);
    expect(valueBytes(1234567890123456.8)).toBe(10);
  });

  it('counts binary as its raw bytes, not its base64 form', () => {
    expect(itemBytes({ h: new Uint8Array(80) })).toBe(1 + 80);
  });

  it('counts null and booleans as 1 byte', () => {
    expect(itemBytes({ a: null, b: true })).toBe(2 + 2);
  });

  it('counts a list or map as 3 bytes plus its elements, each with 1 byte more (map keys too)', () => {
    expect(itemBytes({ l: [] })).toBe(1 + 3);
    expect(itemBytes({ l: ['ab', 'c'] })).toBe(1 + 3 + (2 + 1) + (1 + 1));
    expect(itemBytes({ m: { k: 'v', kk: 5 } })).toBe(1 + 3 + (1 + 1 + 1) + (2 + 2 + 1));
    expect(itemBytes({ l: [['s', '5']] })).toBe(1 + 3 + (3 + (1 + 1) + (1 + 1) + 1));
  });

  it('leaves out undefined attributes, as the document client does', () => {
    expect(itemBytes({ a: 'x', b: undefined, m: { c: undefined } })).toBe(2 + 1 + 3);
  });

  it('builds ids of an exact byte length from 4-byte characters', () => {
    expect(Buffer.byteLength(widestId(128))).toBe(128);
    expect(Buffer.byteLength(widestId(130))).toBe(130);
    expect(widestId(128)).toHaveLength(64); // UTF-16 units: 32 characters of 2 units each
  });
});
