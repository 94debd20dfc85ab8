import { batchResponse, chunk, groupByUser, mapWithConcurrency } from '../../../services/shared/batch.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { compareSequence, isAfter } from '../../../services/shared/sequence.js';
import { anEvent, recordsFor } from '../../helpers/records.js';

describe('batchResponse', () => {
  it('reports nothing when nothing failed', () => {
    expect(batchResponse([])).toEqual({ batchItemFailures: [] });
  });

  it('reports only the earliest failed sequence number, compared as integers', () => {
    expect(batchResponse(['900', '1000', '95'])).toEqual({ batchItemFailures: [{ itemIdentifier: '95' }] });
  });
});

describe('compareSequence', () => {
  it('orders sequence numbers of different lengths numerically', () => {
    expect(compareSequence('99', '100')).toBe(-1);
    expect(compareSequence('100', '99')).toBe(1);
    expect(compareSequence('123', '123')).toBe(0);
  });

  it('treats any sequence number as after a missing watermark', () => {
    expect(isAfter('1', undefined)).toBe(true);
    expect(isAfter('5', '5')).toBe(false);
  });
});

describe('groupByUser', () => {
  it('groups records per user, each in sequence order', () => {
    const { valid } = decodeBatch(
      recordsFor([anEvent({ userId: 'a' }), anEvent({ userId: 'b' }), anEvent({ userId: 'a' })]),
    );
    const groups = groupByUser(valid);
    expect([...groups.keys()]).toEqual(['a', 'b']);
    expect(groups.get('a')?.map((r) => r.sequenceNumber)).toEqual([
      valid[0]?.sequenceNumber,
      valid[2]?.sequenceNumber,
    ]);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps input order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 3, 2, 4], 2, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});

describe('chunk', () => {
  it('splits into chunks of at most the given size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
