import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { SessionRules } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { type Deadline, marginFor } from '../../../services/shared/deadline.js';
import { EVENT_HASH_BYTES } from '../../../services/shared/idempotency.js';
import { itemBytes } from '../../../services/shared/item-size.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { ConditionalCheckFailed, FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import {
  aKinesisEvent,
  anEvent,
  aProductView,
  aPurchase,
  aRawRecord,
  MINUTE,
  recordsFor,
  T0,
} from '../../helpers/records.js';

const TABLE = 'sessions';
const rules: SessionRules = { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 100 };

function setup() {
  const dynamo = new FakeDynamo({ [TABLE]: ['userId', 'sk'] });
  const sqs = new FakeSqs();
  const store = new SessionStore({
    db: dynamo.asClient(),
    tableName: TABLE,
    closedSessionTtlDays: 90,
    now: () => T0,
    sleep: async () => {},
  });
  const run = (records: KinesisStreamRecord[], deadline?: Deadline) =>
    updateSessions(aKinesisEvent(records), {
      deadline,
      store,
      sqs: sqs.asClient(),
      invalidRecordsQueueUrl: 'invalid-q',
      functionName: 'session-updater',
      rules,
      logger: silentLogger,
    });
  const current = (userId: string) => dynamo.get(TABLE, { userId, sk: CURRENT_SK });
  return { dynamo, sqs, run, current };
}

