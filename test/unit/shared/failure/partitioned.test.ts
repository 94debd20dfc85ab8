/**
 * The failure layer's policy, branch by branch: what waits (and is reported as the earliest batch
 * item failure), what is counted, what is set aside, what is held for the re-drive, and the
 * hand-over back to the live function.
 */
import { DeterministicError, TransientError } from '../../../../services/shared/failure/classify.js';
import {
  FailureLedger,
  type LedgerEntry,
  ledgerPk,
  segmentKey,
  userKey,
} from '../../../../services/shared/failure/ledger.js';
import {
  batchRange,
  DEFAULT_PARK_AFTER,
  type Partition,
  type PartitionedOptions,
  processPartitioned,
} from '../../../../services/shared/failure/partitioned.js';
import type { Logger } from '../../../../services/shared/logger.js';
import { awsError, ConditionalCheckFailed, FakeDynamo } from '../../../helpers/fake-dynamo.js';

const TABLE = 'ledger';
const FN = 'session-updater';
const SHARD = 'shardId-000000000001';
const PARENT = 'shardId-000000000000';
const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/pulse-test-events';
const NOW = Date.parse('2026-12-02T10:00:00Z');
const seq = (n: number) => String(1000 + n);

interface Rec {
  sequenceNumber: string;
  user: string;
}
const r = (n: number, user: string): Rec => ({ sequenceNumber: seq(n), user });

function logs() {
  const lines: Array<{ level: string; message: string; context?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) =>
    lines.push({ level, message, context });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function setup(parkAfter?: number) {
  const db = new FakeDynamo({ [TABLE]: ['pk', 'sk'] });
  const ledger = new FailureLedger({
    db: db.asClient(),
    tableName: TABLE,
    functionName: FN,
    now: () => NOW,
    ...(parkAfter ? { parkAfter } : {}),
  });
  return { db, ledger, ...logs() };
}

const batchOf = (records: Rec[], shardId = SHARD) => ({
  shardId,
  streamArn: ARN,
  first: records[0]!.sequenceNumber,
  last: records[records.length - 1]!.sequenceNumber,
});

function run(
  s: ReturnType<typeof setup>,
  records: Rec[],
  apply: (p: Partition<Rec>) => Promise<void>,
  extra: Partial<PartitionedOptions<Rec>> = {},
) {
  return processPartitioned<Rec>({
    ledger: s.ledger,
    batch: batchOf(records),
    records,
    keyOf: (x) => userKey(x.user),
    apply,
    logger: s.logger,
    ...extra,
  });
}

const entry = (s: ReturnType<typeof setup>, user: string, shardId = SHARD) =>
  s.db.item(TABLE, { pk: ledgerPk(FN, shardId), sk: userKey(user) }) as LedgerEntry | undefined;

function put(
  s: ReturnType<typeof setup>,
  e: Partial<LedgerEntry> & { sk: string; first: string; last: string },
) {
  const shardId = e.shardId ?? SHARD;
  s.db.put(TABLE, {
    pk: ledgerPk(FN, shardId),
    fn: FN,
    shardId,
    streamArn: ARN,
    status: 'parked',
    attempts: 3,
    since: '2026-12-01T00:00:00.000Z',
    parkedAt: '2026-12-01T00:00:00.000Z',
    ...e,
  });
}

const failsFor =
  (users: Record<string, () => Error>, applied: string[] = []) =>
  async (p: Partition<Rec>) => {
    const user = p.records[0]!.user;
    const err = users[user];
    if (err) throw err();
    applied.push(...p.records.map((x) => x.sequenceNumber));
  };

const throttled = () => awsError('ProvisionedThroughputExceededException');
const bug = () => new Error('bug');

test('an empty batch does nothing and reads no ledger', async () => {
  const s = setup();
  const out = await processPartitioned<Rec>({
    ledger: s.ledger,
    batch: batchOf([r(1, 'a')]),
    records: [],
    keyOf: (x) => userKey(x.user),
    apply: async () => {
      throw new Error('not called');
    },
    logger: s.logger,
  });
  expect(out.response.batchItemFailures).toEqual([]);
  expect(out.outcome).toEqual({ partitions: 0, applied: 0, held: 0, setAside: 0, waiting: 0, deferred: 0 });
  expect(s.db.log.calls).toEqual([]);
});

test('a clean batch applies every key once, in order per key, after one consistent ledger read', async () => {
  const s = setup();
  const applied: string[][] = [];
  const out = await run(s, [r(1, 'a'), r(2, 'b'), r(3, 'a')], async (p) => {
    applied.push(p.records.map((x) => x.sequenceNumber));
  });
  expect(out.response.batchItemFailures).toEqual([]);
  expect(applied).toEqual([[seq(1), seq(3)], [seq(2)]]);
  expect(out.outcome).toMatchObject({ partitions: 2, applied: 2, waiting: 0, held: 0 });
  const queries = s.db.log.calls.filter((c) => c.kind === 'Query');
  expect(queries).toHaveLength(1);
  expect(queries[0]!.input).toMatchObject({
    ConsistentRead: true,
    ExpressionAttributeValues: { ':pk': ledgerPk(FN, SHARD) },
  });
  expect(s.db.items(TABLE)).toEqual([]);
});

test('a transient failure makes the shard wait at the earliest failed key and writes nothing', async () => {
  const s = setup();
  const applied: string[] = [];
  const out = await run(
    s,
    [r(1, 'a'), r(2, 'b'), r(3, 'c'), r(4, 'b')],
    failsFor({ b: throttled, c: () => new TransientError('x') }, applied),
  );
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
  expect(applied).toEqual([seq(1)]);
  expect(out.outcome).toMatchObject({ applied: 1, waiting: 2, setAside: 0 });
  expect(s.db.count('Put')).toBe(0);
  expect(s.db.items(TABLE)).toEqual([]);
});

test.each([
  ['network error', () => Object.assign(new Error('reset'), { code: 'ECONNRESET' })],
  ['5xx', () => Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } })],
  ['a lost race', () => awsError('ConcurrentUpdateError')],
  ['DynamoDB gone', () => awsError('ResourceNotFoundException')],
])('%s never counts, however often it happens', async (_name, error) => {
  const s = setup();
  for (let i = 0; i < DEFAULT_PARK_AFTER + 2; i++) {
    const out = await run(s, [r(1, 'a')], failsFor({ a: error }));
    expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  }
  expect(s.db.items(TABLE)).toEqual([]);
});

