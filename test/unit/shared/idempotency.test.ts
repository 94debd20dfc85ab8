import {
  EVENT_HASH_BYTES,
  EVENT_TIME_BYTES,
  emptyIdempotency,
  eventIdHash,
  firstDeliveries,
  hashKeys,
  type IdempotencyState,
  idempotencyFromItem,
  MAX_SHARD_WATERMARKS,
  watermarkOf,
} from '../../../services/shared/idempotency.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { anEvent, recordsFor, T0 } from '../../helpers/records.js';

const fresh = (): IdempotencyState => emptyIdempotency();
const hashesOf = (ids: string[]) => new Uint8Array(Buffer.concat(ids.map(eventIdHash)));

describe('firstDeliveries', () => {
  it('passes every record the first time and moves the shard watermark to the last', () => {
    const { valid } = decodeBatch(recordsFor([anEvent(), anEvent()]));
    const state = fresh();
    expect(firstDeliveries(state, valid, 10)).toEqual({ fresh: valid, duplicates: 0, changed: true });
    expect(state.watermarks).toEqual([['shardId-000000000000', valid[1]?.sequenceNumber]]);
  });

  it('drops records at or below the watermark; nothing changes when all were applied', () => {
    const { valid } = decodeBatch(recordsFor([anEvent(), anEvent()]));
    const state = fresh();
    firstDeliveries(state, valid.slice(0, 1), 10);
    expect(firstDeliveries(state, valid, 10)).toEqual({
      fresh: valid.slice(1),
      duplicates: 1,
      changed: true,
    });
    expect(firstDeliveries(state, valid, 10)).toEqual({ fresh: [], duplicates: 2, changed: false });
  });

  it('drops a repeated eventId in a later record but still moves the watermark past it', () => {
    const event = anEvent();
    const { valid } = decodeBatch(recordsFor([event, { ...event }]));
    const state = fresh();
    expect(firstDeliveries(state, valid, 10).duplicates).toBe(1);
    expect(watermarkOf(state, 'shardId-000000000000')).toBe(valid[1]?.sequenceNumber);
  });

  it('drops repeated eventIds in a long batch of one user, early and late in it', () => {
    const events = Array.from({ length: 80 }, () => anEvent());
    const again = (i: number) => ({ ...(events[i] as (typeof events)[number]) });
    // A repeat among the first few new hashes, repeats after dozens, and a first copy that comes
    // after its repeat (then the later record is the repeat).
    const order = [
      ...events.slice(0, 10),
      again(3),
      ...events.slice(10, 50),
      again(1),
      again(33),
      again(70),
      ...events.slice(50),
    ];
    const { valid } = decodeBatch(recordsFor(order));
    const result = firstDeliveries(fresh(), valid, 200);
    expect(result.duplicates).toBe(4);
    const expected = [...events.slice(0, 50), events[70], ...events.slice(50, 70), ...events.slice(71)];
    expect(result.fresh.map((r) => r.event.eventId)).toEqual(expected.map((e) => e?.eventId));
  });

  it('keeps at most the limit of recent eventId hashes, 8 bytes each, newest last', () => {
    const events = Array.from({ length: 5 }, () => anEvent());
    const state = fresh();
    firstDeliveries(state, decodeBatch(recordsFor(events)).valid, 3);
    expect(EVENT_HASH_BYTES).toBeGreaterThanOrEqual(8);
    expect(Buffer.from(state.recentEventHashes)).toEqual(
      Buffer.from(hashesOf(events.slice(2).map((e) => e.eventId))),
    );
  });

  it('compares sequence numbers only within a shard: a child shard with lower numbers is not a re-delivery', () => {
    const parent = decodeBatch(
      recordsFor([anEvent()], { shardId: 'shardId-000000000000', sequenceNumber: '900' }),
    ).valid;
    const child = decodeBatch(
      recordsFor([anEvent(), anEvent()], { shardId: 'shardId-000000000002', sequenceNumber: '100' }),
    ).valid.map((r, i) => ({ ...r, sequenceNumber: String(100 + i) }));
    const state = fresh();
    firstDeliveries(state, parent, 10);
    expect(firstDeliveries(state, child, 10)).toMatchObject({ fresh: child, duplicates: 0 });
    expect(state.watermarks).toEqual([
      ['shardId-000000000000', '900'],
      ['shardId-000000000002', '101'],
    ]);
    // A re-delivery of the child's records is still recognised.
    expect(firstDeliveries(state, child, 10)).toMatchObject({ fresh: [], duplicates: 2 });
  });

  it('catches a producer retry whose copy lands in a child shard after a reshard', () => {
    const event = anEvent();
    const state = fresh();
    firstDeliveries(state, decodeBatch(recordsFor([event], { shardId: 'shardId-000000000000' })).valid, 10);
    const copy = decodeBatch(recordsFor([{ ...event }], { shardId: 'shardId-000000000003' })).valid;
    expect(firstDeliveries(state, copy, 10)).toMatchObject({ fresh: [], duplicates: 1, changed: true });
  });

  it('keeps the watermarks of the most recently advanced shards only', () => {
    const state = fresh();
    for (let i = 0; i < MAX_SHARD_WATERMARKS + 2; i++) {
      firstDeliveries(state, decodeBatch(recordsFor([anEvent()], { shardId: `shard-${i}` })).valid, 10);
    }
    expect(state.watermarks.map(([id]) => id)).toEqual(
      Array.from({ length: MAX_SHARD_WATERMARKS }, (_, i) => `shard-${i + 2}`),
    );
  });
});

