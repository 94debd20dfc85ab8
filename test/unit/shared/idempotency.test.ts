import { firstDeliveries, type IdempotencyState } from '../../../services/shared/idempotency.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { anEvent, recordsFor } from '../../helpers/records.js';

const fresh = (): IdempotencyState => ({ recentEventIds: [] });

describe('firstDeliveries', () => {
  it('passes every record the first time and moves the watermark to the last', () => {
    const { valid } = decodeBatch(recordsFor([anEvent(), anEvent()]));
    const state = fresh();
    expect(firstDeliveries(state, valid, 10)).toEqual({ fresh: valid, duplicates: 0 });
    expect(state.lastSequenceNumber).toBe(valid[1]?.sequenceNumber);
  });

  it('drops records at or below the watermark', () => {
    const { valid } = decodeBatch(recordsFor([anEvent(), anEvent()]));
    const state = fresh();
    firstDeliveries(state, valid.slice(0, 1), 10);
    expect(firstDeliveries(state, valid, 10)).toEqual({ fresh: valid.slice(1), duplicates: 1 });
  });

  it('drops a repeated eventId in a later record but still moves the watermark past it', () => {
    const event = anEvent();
    const { valid } = decodeBatch(recordsFor([event, { ...event }]));
    const state = fresh();
    expect(firstDeliveries(state, valid, 10).duplicates).toBe(1);
    expect(state.lastSequenceNumber).toBe(valid[1]?.sequenceNumber);
  });

  it('keeps at most the limit of recent eventIds, newest last', () => {
    const events = Array.from({ length: 5 }, () => anEvent());
    const state = fresh();
    firstDeliveries(state, decodeBatch(recordsFor(events)).valid, 3);
    expect(state.recentEventIds).toEqual(events.slice(2).map((e) => e.eventId));
  });
});
