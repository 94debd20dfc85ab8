import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_LEASE_MS,
  MARK_SENT_RESERVE_MS,
  PUBLISH_BUDGET_MS,
} from '../../../services/fraud-rules/alerts.js';
import { detectFraud } from '../../../services/fraud-rules/detector.js';
import { isRepublishRequest } from '../../../services/fraud-rules/outbox.js';
import { alertIdOf } from '../../../services/fraud-rules/rules.js';
import { snsClientConfig } from '../../../services/shared/clients.js';
import { marginFor } from '../../../services/shared/deadline.js';
import { eventIdHash } from '../../../services/shared/idempotency.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { awsError, type Call } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, anEvent, aPurchase, aRawRecord, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import {
  ALERTS_TABLE,
  harness,
  LEASE_MS,
  NOW,
  onlyRules,
  STATE_TABLE,
  TAKEOVER_MS,
  TOPIC_ARN,
} from './support.js';

/** The [userId, eventId] a test record carries. */
const userAndEvent = (r: { kinesis: { data: string } }): [string, string] => {
  const event = JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as {
    userId: string;
    eventId: string;
  };
  return [event.userId, event.eventId];
};

const rules = onlyRules({ largePurchase: { threshold: 1000 } });
const big = (userId: string, overrides: Parameters<typeof aPurchase>[0] = {}) =>
  aPurchase({ userId, amount: 5000, ...overrides });
const isPublish = (call: Call) => call.kind === 'Publish';
const isStatePut = (call: Call) => call.kind === 'Put' && call.table === STATE_TABLE;
const isAlertPut = (call: Call) => call.kind === 'Put' && call.table === ALERTS_TABLE;
const isMark = (call: Call) =>
  call.kind === 'Update' &&
  call.table === ALERTS_TABLE &&
  String(call.input.UpdateExpression).includes('#status = :sent');
const throttled = () => awsError('ThrottlingException', 'Rate exceeded');
const crashed = () => new Error('Task timed out');

describe('detectFraud: cheap skip', () => {
  it('touches neither DynamoDB nor SNS for a batch without purchases, and leaves invalid records alone', async () => {
    const h = harness(rules);
    const { response, summary } = await h.run([
      aRecord(anEvent({ userId: 'u1' })),
      aRecord(anEvent({ userId: 'u2', eventType: 'add_to_cart' })),
      aRawRecord('not json', { partitionKey: 'u3' }),
    ]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.log.calls).toEqual([]);
    expect(summary).toMatchObject({ records: 3, invalid: 1, skipped: 2, purchases: 0, users: 0 });
  });

  it('evaluates only the purchases of a mixed batch', async () => {
    const h = harness(rules);
    const { summary } = await h.run([
      aRecord(anEvent({ userId: 'u1' })),
      aRecord(big('u1')),
      aRecord(anEvent({ userId: 'u2' })),
    ]);
    expect(summary).toMatchObject({ skipped: 2, purchases: 1, users: 1, evaluated: 1, alertsPublished: 1 });
    expect(h.log.count('BatchGet')).toBe(1);
    expect(h.log.calls[0]?.input).toEqual({
      RequestItems: { [STATE_TABLE]: { Keys: [{ userId: 'u1' }], ConsistentRead: true } },
    });
  });
});