test('an unknown failure is counted durably; the same record failing parkAfter times sets the user aside', async () => {
  const s = setup();
  const records = [r(1, 'a'), r(2, 'b'), r(3, 'a')];
  for (let attempt = 1; attempt < DEFAULT_PARK_AFTER; attempt++) {
    const out = await run(s, records, failsFor({ a: bug }));
    expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
    expect(out.outcome.setAside).toBe(0);
    expect(entry(s, 'a')).toEqual({
      pk: ledgerPk(FN, SHARD),
      sk: userKey('a'),
      fn: FN,
      shardId: SHARD,
      streamArn: ARN,
      first: seq(1),
      last: seq(3),
      status: 'failing',
      attempts: attempt,
      error: 'Error: bug',
      since: new Date(NOW).toISOString(),
    });
  }
  const out = await run(s, records, failsFor({ a: bug }));
  expect(out.response.batchItemFailures).toEqual([]);
  expect(out.outcome).toMatchObject({ setAside: 1, waiting: 0, applied: 1 });
  expect(entry(s, 'a')).toMatchObject({
    status: 'parked',
    attempts: DEFAULT_PARK_AFTER,
    first: seq(1),
    last: seq(3),
    parkedAt: new Date(NOW).toISOString(),
    nextAttemptAt: NOW,
  });
  expect(s.lines.some((l) => l.level === 'error' && l.message === 'key set aside for the re-drive')).toBe(
    true,
  );
});

test("parkAfter comes from the ledger's options, and an explicit option wins", async () => {
  const s = setup(1);
  expect((await run(s, [r(1, 'a')], failsFor({ a: bug }))).outcome.setAside).toBe(1);
  const t = setup(1);
  const out = await run(t, [r(1, 'a')], failsFor({ a: bug }), { parkAfter: 2 });
  expect(out.outcome.setAside).toBe(0);
  expect(entry(t, 'a')?.status).toBe('failing');
});

