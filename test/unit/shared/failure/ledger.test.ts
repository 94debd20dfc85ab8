import { ConfigError } from '../../../../services/shared/errors.js';
import {
  caughtUp,
  errorText,
  FailureLedger,
  INVALID_RECORDS_KEY,
  type LedgerEntry,
  ledgerFromEnv,
  ledgerPk,
  segmentKey,
  userIdOf,
  userKey,
} from '../../../../services/shared/failure/ledger.js';
import { awsError, ConditionalCheckFailed, FakeDynamo } from '../../../helpers/fake-dynamo.js';

const TABLE = 'ledger';
const FN = 'fraud-rules';
const SHARD = 'shardId-000000000000';
const NOW = 1_000_000;

function setup() {
  const db = new FakeDynamo({ [TABLE]: ['pk', 'sk'] });
  let now = NOW;
  const ledger = new FailureLedger({ db: db.asClient(), tableName: TABLE, functionName: FN, now: () => now });
  return { db, ledger, tick: (ms: number) => (now += ms) };
}

const anEntry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  pk: ledgerPk(FN, SHARD),
  sk: userKey('u1'),
  fn: FN,
  shardId: SHARD,
  streamArn: 'arn',
  first: '10',
  last: '20',
  status: 'parked',
  attempts: 3,
  since: 'x',
  ...over,
});

/** A db that pages every read one item at a time, to prove callers follow LastEvaluatedKey. */
function paging(items: LedgerEntry[]) {
  const inputs: Array<Record<string, unknown>> = [];
  const db = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      const start = command.input.ExclusiveStartKey as { sk: string } | undefined;
      const i = start ? items.findIndex((e) => e.sk === start.sk) + 1 : 0;
      const item = items[i];
      return {
        Items: item ? [item] : [],
        ...(i + 1 < items.length ? { LastEvaluatedKey: { pk: item!.pk, sk: item!.sk } } : {}),
      };
    },
  };
  return { db, inputs };
}

describe('keys (defect 9: users and internal keys never share a name)', () => {
  test('a user named like an internal key is still a user key', () => {
    expect(userKey('#invalid-records')).not.toBe(INVALID_RECORDS_KEY);
    expect(userKey('i#invalid-records')).not.toBe(INVALID_RECORDS_KEY);
    expect(userKey('s#123')).not.toBe(segmentKey('123'));
    expect(INVALID_RECORDS_KEY).toBe('i#invalid-records');
  });
  test('userIdOf round-trips users and rejects the other namespaces', () => {
    expect(userIdOf(userKey('a#b'))).toBe('a#b');
    expect(userIdOf(userKey(''))).toBe('');
    expect(userIdOf(INVALID_RECORDS_KEY)).toBeUndefined();
    expect(userIdOf(segmentKey('5'))).toBeUndefined();
  });
  test('the partition key is function and shard', () => {
    expect(ledgerPk('metrics-emitter', 'shardId-1')).toBe('metrics-emitter#shardId-1');
  });
  test('caught up means applied through last exactly', () => {
    expect(caughtUp({ last: '5', appliedThrough: '5' })).toBe(true);
    expect(caughtUp({ last: '5', appliedThrough: '4' })).toBe(false);
    expect(caughtUp({ last: '5' })).toBe(false);
  });
});

test('entries: one shard, strongly consistent, every page', async () => {
  const items = [anEntry({ sk: 'u#a' }), anEntry({ sk: 'u#b' }), anEntry({ sk: 'u#c' })];
  const { db, inputs } = paging(items);
  const ledger = new FailureLedger({ db, tableName: TABLE, functionName: FN });
  expect((await ledger.entries(SHARD)).map((e) => e.sk)).toEqual(['u#a', 'u#b', 'u#c']);
  expect(inputs).toHaveLength(3);
  for (const input of inputs) {
    expect(input).toMatchObject({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ledgerPk(FN, SHARD) },
      ConsistentRead: true,
    });
  }
  expect(inputs[1]!.ExclusiveStartKey).toEqual({ pk: items[0]!.pk, sk: 'u#a' });
});