describe('detectFraud: alert lifecycle', () => {
  it('records PENDING, writes the state, then claims, publishes and marks SENT, in that order', async () => {
    const h = harness(rules);
    const p = big('u1');
    const record = aRecord(p);
    const { response } = await h.run([record]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.log.calls.map((c) => `${c.kind} ${c.table ?? ''}`.trim())).toEqual([
      `BatchGet ${STATE_TABLE}`,
      `Put ${ALERTS_TABLE}`,
      `Put ${STATE_TABLE}`,
      `Update ${ALERTS_TABLE}`,
      'Publish',
      `Update ${ALERTS_TABLE}`,
    ]);
    const alertId = `largePurchase#u1#${p.eventId}`;
    expect(h.log.calls[1]?.input).toMatchObject({
      Item: { alertId, status: 'PENDING', userId: 'u1', rule: 'largePurchase' },
      ConditionExpression: 'attribute_not_exists(alertId)',
    });
    expect(h.alertItem(alertId)).toMatchObject({
      alertId,
      status: 'SENT',
      messageId: 'msg-1',
      severity: 'high',
      eventId: p.eventId,
      amount: 5000,
      environment: 'test',
      createdAt: new Date(NOW).toISOString(),
      sentAt: new Date(NOW).toISOString(),
      expiresAt: Math.floor(NOW / 1000) + 30 * 86_400,
    });
    expect(h.sns.published).toHaveLength(1);
    expect(h.sns.published[0]).toMatchObject({ TopicArn: TOPIC_ARN });
    // String structure: SNS sends message attributes only then (not with 'json').
    expect(h.sns.published[0]?.MessageStructure).toBeUndefined();
    expect(h.sns.published[0]?.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      rule: { DataType: 'String', StringValue: 'largePurchase' },
      environment: { DataType: 'String', StringValue: 'test' },
      alertId: { DataType: 'String', StringValue: alertId },
    });
    expect(h.stateItem('u1')).toMatchObject({
      userId: 'u1',
      version: 1,
      watermarks: [['shardId-000000000000', record.kinesis.sequenceNumber]],
      recentEventHashes: new Uint8Array(eventIdHash(p.eventId)),
      lastAlertAt: { largePurchase: T0 },
      expiresAt: Math.floor(NOW / 1000) + 7 * 86_400,
    });
  });

  it('writes state without alerts when no rule matches, with the version condition on later writes', async () => {
    const h = harness(rules);
    await h.run([aRecord(aPurchase({ userId: 'u1', amount: 10 }))]);
    await h.run([aRecord(aPurchase({ userId: 'u1', amount: 10, timestamp: T0 + MINUTE }))]);
    expect(h.sns.published).toEqual([]);
    const puts = h.log.calls.filter(isStatePut);
    expect(puts.map((c) => c.input.ConditionExpression)).toEqual([
      'attribute_not_exists(userId)',
      'version = :expected',
    ]);
    expect(puts[1]?.input.ExpressionAttributeValues).toEqual({ ':expected': 1 });
    expect(h.stateItem('u1')?.version).toBe(2);
  });
});

describe('detectFraud: idempotency', () => {
  it('a re-delivered batch sends no second alert and does not write the state again', async () => {
    const h = harness(rules);
    const records = [aRecord(big('u1')), aRecord(big('u2'))];
    await h.run(records);
    const state = { u1: h.stateItem('u1'), u2: h.stateItem('u2') };
    const callsBefore = h.log.calls.length;

    const { response, summary } = await h.run(records);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sns.published).toHaveLength(2);
    expect(h.log.calls.slice(callsBefore).map((c) => c.kind)).toEqual(['BatchGet']);
    expect({ u1: h.stateItem('u1'), u2: h.stateItem('u2') }).toEqual(state);
    expect(summary).toMatchObject({ evaluated: 0, duplicates: 2, alertsPublished: 0 });
  });

  it('ignores a duplicate eventId put twice by a producer retry', async () => {
    const h = harness(rules);
    const p = big('u1');
    const { summary } = await h.run([aRecord(p), aRecord(p)]);
    expect(h.publishedIds()).toEqual([`largePurchase#u1#${p.eventId}`]);
    expect(summary).toMatchObject({ evaluated: 1, duplicates: 1, alertsPublished: 1 });
    // ...also when the copy arrives in a later batch.
    await h.run([aRecord(p)]);
    expect(h.sns.published).toHaveLength(1);
    expect(h.stateItem('u1')?.recentEventHashes).toEqual(new Uint8Array(eventIdHash(p.eventId)));
  });
});