describe('updateSessions', () => {
  it('writes each user once per batch, after one batched read', async () => {
    const { dynamo, run, current } = setup();
    const records = recordsFor([
      anEvent({ userId: 'a' }),
      aProductView('p1', { userId: 'b' }),
      aPurchase({ userId: 'a', amount: 5 }),
      anEvent({ userId: 'b' }),
    ]);
    const { response, summary } = await run(records);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(summary).toMatchObject({ records: 4, users: 2, applied: 4, failedUsers: 0 });
    expect(dynamo.count('BatchGetCommand')).toBe(1);
    expect(dynamo.count('PutCommand')).toBe(2);
    expect(current('a')).toMatchObject({
      version: 1,
      session: { eventCount: 2, purchases: 1, spent: { USD: '5000000' } },
    });
    expect(current('b')).toMatchObject({ version: 1, recentProducts: ['p1'], session: { eventCount: 2 } });
  });

  it('does not change anything when the same batch is delivered again', async () => {
    const { dynamo, run, current } = setup();
    const records = recordsFor([anEvent({ userId: 'a' }), aPurchase({ userId: 'a', amount: 7 })]);
    await run(records);
    const before = structuredClone(current('a'));
    const { summary } = await run(records);
    expect(summary).toMatchObject({ applied: 0, duplicates: 2 });
    expect(current('a')).toEqual(before);
    expect(dynamo.count('PutCommand')).toBe(1);
  });

  it('keeps closed sessions as their own items with a TTL', async () => {
    const { dynamo, run } = setup();
    const first = anEvent({ userId: 'a', timestamp: T0 });
    await run(recordsFor([first, anEvent({ userId: 'a', timestamp: T0 + 31 * MINUTE })]));
    const closed = dynamo.items(TABLE).filter((item) => item.sk !== CURRENT_SK);
    expect(closed).toEqual([
      expect.objectContaining({
        userId: 'a',
        sk: `SESSION#${new Date(T0).toISOString()}#${first.eventId}`,
        eventCount: 1,
        expiresAt: Math.floor(T0 / 1000) + 90 * 86_400,
      }),
    ]);
  });

  it('sends invalid records to the queue and applies the valid ones', async () => {
    const { sqs, run, current } = setup();
    const bad = aRawRecord('{broken', { partitionKey: 'a' });
    const { response, summary } = await run([bad, ...recordsFor([anEvent({ userId: 'a' })])]);
    expect(response.batchItemFailures).toEqual([]);
    expect(summary).toMatchObject({ invalid: 1, applied: 1 });
    expect(sqs.messages.map((m) => m.body.sequenceNumber)).toEqual([bad.kinesis.sequenceNumber]);
    expect(current('a')).toMatchObject({ session: { eventCount: 1 } });
  });

  it('reports an invalid record as failed when the queue cannot take it, so it is not lost', async () => {
    const { sqs, run } = setup();
    const bad = aRawRecord('{broken');
    sqs.failNextRequest = new Error('SQS unavailable');
    const { response } = await run([bad, ...recordsFor([anEvent({ userId: 'a' })])]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.kinesis.sequenceNumber }]);
  });

  it('reports the earliest record of a user whose write failed, and converges on retry', async () => {
    const { dynamo, run, current } = setup();
    const records = recordsFor([
      anEvent({ userId: 'a' }),
      anEvent({ userId: 'b' }),
      aPurchase({ userId: 'b', amount: 3 }),
      anEvent({ userId: 'a' }),
    ]);
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
    });
    dynamo.failNext('PutCommand', throttled, (input) => (input.Item as { userId: string }).userId === 'b');
    const { response } = await run(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.kinesis.sequenceNumber }]);
    expect(current('b')).toBeUndefined();

    // Lambda re-delivers from the reported record: user a's last record comes again and is skipped.
    const retry = await run(records.slice(1));
    expect(retry.response.batchItemFailures).toEqual([]);
    expect(current('a')).toMatchObject({ session: { eventCount: 2 } });
    expect(current('b')).toMatchObject({ session: { eventCount: 2, spent: { USD: '3000000' } } });
  });

  it('re-reads and recomputes when another writer got there first', async () => {
    const { dynamo, run, current } = setup();
    const records = recordsFor([anEvent({ userId: 'a' }), anEvent({ userId: 'a' })]);
    await run(records.slice(0, 1));
    dynamo.failNext('PutCommand', new ConditionalCheckFailed());
    const { response, summary } = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.failedUsers).toBe(0);
    expect(current('a')).toMatchObject({ session: { eventCount: 2 } });
  });

  it('a stale eventually consistent read re-reads strongly and never overwrites newer state', async () => {
    const dynamo = new FakeDynamo({ [TABLE]: ['userId', 'sk'] });
    // A lagging replica: eventually consistent reads see `replica`, strong ones the table.
    let replica: Record<string, unknown>[] = [];
    const reads: string[] = [];
    const db = {
      send: async (command: { input: Record<string, unknown> }) => {
        if (command instanceof BatchGetCommand) {
          const strong = command.input.RequestItems?.[TABLE]?.ConsistentRead === true;
          reads.push(strong ? 'strong' : 'eventual');
          if (!strong) return { Responses: { [TABLE]: replica } };
        }
        return dynamo.send(command);
      },
    };
    const store = new SessionStore({
      db: db as never,
      tableName: TABLE,
      closedSessionTtlDays: 90,
      sleep: async () => {},
    });
    const run = (records: KinesisStreamRecord[]) =>
      updateSessions(aKinesisEvent(records), {
        store,
        sqs: new FakeSqs().asClient(),
        invalidRecordsQueueUrl: 'q',
        functionName: 'session-updater',
        rules,
        logger: silentLogger,
      });
    const records = recordsFor([1, 2, 3, 4].map((i) => anEvent({ userId: 'a', timestamp: T0 + i * 1000 })));
    await run(records.slice(0, 2));
    // The replica has not seen the item at all: the write of "new user" state is refused.
    expect((await run(records.slice(2, 3))).response.batchItemFailures).toEqual([]);
    expect(current()).toMatchObject({ version: 2, totals: { eventCount: 3 } });
    // The replica is one version behind.
    replica = [{ ...current(), version: 1, totals: { ...(current()?.totals as object), eventCount: 2 } }];
    expect((await run(records.slice(2, 4))).response.batchItemFailures).toEqual([]);
    expect(current()).toMatchObject({ version: 3, totals: { eventCount: 4 } });
    expect(reads).toEqual(['eventual', 'eventual', 'strong', 'eventual', 'strong']);
    // Five attempts: three landed, the two from stale state were refused by the version condition.
    expect(dynamo.count('PutCommand')).toBe(5);

    function current() {
      return dynamo.get(TABLE, { userId: 'a', sk: CURRENT_SK });
    }
  });

  it('reports the user as failed when conflicts persist', async () => {
    const { dynamo, run } = setup();
    const records = recordsFor([anEvent({ userId: 'a' })]);
    for (let i = 0; i < 3; i++) dynamo.failNext('PutCommand', new ConditionalCheckFailed());
    const { response } = await run(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.kinesis.sequenceNumber }]);
  });

  it('keeps the item bounded however many events one user sends', async () => {
    const { run, current } = setup();
    const events = Array.from({ length: 2_000 }, (_, i) =>
      aProductView(`p${i}`, { userId: 'a', timestamp: T0 + i * 1000 }),
    );
    await run(recordsFor(events));
    const item = current('a') as { recentProducts: string[]; recentEventHashes: Uint8Array };
    expect(item.recentProducts).toHaveLength(20);
    expect(item.recentEventHashes).toHaveLength(100 * EVENT_HASH_BYTES);
    expect(itemBytes(item)).toBeLessThan(2_000);
  });
});