test.each([
  ['DeterministicError', () => new DeterministicError('never')],
  ['ValidationException', () => awsError('ValidationException', 'Item size has exceeded the maximum')],
])('a %s sets the user aside at once', async (_name, error) => {
  const s = setup();
  const out = await run(s, [r(1, 'a'), r(2, 'b')], failsFor({ a: error }));
  expect(out.response.batchItemFailures).toEqual([]);
  expect(entry(s, 'a')).toMatchObject({ status: 'parked', attempts: 1, first: seq(1), last: seq(1) });
});

test('a failure that cannot be recorded makes the shard wait', async () => {
  const s = setup();
  s.db.failNext('PutCommand', throttled());
  const out = await run(s, [r(1, 'a')], failsFor({ a: () => new DeterministicError('never') }));
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  expect(s.db.items(TABLE)).toEqual([]);
  expect(s.lines.some((l) => l.message.startsWith('failure could not be recorded'))).toBe(true);
});

test('the failure record is conditional: new entries must not exist, existing ones must be as read', async () => {
  const s = setup();
  await run(s, [r(1, 'a')], failsFor({ a: bug }));
  await run(s, [r(1, 'a')], failsFor({ a: bug }));
  const puts = s.db.log.calls.filter((c) => c.kind === 'Put').map((c) => c.input);
  expect(puts[0]).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)' });
  expect(puts[1]).toMatchObject({
    ConditionExpression: '#last = :last',
    ExpressionAttributeValues: { ':last': seq(1) },
  });
  // Someone changed the entry in between: not overwritten, the shard waits.
  s.db.failNext('PutCommand', new ConditionalCheckFailed());
  const out = await run(s, [r(1, 'a')], failsFor({ a: bug }));
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  expect(entry(s, 'a')?.attempts).toBe(2);
});

test('an entry keeps its earliest first and latest last; the count restarts on an earlier record', async () => {
  const s = setup(5);
  put(s, { sk: userKey('a'), first: seq(2), last: seq(9), status: 'failing', attempts: 2 });
  await run(s, [r(2, 'a'), r(4, 'a')], failsFor({ a: bug }));
  expect(entry(s, 'a')).toMatchObject({ first: seq(2), last: seq(9), attempts: 3 });
  await run(s, [r(2, 'a'), r(12, 'a')], failsFor({ a: bug }));
  expect(entry(s, 'a')).toMatchObject({ first: seq(2), last: seq(12), attempts: 4 });
  await run(s, [r(1, 'a'), r(3, 'a')], failsFor({ a: bug }));
  expect(entry(s, 'a')).toMatchObject({ first: seq(1), last: seq(12), attempts: 1 });
  expect(entry(s, 'a')?.since).toBe('2026-12-01T00:00:00.000Z');
});

test('a failed ledger read makes the shard wait at the batch start; nothing is applied', async () => {
  const s = setup();
  s.db.failNext('QueryCommand', throttled());
  const apply = jest.fn();
  const out = await run(s, [r(5, 'a'), r(6, 'b')], apply);
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(5) }]);
  expect(out.outcome.waiting).toBe(1);
  expect(apply).not.toHaveBeenCalled();
});

test("a parked user's later records are held: added to the entry, not applied; the others go on", async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(3) });
  const applied: string[] = [];
  const out = await run(s, [r(4, 'a'), r(5, 'b'), r(6, 'a')], failsFor({}, applied));
  expect(out.response.batchItemFailures).toEqual([]);
  expect(applied).toEqual([seq(5)]);
  expect(out.outcome).toMatchObject({ held: 1, applied: 1 });
  expect(entry(s, 'a')).toMatchObject({ first: seq(1), last: seq(6), status: 'parked' });
  const update = s.db.log.calls.find((c) => c.kind === 'Update')!.input;
  expect(update).toMatchObject({
    ConditionExpression: '#last = :read',
    ExpressionAttributeValues: { ':read': seq(3) },
  });
});

