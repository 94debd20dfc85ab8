/**
 * Two writers on one archive hour: the hourly compaction and `pulse archive compact`, or a
 * compaction and `pulse erase` rewriting the same files, with new parts landing in between. The
 * second writer runs to its end at a generated point inside the first (before its Nth S3 call).
 * Whatever the interleaving, every event stays readable exactly once, an erased user's rows are
 * gone, and the next compaction leaves one file holding exactly those events.
 */
import fc from 'fast-check';
import { compactClosedHours } from '../../../services/archive-writer/compactor.js';
import { archiveBatch } from '../../../services/archive-writer/writer.js';
import {
  compactedKey,
  parseArchiveKey,
  partitionOf,
  partitionPrefix,
  userBucket,
  userBucketPrefix,
} from '../../../services/shared/archive/layout.js';
import { ArchiveObjectChanged, ArchiveStore, unlessGone } from '../../../services/shared/archive/store.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { Tombstones, userHash } from '../../../services/shared/tombstones.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeS3 } from '../../helpers/fake-s3.js';
import { aKinesisEvent, anEvent, aRecord, MINUTE } from '../../helpers/records.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 10, 20, 5, 0, 0);
const decode = { maxEventAheadMs: 300_000 };

/** Four users of one user bucket, so they share every partition of an hour. */
const USERS = (() => {
  const candidates = Array.from({ length: 200 }, (_, i) => `user-${i}`);
  const bucket = userBucket(candidates[0] as string);
  return candidates.filter((u) => userBucket(u) === bucket).slice(0, 4);
})();
const ERASED = USERS[0] as string;
const PARTITION = partitionOf(BASE, ERASED);
const PREFIX = partitionPrefix('events', PARTITION);
const COMPACTED = compactedKey('events', PARTITION);

const KEY = 'k'.repeat(64);
/** The erasures table and the functions' view of it (read afresh on every look). */
function erasures() {
  const db = new FakeDynamo({ erasures: 'userHash' });
  const erase = (userId: string) =>
    db.put('erasures', { userHash: userHash(KEY, userId), tombstoneUntil: BASE + 100 * HOUR });
  const tombstones = new Tombstones({
    db: db.asClient(),
    tableName: 'erasures',
    key: async () => KEY,
    refreshMs: 0,
    now: () => BASE,
  });
  return { erase, tombstones };
}
function tombstonesFor(userId: string): Tombstones {
  const { erase, tombstones } = erasures();
  erase(userId);
  return tombstones;
}

const idOf = (e: PulseEvent) => `${e.userId}/${e.eventId}`;

/** A call on the raced hour: its files or its listing (the other hours' lists are not a race). */
const onHour = (input: Record<string, unknown>) => String(input.Key ?? input.Prefix ?? '').startsWith(PREFIX);

const batchArb = (users: readonly string[]) =>
  fc.array(fc.record({ user: fc.constantFrom(...users), minute: fc.integer({ min: 0, max: 59 }) }), {
    minLength: 1,
    maxLength: 12,
  });

const writer = fc.constantFrom('compaction', 'erasure', 'late part and compaction');

const scenario = fc.record({
  first: batchArb(USERS),
  compactedBefore: fc.boolean(),
  second: batchArb(USERS),
  // The user being erased sends nothing more: the writer drops it once the tombstone exists.
  late: batchArb(USERS.slice(1)),
  outer: fc.constantFrom('compaction', 'erasure'),
  inner: writer,
  /**
   * The second writer runs just before the outer one's Nth S3 call on this hour (after its end if
   * it makes fewer).
   */
  at: fc.integer({ min: 1, max: 10 }),
});

function toEvents(batch: ReadonlyArray<{ user: string; minute: number }>): PulseEvent[] {
  return batch.map(({ user, minute }) => anEvent({ userId: user, timestamp: BASE + minute * MINUTE }));
}

async function readHour(store: ArchiveStore): Promise<string[]> {
  return (await store.readPartitionEvents(PREFIX)).records.map((r) => idOf(r.event)).sort();
}

/** An empty archive on a FakeS3, with its writer and its compaction of the raced hour. */
function anArchive() {
  const s3 = new FakeS3();
  const store = new ArchiveStore({ s3: s3.asClient(), bucket: 'b', retryPauseMs: 0 });
  const write = (events: PulseEvent[]) =>
    archiveBatch(aKinesisEvent(events.map((e) => aRecord(e))), { store, logger: silentLogger, decode });
  const compact = (tombstones?: Tombstones) =>
    compactClosedHours({
      store,
      logger: silentLogger,
      nowMs: BASE + 2 * HOUR,
      graceMs: 0,
      lookbackHours: 2,
      tombstones,
    });
  return { s3, store, write, compact };
}