describe('detectFraud: partial failure', () => {
  it('a publish failure fails nothing: every state is committed, the alert stays PENDING and the sweep delivers it once SNS is back', async () => {
    const h = harness(rules);
    const a1 = aRecord(big('a'));
    const b1 = aRecord(aPurchase({ userId: 'b', amount: 10 }));
    const c1 = aRecord(big('c'));
    const b2 = aRecord(big('b', { timestamp: T0 + MINUTE }));
    const a2 = aRecord(aPurchase({ userId: 'a', amount: 10, timestamp: T0 + MINUTE }));
    const batch = [a1, b1, c1, b2, a2];
    h.log.fail((c) => isPublish(c) && String(c.input.Subject).includes('user b'), throttled, { times: 1 });

    const first = await h.run(batch);
    expect(first.response).toEqual({ batchItemFailures: [] });
    expect(first.summary.failedUsers).toBe(0);
    expect(h.stateItem('a')?.watermarks).toEqual([['shardId-000000000000', a2.kinesis.sequenceNumber]]);
    expect(h.stateItem('b')?.watermarks).toEqual([['shardId-000000000000', b2.kinesis.sequenceNumber]]);
    expect(h.stateItem('c')?.version).toBe(1);
    const idOf = (r: typeof a1) => alertIdOf('largePurchase', ...userAndEvent(r));
    expect(h.alertItem(idOf(b2))).toMatchObject({ status: 'PENDING', outbox: 'PENDING' });
    expect(first.summary.alertsPublished + first.summary.alertsPending).toBe(3);

    // Lambda does not re-deliver (nothing failed); the sweep takes alerts older than the lease.
    expect((await h.sweep()).found).toBe(0);
    h.clock.now += LEASE_MS;
    const swept = await h.sweep();
    expect(swept).toMatchObject({ failed: 0, snsFailing: false });
    expect(h.publishedIds().sort()).toEqual([a1, c1, b2].map(idOf).sort());
    for (const r of [a1, c1, b2]) expect(h.alertItem(idOf(r))?.status).toBe('SENT');
    expect(h.alertItem(idOf(b2))?.outbox).toBeUndefined();
  });

  it('stops calling SNS for the rest of the batch after the first publish failure', async () => {
    const h = harness(rules);
    h.log.fail(isPublish, throttled, { times: 100 });
    const { response, summary } = await h.run([
      aRecord(big('u1')),
      aRecord(big('u1', { timestamp: T0 + MINUTE })),
      aRecord(big('u1', { timestamp: T0 + 2 * MINUTE })),
    ]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.log.count('Publish')).toBe(1);
    expect(summary).toMatchObject({ alertsPublished: 0, alertsPending: 3 });
    expect(h.stateItem('u1')?.recentPurchases).toHaveLength(3);
  });

  it('reports every user by their first purchase when the state cannot be read', async () => {
    const h = harness(rules);
    const r1 = aRecord(big('a'));
    const r2 = aRecord(big('b'));
    h.log.fail((c) => c.kind === 'BatchGet', throttled);
    const { response, summary } = await h.run([aRecord(anEvent({ userId: 'a' })), r1, r2]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: r1.kinesis.sequenceNumber }] });
    expect(summary.failedUsers).toBe(2);
    expect(h.sns.published).toEqual([]);
  });

  it('retries keys BatchGetItem leaves unprocessed', async () => {
    const h = harness(rules);
    h.db.batchGetLimit = 1;
    h.db.put(STATE_TABLE, {
      userId: 'b',
      version: 3,
      recentEventIds: [],
      recentPurchases: [],
      lastAlertAt: {},
    });
    await h.run([
      aRecord(aPurchase({ userId: 'a', amount: 1 })),
      aRecord(aPurchase({ userId: 'b', amount: 1 })),
    ]);
    expect(h.log.count('BatchGet')).toBe(2);
    expect(h.stateItem('b')?.version).toBe(4);
  });
});