test('a re-delivery of held records writes nothing (the last guard)', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(6) });
  for (const records of [[r(4, 'a'), r(6, 'a')], [r(5, 'a')]]) {
    const out = await run(s, records, failsFor({}));
    expect(out.response.batchItemFailures).toEqual([]);
  }
  expect(s.db.count('Update')).toBe(0);
  expect(entry(s, 'a')?.last).toBe(seq(6));
});

test('a held user whose entry cannot be extended makes the shard wait at their first record', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(3) });
  s.db.failNext('UpdateCommand', new ConditionalCheckFailed());
  const out = await run(s, [r(4, 'b'), r(5, 'a')], failsFor({}));
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(5) }]);
  expect(entry(s, 'a')?.last).toBe(seq(3));
});

test('hand-over: once the re-drive caught up, the live function applies the user and removes the entry', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(3), appliedThrough: seq(3) });
  const applied: string[] = [];
  const out = await run(s, [r(2, 'a'), r(4, 'a')], failsFor({}, applied));
  expect(out.response.batchItemFailures).toEqual([]);
  expect(applied).toEqual([seq(2), seq(4)]);
  expect(entry(s, 'a')).toBeUndefined();
  const del = s.db.log.calls.find((c) => c.kind === 'Delete')!.input;
  expect(del).toMatchObject({
    ConditionExpression: '#first = :first AND #last = :last',
    ExpressionAttributeValues: { ':first': seq(1), ':last': seq(3) },
  });
});

test('hand-over that fails keeps the user set aside from where the re-drive stopped', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(3), appliedThrough: seq(3) });
  const out = await run(s, [r(4, 'a'), r(5, 'a')], failsFor({ a: bug }));
  expect(out.response.batchItemFailures).toEqual([]);
  expect(entry(s, 'a')).toMatchObject({
    status: 'parked',
    first: seq(1),
    last: seq(5),
    appliedThrough: seq(3),
  });
});

test.each([
  ['the entry changed', () => new ConditionalCheckFailed()],
  ['DynamoDB failed', () => throttled()],
])('an entry not removed after success (%s) makes the shard wait', async (_name, error) => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(1), status: 'failing', attempts: 1 });
  s.db.failNext('DeleteCommand', error());
  const out = await run(s, [r(1, 'a'), r(2, 'b')], failsFor({}));
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  expect(entry(s, 'a')).toBeDefined();
  // The retry finds the records applied and removes it.
  const again = await run(s, [r(1, 'a'), r(2, 'b')], failsFor({}));
  expect(again.response.batchItemFailures).toEqual([]);
  expect(entry(s, 'a')).toBeUndefined();
});

test('a failing entry is removed when its user succeeds', async () => {
  const s = setup();
  await run(s, [r(1, 'a')], failsFor({ a: bug }));
  expect(entry(s, 'a')?.status).toBe('failing');
  await run(s, [r(1, 'a')], failsFor({}));
  expect(entry(s, 'a')).toBeUndefined();
});

test('a failing entry that Lambda moved past (retries ran out) sets its user aside: defect 1/3 never silent', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(2), status: 'failing', attempts: 1 });
  const apply = jest.fn(failsFor({}));
  const out = await run(s, [r(5, 'a'), r(6, 'b')], apply);
  expect(out.response.batchItemFailures).toEqual([]);
  expect(apply).toHaveBeenCalledTimes(1);
  expect(entry(s, 'a')).toMatchObject({ status: 'parked', first: seq(1), last: seq(5) });
});

test('a failing entry at the batch start is retried, not moved past', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(5), last: seq(5), status: 'failing', attempts: 1 });
  const applied: string[] = [];
  await run(s, [r(5, 'a')], failsFor({}, applied));
  expect(applied).toEqual([seq(5)]);
  expect(entry(s, 'a')).toBeUndefined();
});