describe('firstDeliveries with a duplicate window (session-updater: RECENT_EVENT_IDS_LIMIT 16, 120 s)', () => {
  const scope = { limit: 16, windowSeconds: 120 };
  const at = (event: ReturnType<typeof anEvent>, arrivalMs: number) =>
    decodeBatch(recordsFor([event], { arrivalMs })).valid;

  it('counts a producer retry inside the window once, in a later batch, after other events', () => {
    const state = fresh();
    const first = anEvent({ userId: 'u' });
    expect(firstDeliveries(state, at(first, T0), scope).fresh).toHaveLength(1);
    for (let i = 1; i <= 10; i++)
      firstDeliveries(state, at(anEvent({ userId: 'u' }), T0 + i * 10_000), scope);
    expect(firstDeliveries(state, at({ ...first }, T0 + 119_000), scope)).toMatchObject({
      fresh: [],
      duplicates: 1,
      changed: true,
    });
  });

  it('the documented limit: a retry arriving more than the window after its first copy counts again', () => {
    const state = fresh();
    const first = anEvent({ userId: 'u' });
    firstDeliveries(state, at(first, T0), scope);
    firstDeliveries(state, at(anEvent({ userId: 'u' }), T0 + 121_000), scope);
    expect(firstDeliveries(state, at({ ...first }, T0 + 122_000), scope).fresh).toHaveLength(1);
  });

  it('the documented limit: a retry after more than the limit of newer events of the user counts again', () => {
    const state = fresh();
    const first = anEvent({ userId: 'u' });
    firstDeliveries(state, at(first, T0), scope);
    for (let i = 1; i <= scope.limit; i++)
      firstDeliveries(state, at(anEvent({ userId: 'u' }), T0 + i * 100), scope);
    expect(firstDeliveries(state, at({ ...first }, T0 + 5_000), scope).fresh).toHaveLength(1);
  });

  it('keeps only the hashes inside the window, each with its arrival second', () => {
    const state = fresh();
    const events = [anEvent(), anEvent(), anEvent()];
    firstDeliveries(state, at(events[0] as never, T0), scope);
    firstDeliveries(state, at(events[1] as never, T0 + 60_000), scope);
    firstDeliveries(state, at(events[2] as never, T0 + 150_000), scope);
    expect(Buffer.from(state.recentEventHashes)).toEqual(
      Buffer.from(hashesOf(events.slice(1).map((e) => e.eventId))),
    );
    expect(state.recentEventSeconds).toHaveLength(2 * EVENT_TIME_BYTES);
    expect(Buffer.from(state.recentEventSeconds as Uint8Array).readUInt32BE(4)).toBe(
      Math.floor((T0 + 150_000) / 1000),
    );
  });

  it('hashes of an item written without arrival seconds count as just seen: a retry of one is caught', () => {
    const old = anEvent();
    const state: IdempotencyState = { watermarks: [], recentEventHashes: hashesOf([old.eventId]) };
    firstDeliveries(state, at(anEvent(), T0 + 100_000), scope);
    expect(firstDeliveries(state, at({ ...old }, T0 + 200_000), scope).duplicates).toBe(1);
  });
});

describe('idempotencyFromItem', () => {
  it('reads an item written before per-shard watermarks: its eventIds become hashes that catch a re-delivery', () => {
    const event = anEvent();
    const { valid } = decodeBatch(recordsFor([event, anEvent()]));
    const state = idempotencyFromItem({
      lastSequenceNumber: valid[0]?.sequenceNumber,
      recentEventIds: [event.eventId],
    });
    expect(hashKeys(state.recentEventHashes)).toEqual(hashKeys(hashesOf([event.eventId])));
    expect(firstDeliveries(state, valid, 10)).toMatchObject({ fresh: valid.slice(1), duplicates: 1 });
  });

  it('never compares the old single watermark (its shard is unknown), and drops it on the next write', () => {
    const { valid } = decodeBatch(recordsFor([anEvent(), anEvent()]));
    // A store read that carries the legacy attribute over into the state (fraud-rules spreads the item).
    const state = {
      ...idempotencyFromItem({ lastSequenceNumber: valid[1]?.sequenceNumber, recentEventIds: [] }),
      lastSequenceNumber: valid[1]?.sequenceNumber,
    };
    expect(watermarkOf(state, valid[0]?.shardId ?? '')).toBeUndefined();
    expect(firstDeliveries(state, valid, 10)).toMatchObject({ fresh: valid, duplicates: 0, changed: true });
    expect(state.lastSequenceNumber).toBeUndefined();
  });

  it('reads the current shape as written', () => {
    const item = { watermarks: [['s', '5']], recentEventHashes: hashesOf(['a']) };
    expect(idempotencyFromItem(item)).toEqual(item);
  });
});