describe('detectFraud: crash between steps', () => {
  it('after the alert is recorded but before the state write: the retry publishes it once', async () => {
    const h = harness(rules);
    const p = big('u1');
    const batch = [aRecord(p)];
    h.log.fail(isAlertPut, crashed, { when: 'after' });
    const first = await h.run(batch);
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect(h.alertItem(`largePurchase#u1#${p.eventId}`)?.status).toBe('PENDING');
    expect(h.stateItem('u1')).toBeUndefined();
    expect(h.sns.published).toEqual([]);

    const retry = await h.run(batch);
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(h.publishedIds()).toEqual([`largePurchase#u1#${p.eventId}`]);
    expect(h.alertItem(`largePurchase#u1#${p.eventId}`)?.status).toBe('SENT');
    expect(retry.summary.alertsPublished).toBe(1);
  });

  it('a failed state write publishes nothing; the retry writes the state and publishes once', async () => {
    const h = harness(rules);
    const p = big('u1');
    const batch = [aRecord(p)];
    h.log.fail(isStatePut, throttled);
    const first = await h.run(batch);
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect(h.stateItem('u1')).toBeUndefined();
    expect(h.sns.published).toEqual([]);

    const retry = await h.run(batch);
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(h.publishedIds()).toEqual([`largePurchase#u1#${p.eventId}`]);
    expect(retry.summary).toMatchObject({ alertsPublished: 1, alertsAlreadySent: 0 });
    expect(h.stateItem('u1')?.version).toBe(1);
  });

  it('after publish but before the mark: the sweep publishes again one lease after it saw the claim, exactly once more (the documented duplicate)', async () => {
    const h = harness(rules);
    const p = big('u1');
    const batch = [aRecord(p)];
    h.log.fail(isMark, crashed);
    const { response } = await h.run(batch);
    expect(response).toEqual({ batchItemFailures: [] });
    await h.run(batch); // a re-delivery changes nothing
    expect(await h.sweep()).toMatchObject({ found: 0 });
    h.clock.now += TAKEOVER_MS;
    expect(await h.sweep()).toMatchObject({ found: 1, skipped: 1 }); // sees the dead holder's claim
    expect(h.publishedIds()).toHaveLength(1);
    h.clock.now += TAKEOVER_MS;
    await h.sweep();
    await h.sweep();
    expect(h.publishedIds()).toEqual([`largePurchase#u1#${p.eventId}`, `largePurchase#u1#${p.eventId}`]);
    expect(h.alertItem(`largePurchase#u1#${p.eventId}`)?.status).toBe('SENT');
  });

  it('an SDK retry of a state write that landed (condition now false) re-reads, finds its own write and still publishes once', async () => {
    const h = harness(rules);
    const p = big('u1');
    h.log.fail(isStatePut, () => awsError('ConditionalCheckFailedException'), { when: 'after' });
    const { response, summary } = await h.run([aRecord(p)]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.publishedIds()).toEqual([`largePurchase#u1#${p.eventId}`]);
    expect(summary).toMatchObject({ alertsPublished: 1, duplicates: 1 });
    expect(h.stateItem('u1')?.version).toBe(1);
  });

  it('a lost optimistic-lock race re-reads the state and publishes once', async () => {
    const h = harness(rules);
    const p = big('u1');
    h.log.fail(isStatePut, () => awsError('ConditionalCheckFailedException'));
    const { response, summary } = await h.run([aRecord(p)]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sns.published).toHaveLength(1);
    expect(summary).toMatchObject({ alertsPublished: 1, evaluated: 1 });
    expect(h.log.count('BatchGet')).toBe(2);
    expect(h.stateItem('u1')?.version).toBe(1);
  });

  it('gives up after repeated lost races and reports the user; its alert waits PENDING', async () => {
    const h = harness(rules);
    const p = big('u1');
    const r = aRecord(p);
    h.log.fail(isStatePut, () => awsError('ConditionalCheckFailedException'), { times: 3 });
    const { response } = await h.run([r]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: r.kinesis.sequenceNumber }] });
    expect(h.sns.published).toHaveLength(0);
    expect(h.alertItem(`largePurchase#u1#${p.eventId}`)?.status).toBe('PENDING');
  });
});

describe('outbox: claims and the sweep', () => {
  it('a claim is exclusive while its lease runs, safe to repeat by its holder, and re-claimable once stale', async () => {
    const h = harness(rules);
    h.log.fail(isPublish, throttled, { times: 100 });
    const p = big('u1');
    await h.run([aRecord(p)]);
    const id = `largePurchase#u1#${p.eventId}`;
    expect(await h.alerts.claim(id, 'sweeper-1')).toBe(true);
    expect(await h.alerts.claim(id, 'sweeper-1')).toBe(true); // an SDK retry of a claim that landed
    expect(await h.alerts.claim(id, 'sweeper-2')).toBe(false); // seen: sweeper-1 holds it
    h.clock.now += TAKEOVER_MS - 1;
    expect(await h.alerts.claim(id, 'sweeper-2')).toBe(false);
    h.clock.now += 1;
    expect(await h.alerts.claim(id, 'sweeper-2')).toBe(true);
    await h.alerts.markSent(id, 'sweeper-2', 'm');
    expect(await h.alerts.claim(id, 'sweeper-3')).toBe(false);
  });

  it('two sweeps at once publish each pending alert once', async () => {
    const h = harness(rules);
    h.log.fail(isPublish, throttled, { times: 100 });
    await h.run([aRecord(big('u1')), aRecord(big('u2')), aRecord(big('u3'))]);
    h.log.clearFaults();
    h.clock.now += LEASE_MS;
    const [x, y] = await Promise.all([h.sweep(), h.sweep()]);
    expect((x?.published ?? 0) + (y?.published ?? 0)).toBe(3);
    expect(new Set(h.publishedIds()).size).toBe(3);
    expect(h.publishedIds()).toHaveLength(3);
  });

  it('stops at the first publish failure and leaves the rest for the next run', async () => {
    const h = harness(rules);
    h.log.fail(isPublish, throttled, { times: 100 });
    await h.run([aRecord(big('u1')), aRecord(big('u2'))]);
    h.log.clearFaults();
    h.log.fail(isPublish, throttled);
    h.clock.now += LEASE_MS;
    expect(await h.sweep()).toMatchObject({ found: 1, failed: 1, snsFailing: true });
    expect(await h.sweep()).toMatchObject({ found: 2, published: 2, snsFailing: false });
  });

  it('recognises only the scheduled input declared in function.json', () => {
    const path = join(__dirname, '../../../services/fraud-rules/function.json');
    const { schedule } = JSON.parse(readFileSync(path, 'utf8')) as { schedule: { input: unknown } };
    expect(isRepublishRequest(schedule.input)).toBe(true);
    expect(isRepublishRequest({ Records: [] })).toBe(false);
    expect(isRepublishRequest(null)).toBe(false);
  });
});