test("after a reshard, a user parked on the parent shard is held on the child, behind the parent's entry", async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(3), shardId: PARENT });
  const applied: string[] = [];
  const ancestors = jest.fn(async () => [PARENT]);
  const out = await run(s, [r(10, 'a'), r(11, 'b'), r(12, 'a')], failsFor({}, applied), { ancestors });
  expect(out.response.batchItemFailures).toEqual([]);
  expect(ancestors).toHaveBeenCalledWith(ARN, SHARD);
  expect(applied).toEqual([seq(11)]);
  expect(entry(s, 'a')).toMatchObject({ status: 'parked', first: seq(10), last: seq(12), after: [PARENT] });
  // Later records on the child extend that entry.
  await run(s, [r(13, 'a')], failsFor({}, applied), { ancestors });
  expect(entry(s, 'a')).toMatchObject({ first: seq(10), last: seq(13), after: [PARENT] });
  expect(applied).toEqual([seq(11)]);
});

test('an ancestor shard found without entries is not queried again (it is finished: it stays empty)', async () => {
  const s = setup();
  const other = 'shardId-000000000099';
  const ancestors = async () => [other];
  await run(s, [r(1, 'a')], failsFor({}), { ancestors });
  await run(s, [r(2, 'a')], failsFor({}), { ancestors });
  const queried = s.db.log.calls
    .filter((c) => c.kind === 'Query')
    .map((c) => c.input.ExpressionAttributeValues);
  expect(queried).toEqual([
    { ':pk': ledgerPk(FN, SHARD) },
    { ':pk': ledgerPk(FN, other) },
    { ':pk': ledgerPk(FN, SHARD) },
  ]);
  // One with entries is asked every batch, until it is empty.
  const parent = 'shardId-000000000098';
  put(s, { sk: userKey('z'), first: seq(1), last: seq(1), shardId: parent });
  await run(s, [r(3, 'b')], failsFor({}), { ancestors: async () => [parent] });
  await run(s, [r(4, 'b')], failsFor({}), { ancestors: async () => [parent] });
  expect(
    s.db.log.calls.filter((c) => c.kind === 'Query' && JSON.stringify(c.input).includes(parent)),
  ).toHaveLength(2);
});

test('a failed ancestor lookup makes the shard wait', async () => {
  const s = setup();
  const out = await run(s, [r(1, 'a')], failsFor({}), {
    ancestors: async () => {
      throw throttled();
    },
  });
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
});

test('too little time to start: every key waits, nothing is prepared or applied (defect 1: no silent deferral)', async () => {
  const s = setup();
  const prepare = jest.fn(async () => undefined);
  const apply = jest.fn(async () => undefined);
  const out = await run(s, [r(3, 'a'), r(4, 'b')], apply, {
    prepare,
    deadline: { remainingMs: () => 1_000, marginMs: 5_000 },
  });
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
  expect(out.outcome).toMatchObject({ deferred: 2, waiting: 2 });
  expect(prepare).not.toHaveBeenCalled();
  expect(apply).not.toHaveBeenCalled();
  expect(s.db.items(TABLE)).toEqual([]);
});

test('time running out mid-batch: keys not started wait; the margin is a strict boundary', async () => {
  const s = setup();
  let remaining = 5_000; // exactly the margin: still enough
  const applied: string[] = [];
  const out = await run(
    s,
    [r(1, 'a'), r(2, 'b'), r(3, 'c')],
    async (p) => {
      applied.push(p.key);
      remaining = 4_999;
    },
    { deadline: { remainingMs: () => remaining, marginMs: 5_000 }, concurrency: 1 },
  );
  expect(applied).toEqual([userKey('a')]);
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
  expect(out.outcome.deferred).toBe(1);
});

test('a failed batch read (prepare) makes every applicable key wait; held keys are still held', async () => {
  const s = setup();
  put(s, { sk: userKey('a'), first: seq(1), last: seq(1) });
  const apply = jest.fn();
  const out = await run(s, [r(2, 'a'), r(3, 'b'), r(4, 'c')], apply, {
    prepare: async (ps) => {
      expect(ps.map((p) => p.key)).toEqual([userKey('b'), userKey('c')]);
      throw throttled();
    },
  });
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
  expect(out.outcome).toMatchObject({ waiting: 2, held: 1 });
  expect(apply).not.toHaveBeenCalled();
  expect(entry(s, 'a')?.last).toBe(seq(2));
});