describe('updateSessions: remaining time', () => {
  it('with a slow store, stops starting users near the deadline and reports the first unstarted one; the retry completes once', async () => {
    const { dynamo, run, current } = setup();
    // A fake clock that a slow DynamoDB moves on: every conditional write takes 3 s of a 60 s invocation.
    let elapsed = 0;
    const send = dynamo.send.bind(dynamo);
    dynamo.send = async (command) => {
      if (command.constructor.name === 'PutCommand') elapsed += 3_000;
      return send(command);
    };
    const deadline = { remainingMs: () => 60_000 - elapsed, marginMs: marginFor(60_000) };
    const users = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const records = recordsFor(users.map((userId, i) => aPurchase({ userId, amount: 1, timestamp: T0 + i })));

    const first = await run(records, deadline);
    const reported = first.response.batchItemFailures[0]?.itemIdentifier;
    const at = records.findIndex((r) => r.kinesis.sequenceNumber === reported);
    expect(at).toBeGreaterThan(0);
    expect(first.summary.deferredUsers).toBe(users.length - at);
    // Every user before the reported record is written; none after it was started.
    expect(users.map((u) => current(u) !== undefined)).toEqual(users.map((_, i) => i < at));

    // Lambda retries from the reported record, each time with a new invocation's time.
    let from = at;
    let invocations = 1;
    while (from < records.length) {
      elapsed = 0;
      invocations += 1;
      const retry = await run(records.slice(from), deadline);
      const next = retry.response.batchItemFailures[0]?.itemIdentifier;
      from =
        next === undefined ? records.length : records.findIndex((r) => r.kinesis.sequenceNumber === next);
      expect(invocations).toBeLessThan(5);
    }
    for (const u of users) expect(current(u)).toMatchObject({ totals: { eventCount: 1, purchases: 1 } });
  });

  it('starts nothing when the invocation begins with too little time, reporting the first valid record', async () => {
    const { dynamo, run } = setup();
    const records = recordsFor([anEvent({ userId: 'a' }), anEvent({ userId: 'b' })]);
    const { response, summary } = await run(records, { remainingMs: () => 4_000, marginMs: 5_000 });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]?.kinesis.sequenceNumber }] });
    expect(summary.deferredUsers).toBe(2);
    expect(dynamo.log.calls).toEqual([]);
  });

  it('drops the mixed-currency totalSpent of an item written before per-currency totals', async () => {
    const { dynamo, run, current } = setup();
    dynamo.put(TABLE, {
      userId: 'a',
      sk: CURRENT_SK,
      version: 1,
      recentEventIds: [],
      recentProducts: [],
      sessionCount: 1,
      totals: { eventCount: 1, pageViews: 0, productViews: 0, addToCarts: 0, purchases: 1, totalSpent: 12.5 },
      session: {
        sessionId: 'old',
        firstActivity: T0,
        lastActivity: T0,
        lateEvents: 0,
        eventCount: 1,
        pageViews: 0,
        productViews: 0,
        addToCarts: 0,
        purchases: 1,
        totalSpent: 12.5,
      },
    });
    await run(recordsFor([aPurchase({ userId: 'a', amount: 1.005, timestamp: T0 + MINUTE })]));
    const item = current('a');
    expect(item).toMatchObject({
      totals: { purchases: 2, spent: { USD: '1005000' } },
      session: { spent: { USD: '1005000' } },
    });
    expect(item?.totals).not.toHaveProperty('totalSpent');
  });
});