describe('state written before exact money', () => {
  it('keeps old purchases for velocity but in no currency’s spend', async () => {
    const h = harness(onlyRules({ purchaseVelocity: { count: 2 }, spendVelocity: { amount: 1000 } }));
    h.db.put(STATE_TABLE, {
      userId: 'u1',
      version: 1,
      recentEventIds: ['old'],
      recentPurchases: [{ eventId: 'old', timestamp: T0, amount: 900 }],
      lastAlertAt: {},
    });
    const p = aPurchase({ userId: 'u1', amount: 200, timestamp: T0 + MINUTE });
    await h.run([aRecord(p)]);
    expect(h.publishedIds()).toEqual([`purchaseVelocity#${p.userId}#${p.eventId}`]);
    expect(h.stateItem('u1')?.recentPurchases).toEqual([
      { eventId: 'old', timestamp: T0, amountMicros: 0, currency: '' },
      { eventId: p.eventId, timestamp: T0 + MINUTE, amountMicros: 200_000_000, currency: 'USD' },
    ]);
  });
});

describe('the claim lease', () => {
  it('leaves room, after the claim, for one Publish with every attempt of the SNS client and the SENT mark', () => {
    const path = join(__dirname, '../../../services/fraud-rules/function.json');
    const fn = JSON.parse(readFileSync(path, 'utf8')) as { environment: Record<string, string> };
    const leaseMs = Number(fn.environment.ALERT_LEASE_SECONDS) * 1000;
    expect(leaseMs).toBe(DEFAULT_LEASE_MS);
    // 3 attempts of at most 2 s connect + 5 s request each, plus the SDK's back-off between them.
    expect(snsClientConfig).toMatchObject({
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    });
    expect(PUBLISH_BUDGET_MS).toBe(3 * 7_000 + 200 + 400);
    expect(leaseMs).toBeGreaterThan(PUBLISH_BUDGET_MS + MARK_SENT_RESERVE_MS);
  });
});

describe('detectFraud: remaining time', () => {
  it('with a slow store, stops starting users near the deadline and reports the first unstarted one; the retry completes once', async () => {
    const h = harness(rules);
    // A fake clock a slow DynamoDB moves on: each rule-state write takes 5 s of a 60 s invocation.
    const deadline = {
      remainingMs: () => 60_000 - 5_000 * h.log.calls.filter(isStatePut).length,
      marginMs: marginFor(60_000),
    };
    const users = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const records = users.map((u, i) => aRecord(big(u, { timestamp: T0 + i })));
    const run = (batch: typeof records) =>
      detectFraud(aKinesisEvent(batch), {
        store: h.store,
        alerts: h.alerts,
        rules,
        logger: silentLogger,
        deadline,
      });

    const first = await run(records);
    const reported = first.response.batchItemFailures[0]?.itemIdentifier;
    const at = records.findIndex((r) => r.kinesis.sequenceNumber === reported);
    expect(at).toBeGreaterThan(0);
    expect(users.map((u) => h.stateItem(u) !== undefined)).toEqual(users.map((_, i) => i < at));

    h.log.calls.length = 0; // a new invocation, a new clock
    const retry = await run(records.slice(at));
    expect(retry.response).toEqual({ batchItemFailures: [] });
    expect(h.publishedIds().sort()).toEqual(
      records.map((r) => alertIdOf('largePurchase', ...userAndEvent(r))).sort(),
    );
  });
});
