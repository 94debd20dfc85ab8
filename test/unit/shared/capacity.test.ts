/**
 * The capacity calculator against the worked examples in AWS's documentation:
 *  - "DynamoDB read and write operations", Developer Guide:
 *    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 *    (3,500-byte read = 4 KB; 8 KB item: 2 strong / 1 eventual / 4 transactional read units;
 *    10 KB read rounds to 12 KB; BatchGetItem of 1.5 KB + 6.5 KB counts 12 KB, not 8 KB)
 *  - "Amazon DynamoDB pricing for provisioned capacity":
 *    https://aws.amazon.com/dynamodb/pricing/provisioned/
 *    (a 1 KB write = 1 WCU, a 3 KB write = 3 WCU, a transactional 3 KB write = 6 WCU)
 *  - "DynamoDB item sizes and formats", Developer Guide:
 *    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 *    (the per-type size rules, applied to small items worked out by hand below; the sizes come
 *    from item-size.ts, the one size calculator, through capacity.ts's wire form)
 */
import {
  attributeMapBytes,
  queryReadUnits,
  readUnits,
  writeUnits,
} from '../../../services/shared/capacity.js';
import { itemBytes } from '../../../services/shared/item-size.js';

const KB = 1024;

describe('capacity units (read-write-operations page examples)', () => {
  it('rounds a 3,500-byte read up to one 4 KB unit', () => {
    expect(readUnits(3_500, 'strong')).toBe(1);
    expect(readUnits(3_500, 'eventual')).toBe(0.5);
  });

  it('an 8 KB item: 2 strongly consistent, 1 eventually consistent, 4 transactional read units', () => {
    expect(readUnits(8 * KB, 'strong')).toBe(2);
    expect(readUnits(8 * KB, 'eventual')).toBe(1);
    expect(readUnits(8 * KB, 'transactional')).toBe(4);
  });

  it('a 10 KB read rounds to 12 KB (3 strongly consistent units)', () => {
    expect(readUnits(10 * KB, 'strong')).toBe(3);
  });

  it('BatchGetItem rounds each item: 1.5 KB + 6.5 KB is 12 KB (3 units), a Query sums first (2 units)', () => {
    const batch = readUnits(1.5 * KB, 'strong') + readUnits(6.5 * KB, 'strong');
    expect(batch).toBe(3);
    expect(queryReadUnits([1.5 * KB, 6.5 * KB], 'strong')).toBe(2);
  });

  it('writes: 1 KB = 1 unit, 3 KB = 3 units, a transactional 3 KB write = 6 units (pricing page)', () => {
    expect(writeUnits(1 * KB)).toBe(1);
    expect(writeUnits(3 * KB)).toBe(3);
    expect(writeUnits(3 * KB, { transactional: true })).toBe(6);
  });

  it('the issue text: a 4.6 KB conditional put is 5 write units, a 60 KB item 60 writes / 15 reads', () => {
    expect(writeUnits(4.6 * KB)).toBe(5);
    expect(writeUnits(60 * KB - 1)).toBe(60);
    expect(readUnits(60 * KB, 'strong')).toBe(15);
  });

  it('a tiny or missing item still costs the minimum unit', () => {
    expect(writeUnits(10)).toBe(1);
    expect(readUnits(0, 'strong')).toBe(1);
    expect(readUnits(0, 'eventual')).toBe(0.5);
  });
});

describe('item sizes (item-sizes-and-formats rules)', () => {
  it('numbers: leading and trailing zeroes trimmed, one byte per two significant digits plus one', () => {
    // name "n" (1 byte) + the number
    expect(itemBytes({ n: 1500 })).toBe(1 + 2);
    expect(itemBytes({ n: 0.0012 })).toBe(1 + 2);
    expect(itemBytes({ n: -123.45 })).toBe(1 + 4);
    expect(itemBytes({ n: 12345 })).toBe(1 + 4);
    expect(itemBytes({ n: 1732812345678 })).toBe(1 + 8);
    expect(attributeMapBytes({ n: { N: '1500' } })).toBe(1 + 2);
  });

  it('strings and names by UTF-8 bytes, Booleans and nulls one byte', () => {
    // "userId"(6) + "u1"(2); "name"(4) + "héllo"(6); "ok"(2) + 1; "none"(4) + 1
    expect(itemBytes({ userId: 'u1', name: 'héllo', ok: true, none: null })).toBe(8 + 10 + 3 + 5);
  });

  it('lists and maps: 3 bytes + 1 per element + elements; empty ones 3 bytes', () => {
    // "ids"(3) + 3 + (1 + 1) + (1 + 2) = 11
    expect(itemBytes({ ids: ['a', 'bc'] })).toBe(11);
    // "m"(1) + 3 + (1 + "k"(1) + number 7 (2 bytes)) = 8
    expect(itemBytes({ m: { k: 7 } })).toBe(8);
    expect(itemBytes({ l: [], m: {} })).toBe(1 + 3 + 1 + 3);
  });

  it('the wire form and the plain form of an item have the same size', () => {
    const plain = { userId: 'u-42', n: 12.5, tags: ['x', 'yz'], data: { amount: 1500, ok: false } };
    const wire = {
      userId: { S: 'u-42' },
      n: { N: '12.5' },
      tags: { L: [{ S: 'x' }, { S: 'yz' }] },
      data: { M: { amount: { N: '1500' }, ok: { BOOL: false } } },
    };
    expect(attributeMapBytes(wire)).toBe(itemBytes(plain));
  });

  it('undefined attributes are left out, as the document client does', () => {
    expect(itemBytes({ a: 'x', b: undefined })).toBe(itemBytes({ a: 'x' }));
  });
});
