import fc from 'fast-check';
import {
  ARCHIVE_USER_BUCKETS,
  compactedKey,
  hourPrefixes,
  parseArchiveKey,
  partitionOf,
  partKey,
  userBucket,
  userBucketPrefix,
} from '../../../services/shared/archive/layout.js';

const timeArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) });
const seqArb = fc.bigInt({ min: 0n, max: 10n ** 56n }).map(String);
const shardArb = fc.integer({ min: 0, max: 10_000 }).map((n) => `shardId-${String(n).padStart(12, '0')}`);

describe('archive layout', () => {
  it('puts a producer duplicate (same user, same event time) in the same partition as its original', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), timeArb, (userId, time) => {
        expect(partitionOf(time, userId)).toEqual(partitionOf(time, userId));
        const { ub } = partitionOf(time, userId);
        expect(ub).toBeGreaterThanOrEqual(0);
        expect(ub).toBeLessThan(ARCHIVE_USER_BUCKETS);
      }),
    );
  });

  it('parses every key it builds back to the same partition and file', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('events' as const, 'invalid' as const),
        fc.string({ minLength: 1 }),
        timeArb,
        shardArb,
        seqArb,
        seqArb,
        (kind, userId, time, shardId, first, last) => {
          const partition = partitionOf(time, userId);
          expect(parseArchiveKey(partKey(kind, partition, shardId, first, last))).toEqual({
            kind,
            partition,
            file: { type: 'part', shardId, firstSequence: first, lastSequence: last },
          });
          expect(parseArchiveKey(compactedKey(kind, partition))).toEqual({
            kind,
            partition,
            file: { type: 'compacted' },
          });
          expect(
            partKey(kind, partition, shardId, first, last).startsWith(userBucketPrefix(kind, userId)),
          ).toBe(true);
        },
      ),
    );
  });

  it('lists exactly the hours a range overlaps, and the partition of every time inside it', () => {
    fc.assert(
      fc.property(
        timeArb,
        fc.integer({ min: 1, max: 3 * 86_400_000 }),
        fc.string({ minLength: 1 }),
        (from, span, user) => {
          const prefixes = hourPrefixes('events', from, from + span, user);
          const expectedHours = Math.floor((from + span - 1) / 3_600_000) - Math.floor(from / 3_600_000) + 1;
          expect(prefixes).toHaveLength(expectedHours);
          const inside = from + Math.floor(span / 2);
          const p = partitionOf(inside, user);
          expect(prefixes).toContain(
            `events/ub=${String(p.ub).padStart(2, '0')}/dt=${p.dt}/hr=${String(p.hr).padStart(2, '0')}/`,
          );
          expect(hourPrefixes('events', from, from + span)).toHaveLength(
            expectedHours * ARCHIVE_USER_BUCKETS,
          );
        },
      ),
    );
  });

  it('spreads users over all buckets', () => {
    const counts = new Array(ARCHIVE_USER_BUCKETS).fill(0);
    for (let i = 0; i < 16_000; i += 1) counts[userBucket(`user-${i}`)] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
  });

  it('refuses keys that would not parse back', () => {
    const p = partitionOf(Date.UTC(2026, 0, 1), 'u');
    expect(() => partKey('events', p, 'shard/../x', '1', '2')).toThrow('not key-safe');
    expect(() => partKey('events', p, 'shardId-1', '1a', '2')).toThrow('decimal digits');
    expect(parseArchiveKey('athena-results/abc.csv')).toBeUndefined();
  });
});
