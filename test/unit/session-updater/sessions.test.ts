import { applyRecords, newUserState, type SessionRules } from '../../../services/session-updater/sessions.js';
import { EVENT_HASH_BYTES } from '../../../services/shared/idempotency.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { anEvent, aProductView, aPurchase, MINUTE, recordsFor, T0 } from '../../helpers/records.js';

const rules: SessionRules = { timeoutMs: 30 * MINUTE, recentProductsLimit: 3, recentEventIdsLimit: 5 };
const valid = (...events: Parameters<typeof recordsFor>[0]) => decodeBatch(recordsFor(events)).valid;

describe('applyRecords', () => {
  it('opens a session on the first event and counts by type', () => {
    const { state, closed, applied } = applyRecords(
      newUserState('user-1'),
      valid(
        anEvent({ timestamp: T0 }),
        aProductView('p1', { timestamp: T0 + MINUTE }),
        anEvent({ eventType: 'add_to_cart', data: { productId: 'p1' }, timestamp: T0 + 2 * MINUTE }),
        aPurchase({ amount: 19.99, timestamp: T0 + 3 * MINUTE }),
        aPurchase({ amount: 0.01, timestamp: T0 + 4 * MINUTE }),
      ),
      rules,
    );
    expect(applied).toBe(5);
    expect(closed).toEqual([]);
    expect(state.session).toMatchObject({
      eventCount: 5,
      pageViews: 1,
      productViews: 1,
      addToCarts: 1,
      purchases: 2,
      spent: { USD: '20000000' },
      firstActivity: T0,
      lastActivity: T0 + 4 * MINUTE,
    });
    expect(state.sessionCount).toBe(1);
  });

  it('counts unknown event types in the event count only', () => {
    const { state } = applyRecords(
      newUserState('user-1'),
      valid(anEvent({ eventType: 'video_play' })),
      rules,
    );
    expect(state.session).toMatchObject({
      eventCount: 1,
      pageViews: 0,
      productViews: 0,
      addToCarts: 0,
      purchases: 0,
    });
  });

  it('keeps a session open at exactly the timeout', () => {
    const { closed } = applyRecords(
      newUserState('user-1'),
      valid(anEvent({ timestamp: T0 }), anEvent({ timestamp: T0 + 30 * MINUTE })),
      rules,
    );
    expect(closed).toHaveLength(0);
  });

  it('closes the session after more than the timeout of inactivity, by event time', () => {
    const first = anEvent({ timestamp: T0 });
    const later = anEvent({ timestamp: T0 + 30 * MINUTE + 1 });
    const { state, closed } = applyRecords(newUserState('user-1'), valid(first, later), rules);
    expect(closed).toEqual([
      expect.objectContaining({ sessionId: first.eventId, eventCount: 1, lastActivity: T0 }),
    ]);
    expect(state.session).toMatchObject({
      sessionId: later.eventId,
      eventCount: 1,
      firstActivity: later.timestamp,
    });
    expect(state.sessionCount).toBe(2);
    expect(state.totals.eventCount).toBe(2);
  });

  it('folds a late event into the open session without moving last activity back', () => {
    const { state, closed } = applyRecords(
      newUserState('user-1'),
      valid(anEvent({ timestamp: T0 + 10 * MINUTE }), anEvent({ timestamp: T0 - 60 * MINUTE })),
      rules,
    );
    expect(closed).toEqual([]);
    expect(state.session).toMatchObject({
      eventCount: 2,
      lateEvents: 1,
      firstActivity: T0 - 60 * MINUTE,
      lastActivity: T0 + 10 * MINUTE,
    });
  });

  it('skips records at or below the sequence watermark (re-delivery)', () => {
    const records = valid(anEvent(), anEvent());
    const once = applyRecords(newUserState('user-1'), records, rules);
    const twice = applyRecords(once.state, records, rules);
    expect(twice).toMatchObject({ applied: 0, duplicates: 2, changed: false });
    expect(twice.state).toEqual(once.state);
  });

  it('applies only the records after the watermark when a batch is re-delivered from the middle', () => {
    const records = valid(anEvent(), anEvent(), anEvent());
    const firstTwo = applyRecords(newUserState('user-1'), records.slice(0, 2), rules);
    const retried = applyRecords(firstTwo.state, records, rules);
    expect(retried).toMatchObject({ applied: 1, duplicates: 2 });
    expect(retried.state.totals.eventCount).toBe(3);
  });

  it('skips a second record with the same eventId (producer retry) but advances the watermark', () => {
    const event = aPurchase({ amount: 10 });
    const records = valid(event, { ...event });
    const { state, applied, duplicates, changed } = applyRecords(newUserState('user-1'), records, rules);
    expect({ applied, duplicates, changed }).toEqual({ applied: 1, duplicates: 1, changed: true });
    expect(state.totals.spent).toEqual({ USD: '10000000' });
    expect(state.watermarks).toEqual([[records[1]?.shardId, records[1]?.sequenceNumber]]);
  });

  it('keeps the recent eventIds bounded', () => {
    const { state } = applyRecords(
      newUserState('user-1'),
      valid(...Array.from({ length: 12 }, () => anEvent())),
      rules,
    );
    expect(state.recentEventHashes).toHaveLength(5 * EVENT_HASH_BYTES);
  });

  it('keeps recently viewed products distinct, newest first and bounded', () => {
    const { state } = applyRecords(
      newUserState('user-1'),
      valid(aProductView('a'), aProductView('b'), aProductView('c'), aProductView('a'), aProductView('d')),
      rules,
    );
    expect(state.recentProducts).toEqual(['d', 'a', 'c']);
  });

  it('does not modify a full state it was given: open session, totals, products, watermarks, hashes (pinned)', () => {
    const seed = applyRecords(
      newUserState('user-1'),
      valid(aProductView('p-1', { timestamp: T0 }), aPurchase({ timestamp: T0 + MINUTE, amount: 10 })),
      rules,
    ).state;
    expect(seed.session).toBeDefined();
    const before = structuredClone(seed);
    const next = applyRecords(
      seed,
      valid(
        aProductView('p-2', { timestamp: T0 + 2 * MINUTE }),
        aPurchase({ timestamp: T0 + 3 * MINUTE, amount: 20 }),
        anEvent({ timestamp: T0 + 2 * MINUTE + 1 }),
        anEvent({ timestamp: T0 + 90 * MINUTE }),
      ),
      rules,
    );
    expect(seed).toEqual(before);
    expect(next.state).not.toEqual(before);
    expect(next.closed).toHaveLength(1);
    expect(next.closed[0]).not.toBe(seed.session);
  });

  it('does not modify the state it was given', () => {
    const initial = newUserState('user-1');
    applyRecords(initial, valid(anEvent()), rules);
    expect(initial).toEqual(newUserState('user-1'));
  });
});