describe('archive writers racing on one hour', () => {
  it('keep every event once and the erased user out, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { s3, store, write, compact } = anArchive();
        const erasing = s.outer === 'erasure' || s.inner === 'erasure';
        const tombstones = erasing ? tombstonesFor(ERASED) : undefined;
        // What `pulse erase` does in the archive: rewrite every file of the user's bucket without them.
        const erase = async () => {
          for (const { key } of await store.list(userBucketPrefix('events', ERASED)))
            await store.rewriteEvents(key, (r) => r.event.userId !== ERASED);
        };
        const late = toEvents(s.late);
        const run = async (w: string) => {
          if (w === 'erasure') return erase();
          if (w === 'late part and compaction') await write(late);
          await compact(tombstones);
        };

        const first = toEvents(s.first);
        const second = toEvents(s.second);
        await write(first);
        // Before the tombstone: this compacted file still holds the user to erase.
        if (s.compactedBefore) await compact();
        await write(second);

        let calls = 0;
        s3.before = { when: (_, input) => onHour(input) && ++calls === s.at, run: () => run(s.inner) };
        await run(s.outer);
        if (s3.before) {
          s3.before = undefined;
          await run(s.inner);
        }

        const landed = s.inner === 'late part and compaction' ? late : [];
        const expected = [...first, ...second, ...landed]
          .filter((e) => !erasing || e.userId !== ERASED)
          .map(idOf)
          .sort();
        expect(await readHour(store)).toEqual(expected);

        await compact(tombstones);
        expect(await readHour(store)).toEqual(expected);
        const files = [...s3.objects.keys()].filter((k) => parseArchiveKey(k)?.kind === 'events');
        expect(files).toEqual([COMPACTED]);
      }),
      { numRuns: 300 },
    );
  });

  it('a compaction that another finished under it writes and deletes nothing, and says so', async () => {
    const { s3, store, write, compact } = anArchive();
    const early = [anEvent({ userId: ERASED, timestamp: BASE + MINUTE })];
    const late = [anEvent({ userId: USERS[1], timestamp: BASE + 2 * MINUTE })];
    await write(early);
    let other: Awaited<ReturnType<typeof compact>> | undefined;
    s3.before = {
      when: (command, input) => command === 'PutObjectCommand' && input.Key === COMPACTED,
      run: async () => {
        await write(late);
        other = await compact();
      },
    };

    const outer = await compact();

    expect(other).toMatchObject({ partitions: 1, changed: 0 });
    expect(outer).toMatchObject({ partitions: 0, changed: 1 });
    expect(await readHour(store)).toEqual([...early, ...late].map(idOf).sort());
  });

  it('a compaction whose reads began before an erasure leaves the erased user out of its file', async () => {
    const { s3, store, write, compact } = anArchive();
    const { erase, tombstones } = erasures();
    const events = USERS.map((userId, i) => anEvent({ userId, timestamp: BASE + i * MINUTE }));
    await write(events);
    // The tombstone lands while the compaction reads (a slow `pulse archive compact`): the part
    // it reads still holds the user.
    s3.before = { when: (command) => command === 'GetObjectCommand', run: async () => erase(ERASED) };

    expect(await compact(tombstones)).toMatchObject({ partitions: 1 });

    expect(await readHour(store)).toEqual(
      events
        .filter((e) => e.userId !== ERASED)
        .map(idOf)
        .sort(),
    );
  });

  it("erasure's count pass reads a part compaction deleted after the list as empty", async () => {
    const { store, write, compact } = anArchive();
    await write([anEvent({ userId: ERASED, timestamp: BASE })]);
    const listed = await store.list(PREFIX);
    await compact();
    const counts = await Promise.all(listed.map((o) => unlessGone(store.readEvents(o.key))));
    expect(counts.map((rows) => rows.length)).toEqual([0]);
    await expect(store.readEvents(listed[0]?.key as string)).rejects.toBeInstanceOf(ArchiveObjectChanged);
  });

  it('a reader that lists parts a compaction then deletes reads the hour again', async () => {
    const { s3, store, write, compact } = anArchive();
    const events = USERS.map((userId, i) => anEvent({ userId, timestamp: BASE + i * MINUTE }));
    for (const e of events) await write([e]);
    let gets = 0;
    s3.before = {
      when: (command) => command === 'GetObjectCommand' && ++gets === 2,
      run: async () => {
        await compact();
      },
    };

    expect(await readHour(store)).toEqual(events.map(idOf).sort());
    expect(s3.before).toBeUndefined(); // the compaction did run between the reader's list and reads
  });
});
