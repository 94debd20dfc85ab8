/**
 * The tombstone hook in every write path. Property: a batch run with some users tombstoned
 * leaves exactly what the same batch without those users' records leaves — no trace of them, and
 * nothing else different — in session-updater (sessions, invalid-records messages), fraud-rules
 * (state, alerts, published messages), metrics-emitter (metric data, watermarks) and the archive
 * writer (every row it would store).
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { archiveBatch } from '../../../services/archive-writer/writer.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { metricsRedriveTarget } from '../../../services/metrics-emitter/redrive.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import type { LedgerEntry } from '../../../services/shared/failure/ledger.js';
import type { RangeRecord } from '../../../services/shared/failure/range-source.js';
import type { InvalidRecord, ValidRecord } from '../../../services/shared/kinesis.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { Tombstones, userHash } from '../../../services/shared/tombstones.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, anEvent, aPurchase, aRawRecord, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import { harness, onlyRules } from '../fraud-rules/support.js';
import { FakeCloudWatch } from '../metrics-emitter/fake-cloudwatch.js';

const KEY = 'k'.repeat(64);
const ERASURES = 'pulse-test-erasures';
const USERS = ['ann', 'bob', 'cyd', 'dee'];

function tombstonesFor(erased: readonly string[]): Tombstones {
  const db = new FakeDynamo({ [ERASURES]: 'userHash' });
  for (const u of erased) db.put(ERASURES, { userHash: userHash(KEY, u), tombstoneUntil: T0 + 86_400_000 });
  return new Tombstones({
    db: db.asClient(),
    tableName: ERASURES,
    key: async () => KEY,
    refreshMs: 1_000,
    now: () => T0,
  });
}

/** A batch of one shard: page views, purchases (large ones raise alerts) and invalid records. */
const batchArb = fc
  .array(
    fc.record({
      user: fc.constantFrom(...USERS),
      kind: fc.constantFrom('view', 'purchase', 'large', 'invalid'),
      minute: fc.integer({ min: 0, max: 90 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((specs) =>
    specs.map(({ user, kind, minute }, i) => {
      const timestamp = T0 + minute * MINUTE + i;
      if (kind === 'invalid') return aRawRecord(`{"userId":"${user}","eventType":`, { partitionKey: user });
      if (kind === 'view') return aRecord(anEvent({ userId: user, timestamp }));
      return aRecord(aPurchase({ userId: user, timestamp, amount: kind === 'large' ? 5_000 : 20 }));
    }),
  );
const erasedArb = fc.uniqueArray(fc.constantFrom(...USERS), { minLength: 1, maxLength: 3 });

/** The batch without the erased users' records (what must remain equivalent). */
function without(records: KinesisStreamRecord[], erased: readonly string[]): KinesisStreamRecord[] {
  return records.filter((r) => !erased.includes(r.kinesis.partitionKey));
}

const mentions = (value: unknown, erased: readonly string[]) =>
  erased.some((u) => JSON.stringify(value).includes(`"${u}"`));

describe('tombstones in each write path', () => {
  it('session-updater: sessions and invalid-records messages as if the erased users had sent nothing', async () => {
    const run = async (records: KinesisStreamRecord[], tombstones?: Tombstones) => {
      const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'] });
      const sqs = new FakeSqs();
      const store = new SessionStore({
        db: dynamo.asClient(),
        tableName: 'sessions',
        closedSessionTtlDays: 90,
        now: () => T0,
        sleep: async () => {},
      });
      const { response } = await updateSessions(aKinesisEvent(records), {
        store,
        sqs: sqs.asClient(),
        invalidRecordsQueueUrl: 'invalid-q',
        functionName: 'session-updater',
        rules: { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 100 },
        logger: silentLogger,
        tombstones,
      });
      // updatedAt is the wall clock of the write, the one field two runs never share.
      const items = dynamo.items('sessions').map(({ updatedAt: _, ...item }) => item);
      return { response, items, messages: sqs.messages.map((m) => String(m.body.rawData)) };
    };
    await fc.assert(
      fc.asyncProperty(batchArb, erasedArb, async (records, erased) => {
        const withTombstones = await run(records, tombstonesFor(erased));
        expect(mentions(withTombstones.items, erased)).toBe(false);
        expect(
          withTombstones.messages.some((raw) =>
            erased.some((u) => Buffer.from(raw, 'base64').toString().includes(u)),
          ),
        ).toBe(false);
        const reference = await run(without(records, erased));
        expect(withTombstones.items).toEqual(reference.items);
        expect(withTombstones.messages).toEqual(reference.messages);
        expect(withTombstones.response).toEqual({ batchItemFailures: [] });
      }),
      { numRuns: 60 },
    );
  });

  it('fraud-rules: rule state, alerts and published alerts as if the erased users had bought nothing', async () => {
    const rules = onlyRules({ largePurchase: { threshold: 1000 } });
    const run = async (records: KinesisStreamRecord[], tombstones?: Tombstones) => {
      const h = harness(rules);
      await detectFraud(aKinesisEvent(records), {
        store: h.store,
        alerts: h.alerts,
        rules,
        logger: silentLogger,
        tombstones,
      });
      const tables = [...h.db.tables.keys()].map((t) => h.db.items(t));
      return { tables, published: h.sns.published.map((p) => p.Message) };
    };
    await fc.assert(
      fc.asyncProperty(batchArb, erasedArb, async (records, erased) => {
        const withTombstones = await run(records, tombstonesFor(erased));
        expect(mentions(withTombstones, erased)).toBe(false);
        expect(withTombstones).toEqual(await run(without(records, erased)));
      }),
      { numRuns: 60 },
    );
  });

  it('metrics-emitter: the erased users count in no sum', async () => {
    const run = async (records: KinesisStreamRecord[], tombstones?: Tombstones) => {
      const dynamo = new FakeDynamo({ watermarks: ['pk'] });
      const cloudwatch = new FakeCloudWatch();
      await emitBatchMetrics(aKinesisEvent(records), {
        cloudwatch,
        watermarks: new WatermarkStore({ db: dynamo.asClient(), tableName: 'watermarks', now: () => T0 }),
        namespace: 'Pulse',
        environment: 'test',
        functionName: 'metrics-emitter',
        maxEventTypes: 50,
        recentEventIdsLimit: 5000,
        duplicateWindowSeconds: 120,
        logger: silentLogger,
        now: () => T0 + 120 * MINUTE,
        tombstones,
      });
      return cloudwatch.datums;
    };
    await fc.assert(
      fc.asyncProperty(batchArb, erasedArb, async (records, erased) => {
        // Invalid records count in InvalidRecords by position only; compare the valid events' sums.
        const valid = records.filter((r) => !Buffer.from(r.kinesis.data, 'base64').toString().endsWith(':'));
        expect(await run(valid, tombstonesFor(erased))).toEqual(await run(without(valid, erased)));
      }),
      { numRuns: 60 },
    );
  });

  it("metrics-emitter's re-drive of a set-aside segment: the erased users count in no sum", async () => {
    const run = async (records: KinesisStreamRecord[], tombstones?: Tombstones) => {
      const cloudwatch = new FakeCloudWatch();
      const target = metricsRedriveTarget({
        cloudwatch,
        watermarks: new WatermarkStore({
          db: new FakeDynamo({ watermarks: ['pk'] }).asClient(),
          tableName: 'watermarks',
          now: () => T0,
        }),
        namespace: 'Pulse',
        environment: 'test',
        functionName: 'metrics-emitter',
        maxEventTypes: 50,
        now: () => T0 + 120 * MINUTE,
        tombstones,
      });
      const range: RangeRecord[] = records.map((r) => ({
        shardId: 'shardId-000000000000',
        sequenceNumber: r.kinesis.sequenceNumber,
        partitionKey: r.kinesis.partitionKey,
        data: Buffer.from(r.kinesis.data, 'base64'),
        arrivalMs: r.kinesis.approximateArrivalTimestamp * 1000,
      }));
      const entry = {
        pk: 'metrics-emitter#shardId-000000000000',
        sk: 's#1',
        shardId: 'shardId-000000000000',
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
      } as LedgerEntry;
      await target.apply(entry, range);
      return cloudwatch.datums;
    };
    await fc.assert(
      fc.asyncProperty(batchArb, erasedArb, async (records, erased) => {
        const valid = records.filter((r) => !Buffer.from(r.kinesis.data, 'base64').toString().endsWith(':'));
        expect(await run(valid, tombstonesFor(erased))).toEqual(await run(without(valid, erased)));
      }),
      { numRuns: 40 },
    );
  });

  it('archive writer: no row of an erased user is stored, every other row is', async () => {
    const run = async (records: KinesisStreamRecord[], tombstones?: Tombstones) => {
      const rows: string[] = [];
      const store = {
        putEvents: async (_key: string, rs: readonly ValidRecord[]) => {
          rows.push(...rs.map((r) => JSON.stringify(r.event)));
        },
        putInvalid: async (_key: string, rs: readonly InvalidRecord[]) => {
          rows.push(...rs.map((r) => r.rawData));
        },
        // The batch index names partitions only.
        putIndex: async () => undefined,
      };
      await archiveBatch(aKinesisEvent(records), {
        store: store as never,
        logger: silentLogger,
        decode: { maxEventAheadMs: 300_000 },
        tombstones,
      });
      return rows.sort();
    };
    await fc.assert(
      fc.asyncProperty(batchArb, erasedArb, async (records, erased) => {
        expect(await run(records, tombstonesFor(erased))).toEqual(await run(without(records, erased)));
      }),
      { numRuns: 60 },
    );
  });
});
