import type { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FailureLedger, gateUsers, SEGMENT_PREFIX } from '../../../services/shared/failure-ledger.js';
import type { Logger } from '../../../services/shared/logger.js';
import { awsError, FakeDynamo } from '../../helpers/fake-dynamo.js';

const TABLE = 'ledger';
const SHARD = 'shardId-000000000000';
const PK = `session-updater#${SHARD}`;
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function setup(fn = 'session-updater') {
  const db = new FakeDynamo({ [TABLE]: ['pk', 'sk'] });
  const ledger = new FailureLedger({ db, tableName: TABLE, functionName: fn, now: () => 0 });
  return { db, ledger };
}

const rec = (n: number) => ({ sequenceNumber: String(100 + n) });
const groups = (byUser: Record<string, number[]>) =>
  new Map(Object.entries(byUser).map(([u, ns]) => [u, ns.map(rec)]));
const batch = (first: number, last: number) => ({
  shardId: SHARD,
  first: String(100 + first),
  last: String(100 + last),
});
const entry = (db: FakeDynamo, sk: string, pk = PK) => db.item(TABLE, { pk, sk });

test('a failure is recorded from the first failed record to the batch end; a successful retry clears it', async () => {
  const { db, ledger } = setup();
  const first = await gateUsers(ledger, batch(1, 5), groups({ u1: [2, 4], u2: [1, 5] }), logger);
  expect([...first.groups.keys()]).toEqual(['u1', 'u2']);
  await first.userFailed('u1', '102');
  await first.userSucceeded('u2');
  expect(entry(db, 'u1')).toMatchObject({ first: '102', last: '105', shardId: SHARD });
  expect(entry(db, 'u2')).toBeUndefined();

  // Lambda retries from the reported record: the entry is retrying, not parked.
  const retry = await gateUsers(ledger, batch(2, 5), groups({ u1: [2, 4], u2: [5] }), logger);
  expect(retry.parkedUsers).toBe(0);
  expect(retry.groups.has('u1')).toBe(true);
  await retry.userFailed('u1', '102');
  expect(entry(db, 'u1')).toMatchObject({ first: '102', last: '105' });
  const ok = await gateUsers(ledger, batch(2, 5), groups({ u1: [2, 4] }), logger);
  await ok.userSucceeded('u1');
  expect(db.items(TABLE)).toEqual([]);
});

test('an entry that cannot be cleared after success makes the user fail, so no stale entry can park them', async () => {
  const { db, ledger } = setup();
  await (await gateUsers(ledger, batch(1, 5), groups({ u1: [2] }), logger)).userFailed('u1', '102');
  const retry = await gateUsers(ledger, batch(2, 5), groups({ u1: [2] }), logger);
  db.failNext('DeleteCommand', awsError('InternalServerError'));
  expect(await retry.userSucceeded('u1')).toBe(false);
  expect(entry(db, 'u1')).toMatchObject({ first: '102' });
  // Lambda's retry of the same range clears it.
  expect(await (await gateUsers(ledger, batch(2, 5), groups({ u1: [2] }), logger)).userSucceeded('u1')).toBe(
    true,
  );
  expect(db.items(TABLE)).toEqual([]);
});

test('once Lambda moved past the first failed record, the user is parked: later records join the entry, unapplied', async () => {
  const { db, ledger } = setup();
  const failing = await gateUsers(ledger, batch(1, 5), groups({ u1: [2, 4] }), logger);
  await failing.userFailed('u1', '102');
  const next = await gateUsers(ledger, batch(6, 9), groups({ u1: [7, 9], u2: [6, 8] }), logger);
  expect(next.parkedUsers).toBe(1);
  expect([...next.groups.keys()]).toEqual(['u2']);
  expect(next.failed).toEqual([]);
  expect(entry(db, 'u1')).toMatchObject({ first: '102', last: '109' });
  // A re-delivery of the same batch changes nothing; success elsewhere does not clear a parked entry.
  const again = await gateUsers(ledger, batch(6, 9), groups({ u1: [7, 9] }), logger);
  await again.userSucceeded('u1');
  expect(entry(db, 'u1')).toMatchObject({ first: '102', last: '109' });
});

test('a parked entry that moved meanwhile (a replay removed it) fails the user so Lambda retries against the new ledger', async () => {
  const { db, ledger } = setup();
  await (await gateUsers(ledger, batch(1, 5), groups({ u1: [2] }), logger)).userFailed('u1', '102');
  const view = await ledger.forBatch(SHARD, '106', '109');
  db.tables.get(TABLE)?.clear(); // the replay finished and removed the entry
  const gate = await gateUsers(ledger, batch(6, 9), groups({ u1: [7] }), logger);
  expect(gate.parkedUsers).toBe(0); // read after the removal: applied normally
  expect(view.isParked('u1')).toBe(true);
  await expect(view.park('u1', '109')).rejects.toThrow();
});

test('the ledger unreadable: the whole batch is reported failed from its first record, nothing applied', async () => {
  const { db, ledger } = setup();
  db.failNext('QueryCommand', awsError('ProvisionedThroughputExceededException'));
  const gate = await gateUsers(ledger, batch(1, 5), groups({ u1: [2], u2: [3] }), logger);
  expect(gate.failed).toEqual(['101']);
  expect(gate.groups.size).toBe(0);
});

test('metrics segments: one entry per skipped range, moved forward in place while retrying, never backwards', async () => {
  const { db, ledger } = setup('metrics-emitter');
  const pk = `metrics-emitter#${SHARD}`;
  const b1 = await ledger.forBatch(SHARD, '101', '110');
  await b1.segmentFailed('104');
  expect(entry(db, `${SEGMENT_PREFIX}104`, pk)).toMatchObject({ first: '104', last: '110' });
  const retry = await ledger.forBatch(SHARD, '104', '110');
  await retry.segmentFailed('107');
  expect(entry(db, `${SEGMENT_PREFIX}104`, pk)).toMatchObject({ first: '107', last: '110' });
  const again = await ledger.forBatch(SHARD, '104', '110');
  await again.segmentFailed('105'); // already emitted up to 106: stays at 107
  expect(entry(db, `${SEGMENT_PREFIX}104`, pk)).toMatchObject({ first: '107' });
  // Lambda gave up; a later batch succeeds without touching the skipped range.
  await (await ledger.forBatch(SHARD, '111', '120')).segmentsSucceeded();
  expect(db.items(TABLE)).toHaveLength(1);
  // Had the retry succeeded, the entry would be gone.
  await (await ledger.forBatch(SHARD, '107', '110')).segmentsSucceeded();
  expect(db.items(TABLE)).toEqual([]);
  expect(
    db.log.calls.filter((c) => c.kind === 'Update').map((c) => (c.input as UpdateCommand['input']).Key),
  ).toHaveLength(2);
});
