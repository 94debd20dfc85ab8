import fc from 'fast-check';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import {
  activeHashes,
  dropErased,
  secretKey,
  Tombstones,
  TombstonesUnavailableError,
  tombstonesFromEnv,
  userHash,
  usersNamedBy,
} from '../../../services/shared/tombstones.js';
import { awsError, FakeDynamo } from '../../helpers/fake-dynamo.js';
import { anEvent, aRawRecord, aRecord, T0 } from '../../helpers/records.js';

const TABLE = 'pulse-test-erasures';
const KEY = 'k'.repeat(64);
const DAY = 86_400_000;

function setup(now = { t: T0 }) {
  const dynamo = new FakeDynamo({ [TABLE]: 'userHash' });
  let keyReads = 0;
  const tombstones = new Tombstones({
    db: dynamo.asClient(),
    tableName: TABLE,
    key: async () => {
      keyReads += 1;
      return KEY;
    },
    refreshMs: 30_000,
    now: () => now.t,
  });
  const erase = (userId: string, until = now.t + 30 * DAY) =>
    dynamo.put(TABLE, { userHash: userHash(KEY, userId), status: 'PENDING', tombstoneUntil: until });
  return { dynamo, tombstones, erase, now, keyReads: () => keyReads };
}

describe('userHash', () => {
  it('is the same for the same key and id, and differs with either', () => {
    expect(userHash(KEY, 'user-1')).toBe(userHash(KEY, 'user-1'));
    expect(userHash(KEY, 'user-1')).not.toBe(userHash(KEY, 'user-2'));
    expect(userHash(KEY, 'user-1')).not.toBe(userHash('x'.repeat(64), 'user-1'));
    expect(userHash(KEY, 'user-1')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('usersNamedBy', () => {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  it('names the partition key and the userId of a JSON body, even when they disagree', () => {
    expect(usersNamedBy(b64('{"userId":"b","eventType":"x"}'), 'a').sort()).toEqual(['a', 'b']);
  });
  it('finds the userId in a truncated or malformed body', () => {
    expect(usersNamedBy(b64('{"eventType":"x","userId":"u\\"q","data":{'), 'k').sort()).toEqual(['k', 'u"q']);
  });
  it('names only the partition key when the body is not text', () => {
    expect(usersNamedBy(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), 'k')).toEqual(['k']);
  });
});

describe('Tombstones', () => {
  it('never reads the key while no tombstone is active, so the common case costs one Scan per interval', async () => {
    const { dynamo, tombstones, keyReads, now } = setup();
    const batch = decodeBatch([aRecord(anEvent({ userId: 'a' }))]);
    for (let i = 0; i < 5; i++) {
      expect((await dropErased(tombstones, batch)).valid).toHaveLength(1);
      now.t += 1_000;
    }
    expect(keyReads()).toBe(0);
    expect(dynamo.count('Scan', TABLE)).toBe(1);
  });

  it("drops an erased user's valid and invalid records and keeps everyone else's, in order", async () => {
    const { tombstones, erase } = setup();
    erase('gone');
    const records = [
      aRecord(anEvent({ userId: 'a', timestamp: T0 })),
      aRecord(anEvent({ userId: 'gone', timestamp: T0 })),
      aRawRecord('{"userId":"gone","eventType":', { partitionKey: 'other-key' }),
      aRawRecord('not json', { partitionKey: 'gone' }),
      aRawRecord('not json', { partitionKey: 'b' }),
      aRecord(anEvent({ userId: 'b', timestamp: T0 })),
    ];
    const out = await dropErased(tombstones, decodeBatch(records));
    expect(out.erased).toBe(3);
    expect(out.valid.map((r) => r.event.userId)).toEqual(['a', 'b']);
    expect(out.invalid.map((r) => r.partitionKey)).toEqual(['b']);
  });

  it('sees a tombstone written after the last read once the refresh interval has passed, not before', async () => {
    const { tombstones, erase, now } = setup();
    const batch = () => decodeBatch([aRecord(anEvent({ userId: 'late', timestamp: T0 }))]);
    expect((await dropErased(tombstones, batch())).valid).toHaveLength(1);
    erase('late');
    now.t += 29_999;
    expect((await dropErased(tombstones, batch())).valid).toHaveLength(1);
    now.t += 1;
    expect((await dropErased(tombstones, batch())).valid).toHaveLength(0);
  });

  it('ignores expired tombstones', async () => {
    const { tombstones, erase, now } = setup();
    erase('old', now.t - 1);
    erase('new');
    const view = await tombstones.current();
    expect([view.size, view.has('old'), view.has('new')]).toEqual([1, false, true]);
  });

  it('fails the batch rather than use a set older than the interval when it cannot be re-read', async () => {
    const { dynamo, tombstones, now } = setup();
    await tombstones.current();
    now.t += 30_000;
    dynamo.failNext('ScanCommand', awsError('ProvisionedThroughputExceededException'));
    await expect(dropErased(tombstones, decodeBatch([aRecord(anEvent())]))).rejects.toBeInstanceOf(
      TombstonesUnavailableError,
    );
    // The next batch re-reads (nothing was cached from the failure).
    expect((await tombstones.current()).size).toBe(0);
  });

  it('fails the batch when the key cannot be read, and reads it again next time', async () => {
    const dynamo = new FakeDynamo({ [TABLE]: 'userHash' });
    dynamo.put(TABLE, { userHash: userHash(KEY, 'gone'), tombstoneUntil: T0 + DAY });
    let calls = 0;
    const tombstones = new Tombstones({
      db: dynamo.asClient(),
      tableName: TABLE,
      key: async () => {
        calls += 1;
        if (calls === 1) throw awsError('AccessDeniedException');
        return KEY;
      },
      refreshMs: 30_000,
      now: () => T0,
    });
    await expect(tombstones.current()).rejects.toBeInstanceOf(TombstonesUnavailableError);
    expect((await tombstones.current()).has('gone')).toBe(true);
  });

  it('reads every page of the table', async () => {
    const { dynamo, erase, now } = setup();
    for (let i = 0; i < 7; i++) erase(`u${i}`);
    dynamo.scanPageSize = 2;
    expect((await activeHashes(dynamo.asClient(), TABLE, now.t)).size).toBe(7);
  });

  it('property: the kept records are exactly those of users without an active tombstone, in order', async () => {
    const user = fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user, invalid: fc.boolean() }), { maxLength: 40 }),
        fc.uniqueArray(user, { maxLength: 6 }),
        async (batch, erased) => {
          const { tombstones, erase } = setup();
          for (const u of erased) erase(u);
          const records = batch.map(({ user: u, invalid }) =>
            invalid
              ? aRawRecord(`{"userId":"${u}"`, { partitionKey: u })
              : aRecord(anEvent({ userId: u, timestamp: T0 })),
          );
          const decoded = decodeBatch(records);
          const out = await dropErased(tombstones, decoded);
          const isErased = new Set(erased);
          expect(out.valid).toEqual(decoded.valid.filter((r) => !isErased.has(r.event.userId)));
          expect(out.invalid).toEqual(decoded.invalid.filter((r) => !isErased.has(r.partitionKey)));
          expect(out.erased).toBe(batch.filter((r) => isErased.has(r.user)).length);
        },
      ),
    );
  });
});

describe('configuration', () => {
  const db = new FakeDynamo({ [TABLE]: 'userHash' }).asClient();
  const secrets = () => ({ send: async () => ({ SecretString: KEY }) }) as never;
  it('is off without ERASURES_TABLE (unit tests of other paths) and needs the key secret with it', () => {
    expect(tombstonesFromEnv({}, db, secrets)).toBeUndefined();
    expect(() => tombstonesFromEnv({ ERASURES_TABLE: TABLE }, db, secrets)).toThrow(/ERASURE_KEY_SECRET/);
  });
  it('rejects a refresh interval that is not a positive number of seconds up to 300', () => {
    for (const bad of ['0', '-1', 'abc', '301'])
      expect(() =>
        tombstonesFromEnv(
          { ERASURES_TABLE: TABLE, ERASURE_KEY_SECRET: 's', TOMBSTONE_REFRESH_SECONDS: bad },
          db,
          secrets,
        ),
      ).toThrow(/TOMBSTONE_REFRESH_SECONDS/);
  });
  it('refuses a key shorter than 32 characters', async () => {
    const short = { send: async () => ({ SecretString: 'short' }) } as never;
    await expect(secretKey(short, 's')()).rejects.toThrow(/shorter than 32/);
  });
});