test('in order (concurrency 1): a waiting partition stops the rest; a set-aside one does not', async () => {
  const s = setup();
  const seen: string[] = [];
  const onSetAside = jest.fn(async () => undefined);
  const out = await run(
    s,
    [r(1, 'a'), r(2, 'b'), r(3, 'c'), r(4, 'd')],
    async (p) => {
      seen.push(p.records[0]!.user);
      if (p.records[0]!.user === 'a') throw new DeterministicError('never');
      if (p.records[0]!.user === 'c') throw throttled();
    },
    { concurrency: 1, onSetAside },
  );
  expect(seen).toEqual(['a', 'b', 'c']);
  expect(onSetAside).toHaveBeenCalledWith(expect.objectContaining({ key: userKey('a') }));
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
  expect(out.outcome).toMatchObject({ setAside: 1, applied: 1, waiting: 1 });
});

test('a failing follow-up after a set-aside is logged, not reported: the entry is durable', async () => {
  const s = setup();
  const out = await run(s, [r(1, 'a')], failsFor({ a: () => new DeterministicError('never') }), {
    onSetAside: async () => {
      throw throttled();
    },
  });
  expect(out.response.batchItemFailures).toEqual([]);
  expect(s.lines.some((l) => l.message === 'set-aside follow-up failed')).toBe(true);
});

test('without a ledger every failure makes the shard wait and nothing is written', async () => {
  const s = setup();
  const out = await processPartitioned<Rec>({
    batch: batchOf([r(1, 'a')]),
    records: [r(1, 'a'), r(2, 'b')],
    keyOf: (x) => userKey(x.user),
    apply: failsFor({ a: () => new DeterministicError('never'), b: bug }),
    logger: s.logger,
  });
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  expect(out.outcome.waiting).toBe(2);
  expect(s.db.log.calls).toEqual([]);
});

