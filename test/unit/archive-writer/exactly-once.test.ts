/**
 * The archive's exactly-once promise, attacked with generated deliveries: Lambda retries of a
 * batch (same records), re-deliveries from a failed record with other boundaries, producer
 * duplicates (same event, new record), PUT and DELETE failures mid-batch and mid-compaction.
 * Whatever happens, reading the archive gives every valid event exactly once, and compaction
 * leaves one file per partition holding exactly those events.
 */
import fc from 'fast-check';
import { compactClosedHours } from '../../../services/archive-writer/compactor.js';
import { archiveBatch } from '../../../services/archive-writer/writer.js';
import { parseArchiveKey } from '../../../services/shared/archive/layout.js';
import { ArchiveStore } from '../../../services/shared/archive/store.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeS3 } from '../../helpers/fake-s3.js';
import { aKinesisEvent, aRawRecord, aRecord } from '../../helpers/records.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 10, 20, 0, 0, 0);
const decode = { maxEventAheadMs: 300_000 };

const eventArb = (i: number) =>
  fc
    .record({
      user: fc.integer({ min: 0, max: 40 }),
      hour: fc.integer({ min: 0, max: 30 }),
      type: fc.constantFrom('page_view', 'product_view', 'add_to_cart', 'purchase'),
    })
    .map(
      ({ user, hour, type }): PulseEvent => ({
        // eventIds are unique per user only: events 2k and 2k+1 share one, their users never do.
        eventId: `e-${Math.floor(i / 2)}`,
        userId: i % 2 === 0 ? `u-${user}` : `v-${user}`,
        eventType: type,
        timestamp: BASE + hour * HOUR + i,
        data:
          type === 'purchase'
            ? { amount: 10, currency: 'EUR', orderId: `o-${i}` }
            : type === 'product_view'
              ? { productId: `p-${i % 7}` }
              : {},
      }),
    );

const scenario = fc.integer({ min: 1, max: 120 }).chain((n) =>
  fc.record({
    events: fc.tuple(...Array.from({ length: n }, (_, i) => eventArb(i))),
    // indexes of events the producer put twice
    dupes: fc.array(fc.nat(n - 1), { maxLength: 20 }),
    invalid: fc.array(fc.constantFrom('{oops', '{"eventId":"x"}', '\u0000'), { maxLength: 5 }),
    batchSize: fc.integer({ min: 1, max: 50 }),
    // per batch: deliver again identically, or re-deliver from a point with a longer batch
    retries: fc.array(fc.constantFrom('none', 'same', 'from-middle'), { minLength: 50, maxLength: 50 }),
    failPutAt: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    failDeleteAt: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  }),
);

/** An event's identity: eventIds are unique per user only. */
const idOf = (e: PulseEvent) => `${e.userId}/${e.eventId}`;