test("all: this function's entries of every shard, strongly consistent, every page", async () => {
  const items = [
    anEntry({ sk: 'u#a' }),
    anEntry({ sk: 'u#b', pk: ledgerPk('fraud-rules-x', SHARD) }),
    anEntry({ sk: 'u#c', pk: ledgerPk('session-updater', SHARD) }),
    anEntry({ sk: 'u#d', pk: ledgerPk(FN, 'shardId-9') }),
  ];
  const { db, inputs } = paging(items);
  const ledger = new FailureLedger({ db, tableName: TABLE, functionName: FN });
  expect((await ledger.all()).map((e) => e.sk)).toEqual(['u#a', 'u#d']);
  expect(inputs).toHaveLength(4);
  for (const input of inputs) expect(input).toMatchObject({ TableName: TABLE, ConsistentRead: true });
});

test('extend: only forward, conditional on the last read, and the entry in hand follows', async () => {
  const { db, ledger } = setup();
  const e = anEntry();
  db.put(TABLE, { ...e });
  await ledger.extend(e, '20');
  await ledger.extend(e, '9');
  expect(db.count('Update')).toBe(0);
  await ledger.extend(e, '25');
  expect(e.last).toBe('25');
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })?.last).toBe('25');
  // Compared as numbers, not text: '100' is after '25'.
  await ledger.extend(e, '100');
  expect(e.last).toBe('100');
  const stale = anEntry({ last: '20' });
  await expect(ledger.extend(stale, '30')).rejects.toThrow(ConditionalCheckFailed);
  expect(stale.last).toBe('20');
});

test('remove: only as read; false when it changed, errors pass through', async () => {
  const { db, ledger } = setup();
  db.put(TABLE, { ...anEntry() });
  expect(await ledger.remove(anEntry({ last: '19' }))).toBe(false);
  expect(await ledger.remove(anEntry({ first: '11' }))).toBe(false);
  db.failNext('DeleteCommand', awsError('ThrottlingException'));
  await expect(ledger.remove(anEntry())).rejects.toThrow('ThrottlingException');
  expect(await ledger.remove(anEntry())).toBe(true);
  expect(db.items(TABLE)).toEqual([]);
});

test('progress: durable, only on the same entry (its first), never on a removed one', async () => {
  const { db, ledger } = setup();
  const e = anEntry();
  db.put(TABLE, { ...e });
  await ledger.progress(e, '15');
  expect(e.appliedThrough).toBe('15');
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })?.appliedThrough).toBe('15');
  await expect(ledger.progress(anEntry({ first: '11' }), '16')).rejects.toThrow(ConditionalCheckFailed);
  db.tables.get(TABLE)!.clear();
  await expect(ledger.progress(e, '17')).rejects.toThrow(ConditionalCheckFailed);
});

test('advanceFirst: conditional on the first read', async () => {
  const { db, ledger } = setup();
  const e = anEntry();
  db.put(TABLE, { ...e });
  await ledger.advanceFirst(e, '12');
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })?.first).toBe('12');
  await expect(ledger.advanceFirst(anEntry(), '13')).rejects.toThrow(ConditionalCheckFailed);
});

test('reschedule: back-off, error and expiry are written; a removed entry is not recreated', async () => {
  const { db, ledger } = setup();
  const e = anEntry();
  db.put(TABLE, { ...e });
  await ledger.reschedule(e, { nextAttemptAt: 5, redrives: 2, error: 'x'.repeat(600), expired: true });
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })).toMatchObject({
    nextAttemptAt: 5,
    redrives: 2,
    expired: true,
    error: 'x'.repeat(500),
  });
  await ledger.reschedule(e, { nextAttemptAt: 6, redrives: 3 });
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })).toMatchObject({
    nextAttemptAt: 6,
    expired: false,
    error: 'x'.repeat(500),
  });
  db.tables.get(TABLE)!.clear();
  await expect(ledger.reschedule(e, { nextAttemptAt: 7, redrives: 4 })).rejects.toThrow(
    ConditionalCheckFailed,
  );
  expect(db.items(TABLE)).toEqual([]);
});