describe('range partitions (metrics segments)', () => {
  const segments = (size: number) => (records: readonly Rec[]) => {
    const out: Partition<Rec>[] = [];
    for (let i = 0; i < records.length; i += size) {
      const part = records.slice(i, i + size);
      out.push({ key: segmentKey(part[0]!.sequenceNumber), records: part });
    }
    return out;
  };
  const recs = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => r(from + i, `u${from + i}`));

  test('records inside a parked range are the entry’s: never partitioned again', async () => {
    const s = setup();
    put(s, { sk: segmentKey(seq(2)), first: seq(2), last: seq(3) });
    put(s, { sk: segmentKey(seq(9)), first: seq(9), last: seq(9), status: 'failing' });
    const seen: string[][] = [];
    const out = await run(
      s,
      recs(1, 6),
      async (p) => {
        seen.push(p.records.map((x) => x.sequenceNumber));
      },
      { keyOf: undefined, partition: segments(2), concurrency: 1 },
    );
    expect(seen).toEqual([
      [seq(1), seq(4)],
      [seq(5), seq(6)],
    ]);
    expect(out.outcome.held).toBe(1);
    // A failing segment entry holds nothing, and user entries never hold by range.
    const t = setup();
    put(t, { sk: segmentKey(seq(1)), first: seq(1), last: seq(6), status: 'failing', attempts: 1 });
    put(t, { sk: userKey('x'), first: seq(1), last: seq(6) });
    const all: string[] = [];
    await run(
      t,
      recs(1, 2),
      async (p) => {
        all.push(...p.records.map((x) => x.sequenceNumber));
      },
      { keyOf: undefined, partition: segments(2), concurrency: 1 },
    );
    expect(all).toEqual([seq(1), seq(2)]);
    expect(out.response.batchItemFailures).toEqual([]);
  });

  test('a deterministic segment failure sets the segment aside and the shard goes on', async () => {
    const s = setup();
    const out = await run(
      s,
      recs(1, 4),
      async (p) => {
        if (p.key === segmentKey(seq(1))) throw awsError('InvalidParameterValue');
      },
      { keyOf: undefined, partition: segments(2), concurrency: 1 },
    );
    expect(out.response.batchItemFailures).toEqual([]);
    expect(s.db.item(TABLE, { pk: ledgerPk(FN, SHARD), sk: segmentKey(seq(1)) })).toMatchObject({
      status: 'parked',
      first: seq(1),
      last: seq(2),
    });
  });

  test('a failing segment entry the batch re-applied is removed; not when the shard still waits', async () => {
    const s = setup();
    put(s, { sk: segmentKey(seq(2)), first: seq(2), last: seq(3), status: 'failing', attempts: 1 });
    put(s, { sk: segmentKey(seq(9)), first: seq(9), last: seq(9), status: 'failing', attempts: 1 });
    const waiting = await run(
      s,
      recs(1, 4),
      async (p) => {
        if (p.key === segmentKey(seq(3))) throw throttled();
      },
      { keyOf: undefined, partition: segments(2), concurrency: 1 },
    );
    expect(waiting.response.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
    expect(s.db.items(TABLE)).toHaveLength(2);
    await run(s, recs(1, 4), async () => undefined, {
      keyOf: undefined,
      partition: segments(2),
      concurrency: 1,
    });
    // seq(2) lies in the batch 1..4 and is resolved; seq(9) is outside it and stays.
    expect(s.db.items(TABLE).map((e) => e.sk)).toEqual([segmentKey(seq(9))]);
  });

  test('a failed cleanup of a resolved segment entry makes the shard wait', async () => {
    const s = setup();
    put(s, { sk: segmentKey(seq(2)), first: seq(2), last: seq(3), status: 'failing', attempts: 1 });
    s.db.failNext('DeleteCommand', throttled());
    const out = await run(s, recs(1, 4), async () => undefined, {
      keyOf: undefined,
      partition: segments(4),
      concurrency: 1,
    });
    expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });

  test('a failed state read while partitioning makes the shard wait at the batch start', async () => {
    const s = setup();
    const out = await run(s, recs(1, 2), async () => undefined, {
      keyOf: undefined,
      partition: async () => {
        throw throttled();
      },
    });
    expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('batchRange', () => {
  const rec = (eventID: string, sequenceNumber: string, eventSourceARN?: string) => ({
    eventID,
    eventSourceARN,
    kinesis: { sequenceNumber },
  });
  test('shard, stream and first/last of a batch', () => {
    expect(
      batchRange([rec(`${SHARD}:${seq(1)}`, seq(1), ARN), rec(`${SHARD}:${seq(7)}`, seq(7), ARN)]),
    ).toEqual({
      shardId: SHARD,
      streamArn: ARN,
      first: seq(1),
      last: seq(7),
    });
  });
  test('the shard id is everything before the last colon; no colon means the whole id', () => {
    expect(batchRange([rec('a:b:123', '123')])).toEqual({
      shardId: 'a:b',
      streamArn: '',
      first: '123',
      last: '123',
    });
    expect(batchRange([rec('shardonly', '5')])!.shardId).toBe('shardonly');
    expect(batchRange([rec(':5', '5')])!.shardId).toBe(':5');
  });
  test('an empty batch has no range', () => {
    expect(batchRange([])).toBeUndefined();
  });
});

describe('what the logs say', () => {
  const line = (s: ReturnType<typeof setup>, message: string) => s.lines.find((l) => l.message === message);

  test('ledger read, state read and held keys', async () => {
    const s = setup();
    s.db.failNext('QueryCommand', throttled());
    await run(s, [r(1, 'a')], failsFor({}));
    expect(line(s, 'failure ledger could not be read; the shard waits')).toEqual({
      level: 'error',
      message: 'failure ledger could not be read; the shard waits',
      context: {
        shardId: SHARD,
        error: expect.objectContaining({ name: 'ProvisionedThroughputExceededException' }),
      },
    });
    const t = setup();
    await run(t, [r(1, 'a')], failsFor({}), {
      keyOf: undefined,
      partition: async () => {
        throw throttled();
      },
    });
    expect(line(t, 'batch state could not be read; the shard waits')).toMatchObject({
      level: 'error',
      context: { shardId: SHARD },
    });
    const u = setup();
    await run(u, [r(1, 'a')], failsFor({}), {
      prepare: async () => {
        throw throttled();
      },
    });
    expect(line(u, 'batch state could not be read; the shard waits')).toMatchObject({
      level: 'error',
      context: { shardId: SHARD, error: expect.anything() },
    });
    const v = setup();
    await run(v, [r(1, 'a')], failsFor({}));
    expect(v.lines.filter((l) => l.level !== 'debug')).toEqual([]);
    put(v, { sk: userKey('a'), first: seq(1), last: seq(1) });
    await run(v, [r(2, 'a')], failsFor({}));
    expect(line(v, 'records of set-aside keys held for the re-drive')).toEqual({
      level: 'warn',
      message: 'records of set-aside keys held for the re-drive',
      context: { held: 1 },
    });
    v.db.failNext('UpdateCommand', throttled());
    await run(v, [r(3, 'a')], failsFor({}));
    expect(line(v, 'parked key could not be extended in the failure ledger; the shard waits')).toMatchObject({
      level: 'warn',
      context: { key: userKey('a'), error: expect.anything() },
    });
  });

  test('deferral, failures, set-aside and removal', async () => {
    const s = setup();
    await run(s, [r(1, 'a'), r(2, 'b')], failsFor({}), { deadline: { remainingMs: () => 0, marginMs: 1 } });
    expect(line(s, 'too little time left to start; the shard waits')).toEqual({
      level: 'warn',
      message: 'too little time left to start; the shard waits',
      context: { partitions: 2 },
    });
    await run(s, [r(1, 'a')], failsFor({ a: throttled }));
    expect(line(s, 'partition failed; the shard waits')).toMatchObject({
      level: 'warn',
      context: { key: userKey('a'), class: 'transient', error: expect.anything() },
    });
    s.db.failNext('PutCommand', throttled());
    await run(s, [r(1, 'a')], failsFor({ a: bug }));
    expect(line(s, 'failure could not be recorded in the failure ledger; the shard waits')).toMatchObject({
      level: 'error',
      context: {
        key: userKey('a'),
        error: expect.objectContaining({ name: 'ProvisionedThroughputExceededException' }),
      },
    });
    await run(s, [r(1, 'b')], failsFor({ b: () => new DeterministicError('never') }), {
      onSetAside: async () => {
        throw throttled();
      },
    });
    expect(line(s, 'key set aside for the re-drive')).toMatchObject({
      level: 'error',
      context: { key: userKey('b'), class: 'deterministic', error: expect.anything() },
    });
    expect(line(s, 'set-aside follow-up failed')).toMatchObject({
      level: 'warn',
      context: { key: userKey('b'), error: expect.anything() },
    });
    put(s, { sk: userKey('c'), first: seq(5), last: seq(5), status: 'failing', attempts: 1 });
    s.db.failNext('DeleteCommand', throttled());
    await run(s, [r(5, 'c')], failsFor({}));
    expect(line(s, 'failure-ledger entry not removed; the shard waits')).toMatchObject({
      level: 'warn',
      context: { key: userKey('c'), error: expect.anything() },
    });
  });

  test('the reason written for a key set aside without a failure of its own', async () => {
    const s = setup();
    put(s, { sk: userKey('a'), first: seq(1), last: seq(1), status: 'failing', attempts: 1 });
    await run(s, [r(5, 'a')], failsFor({}));
    expect(entry(s, 'a')?.error).toBe('Error: retries ran out');
    put(s, { sk: userKey('b'), first: seq(1), last: seq(1), shardId: PARENT });
    await run(s, [r(6, 'b')], failsFor({}), { ancestors: async () => [PARENT] });
    expect(entry(s, 'b')?.error).toBe('Error: parked on an ancestor shard');
  });
});

test('with a ledger but no batch range nothing is written; the shard waits at the first record', async () => {
  const s = setup();
  const out = await processPartitioned<Rec>({
    ledger: s.ledger,
    batch: undefined,
    records: [r(7, 'a'), r(8, 'b')],
    keyOf: (x) => userKey(x.user),
    apply: failsFor({ b: () => new DeterministicError('never') }),
    logger: s.logger,
  });
  expect(out.response.batchItemFailures).toEqual([{ itemIdentifier: seq(8) }]);
  expect(s.db.log.calls).toEqual([]);
});