async function readAll(store: ArchiveStore, s3: FakeS3) {
  const keys = [...s3.objects.keys()].filter((k) => parseArchiveKey(k)?.kind === 'events');
  const prefixes = [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/') + 1)))];
  const rows = [];
  for (const prefix of prefixes) rows.push(...(await store.readPartitionEvents(prefix)).records);
  return rows;
}

describe('archive exactly-once', () => {
  it('holds every valid event once, whatever the deliveries, retries and faults', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const s3 = new FakeS3();
        const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b' });
        // The stream: events, producer duplicates appended later, invalid records in between.
        const onStream = [
          ...s.events.map((e) => aRecord(e, { arrivalMs: e.timestamp + 1000 })),
          ...s.invalid.map((d) => aRawRecord(d, { arrivalMs: BASE })),
          ...s.dupes.map((i) => aRecord(s.events[i] as PulseEvent, { arrivalMs: BASE + 40 * HOUR })),
        ];
        const deliver = async (from: number, size: number) => {
          const event = aKinesisEvent(onStream.slice(from, from + size));
          for (;;) {
            try {
              return await archiveBatch(event, { store, logger: silentLogger, decode, concurrency: 2 });
            } catch {
              // Lambda retries the identical batch after a failed invocation.
            }
          }
        };
        s3.failPutAt = s.failPutAt;
        let batch = 0;
        for (let at = 0; at < onStream.length; at += s.batchSize, batch += 1) {
          await deliver(at, s.batchSize);
          const retry = s.retries[batch % s.retries.length];
          if (retry === 'same') await deliver(at, s.batchSize);
          if (retry === 'from-middle') await deliver(at + Math.floor(s.batchSize / 2), s.batchSize * 2);
        }
        const expectedIds = s.events.map(idOf).sort();
        const before = await readAll(store, s3);
        expect(before.map((r) => idOf(r.event)).sort()).toEqual(expectedIds);

        s3.failDeleteAt = s.failDeleteAt;
        const compact = () =>
          compactClosedHours({
            store,
            logger: silentLogger,
            nowMs: BASE + 60 * HOUR,
            graceMs: 0,
            lookbackHours: 72,
          });
        // Each injected fault fires once; a failed run is simply run again next hour (the schedule).
        for (let attempt = 0; attempt < 2; attempt += 1) {
          await compact().catch(() => undefined);
          const midway = await readAll(store, s3);
          expect(midway.map((r) => idOf(r.event)).sort()).toEqual(expectedIds);
        }
        await compact();

        const files = [...s3.objects.keys()].map((k) => parseArchiveKey(k));
        const eventFiles = files.filter((f) => f?.kind === 'events');
        expect(eventFiles.every((f) => f?.file.type === 'compacted')).toBe(true);
        // One file per partition, and the compacted files together hold each event exactly once.
        const rows = (
          await Promise.all(
            [...s3.objects.keys()]
              .filter((k) => parseArchiveKey(k)?.kind === 'events')
              .map((k) => store.readEvents(k)),
          )
        ).flat();
        expect(rows.map((r) => idOf(r.event)).sort()).toEqual(expectedIds);
        for (const r of rows) {
          const original = s.events.find((e) => idOf(e) === idOf(r.event));
          expect(r.event).toEqual(original);
        }
        // Invalid records are kept apart, each with its reason.
        const invalidRows = (
          await Promise.all(
            [...s3.objects.keys()]
              .filter((k) => parseArchiveKey(k)?.kind === 'invalid')
              .map((k) => store.readInvalid(k)),
          )
        ).flat();
        const distinctInvalid = new Set(invalidRows.map((r) => r.sequenceNumber));
        expect(distinctInvalid.size).toBe(s.invalid.length);
        expect(invalidRows.every((r) => r.reason.length > 0)).toBe(true);
        // A second compaction changes nothing.
        const snapshot = new Map(s3.objects);
        const putsBefore = s3.puts;
        const getsBefore = s3.gets;
        await compact();
        expect(s3.puts).toBe(putsBefore);
        expect(s3.gets).toBe(getsBefore); // compacted hours without new parts are not read again
        expect(new Map(s3.objects)).toEqual(snapshot);
      }),
      { numRuns: 30 },
    );
  });

  it("keeps two users' events that share an eventId in one partition", async () => {
    const s3 = new FakeS3();
    const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b' });
    const at = BASE + 10 * HOUR;
    // Users in the same bucket, so their events share a partition.
    const users = [
      'u-0',
      'u-1',
      'u-2',
      'u-3',
      'u-4',
      'u-5',
      'u-6',
      'u-7',
      'u-8',
      'u-9',
      'u-10',
      'u-11',
      'u-12',
      'u-13',
      'u-14',
      'u-15',
      'u-16',
      'u-17',
    ];
    const events: PulseEvent[] = users.map((userId, i) => ({
      eventId: 'same',
      userId,
      eventType: 'page_view',
      timestamp: at + i,
      data: {},
    }));
    await archiveBatch(aKinesisEvent(events.map((e) => aRecord(e))), { store, logger: silentLogger, decode });
    const rows = await readAll(store, s3);
    expect(rows.map((r) => idOf(r.event)).sort()).toEqual(events.map(idOf).sort());
    const prefixes = new Set(
      [...s3.objects.keys()]
        .filter((k) => parseArchiveKey(k)?.kind === 'events')
        .map((k) => k.slice(0, k.lastIndexOf('/'))),
    );
    expect(prefixes.size).toBeLessThan(users.length); // some users did share a partition
  });

  it('leaves the open hour alone and compacts it once it has closed', async () => {
    const s3 = new FakeS3();
    const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b' });
    const e = {
      eventId: 'a',
      userId: 'u',
      eventType: 'page_view',
      timestamp: BASE + 10 * HOUR + 5,
      data: {},
    };
    await archiveBatch(aKinesisEvent([aRecord(e)]), { store, logger: silentLogger, decode });
    const run = (nowMs: number) =>
      compactClosedHours({ store, logger: silentLogger, nowMs, graceMs: 15 * 60_000, lookbackHours: 48 });
    expect((await run(BASE + 11 * HOUR + 10 * 60_000)).partitions).toBe(0);
    expect((await run(BASE + 11 * HOUR + 20 * 60_000)).partitions).toBe(1);
    const files = [...s3.objects.keys()].filter((k) => parseArchiveKey(k));
    expect(files.map((k) => parseArchiveKey(k)?.file.type)).toEqual(['compacted']);
  });
});