test('claim: one holder at a time until the lease passes; the holder may renew; release only by the holder', async () => {
  const { db, ledger, tick } = setup();
  db.put(TABLE, { ...anEntry() });
  expect(await ledger.claim(anEntry(), 'a', 1000)).toBe(true);
  expect(await ledger.claim(anEntry(), 'b', 1000)).toBe(false);
  expect(await ledger.claim(anEntry(), 'a', 1000)).toBe(true);
  tick(1000);
  expect(await ledger.claim(anEntry(), 'b', 1000)).toBe(false); // the lease ends after its last ms
  tick(1);
  const e = anEntry();
  expect(await ledger.claim(e, 'b', 1000)).toBe(true);
  expect(e).toMatchObject({ claim: 'b', claimUntil: NOW + 2001 });
  await ledger.release(anEntry(), 'a');
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })?.claim).toBe('b');
  await ledger.release(anEntry(), 'b');
  expect(db.item(TABLE, { pk: e.pk, sk: e.sk })?.claim).toBeUndefined();
  db.failNext('UpdateCommand', awsError('ThrottlingException'));
  await expect(ledger.release(anEntry(), 'b')).rejects.toThrow('ThrottlingException');
  db.failNext('UpdateCommand', awsError('ThrottlingException'));
  await expect(ledger.claim(anEntry(), 'c', 1)).rejects.toThrow('ThrottlingException');
  db.tables.get(TABLE)!.clear();
  expect(await ledger.claim(anEntry(), 'c', 1)).toBe(false);
});

test('errorText: name and message, bounded', () => {
  expect(errorText(awsError('ValidationException', 'too big'))).toBe('ValidationException: too big');
  expect(errorText('plain')).toBe('plain');
  expect(errorText(new Error('y'.repeat(900)))).toHaveLength(500);
});

describe('ledgerFromEnv', () => {
  const db = { send: async () => ({}) };
  test('no table, no ledger', () => {
    expect(ledgerFromEnv({}, db, FN)).toBeUndefined();
    expect(ledgerFromEnv({ REPLAY_LEDGER_TABLE: '  ' }, db, FN)).toBeUndefined();
  });
  test('the table and PARK_AFTER_FAILURES', () => {
    const l = ledgerFromEnv({ REPLAY_LEDGER_TABLE: ' t ', PARK_AFTER_FAILURES: '5' }, db, FN)!;
    expect(l.options).toMatchObject({ tableName: 't', functionName: FN, parkAfter: 5 });
    expect(ledgerFromEnv({ REPLAY_LEDGER_TABLE: 't' }, db, FN)!.options.parkAfter).toBeUndefined();
    expect(
      ledgerFromEnv({ REPLAY_LEDGER_TABLE: 't', PARK_AFTER_FAILURES: '1' }, db, FN)!.options.parkAfter,
    ).toBe(1);
    expect(
      ledgerFromEnv({ REPLAY_LEDGER_TABLE: 't', PARK_AFTER_FAILURES: '100' }, db, FN)!.options.parkAfter,
    ).toBe(100);
  });
  test.each(['0', '101', '2.5', 'three'])('PARK_AFTER_FAILURES=%s fails fast, naming the setting', (v) => {
    expect(() => ledgerFromEnv({ REPLAY_LEDGER_TABLE: 't', PARK_AFTER_FAILURES: v }, db, FN)).toThrow(
      ConfigError,
    );
    expect(() => ledgerFromEnv({ REPLAY_LEDGER_TABLE: 't', PARK_AFTER_FAILURES: v }, db, FN)).toThrow(
      /PARK_AFTER_FAILURES/,
    );
  });
});
