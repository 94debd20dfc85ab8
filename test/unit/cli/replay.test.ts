/**
 * `pulse replay`: the function's re-drive, run now, from the failure ledger alone (no on-failure
 * message needed: defect 4), with the same code the schedule runs.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ledgerPk, userKey } from '../../../services/shared/failure/ledger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { type Handlers, run } from './support.js';

const SHARD = 'shardId-000000000000';
const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/pulse-local-events';
const seq = (n: number) => `4968000000000000000000000000000000000000000000000000000${n}`;
const T = Date.parse('2026-11-28T11:00:00Z');
const LEDGER = 'pulse-local-replay-ledger';
const SESSIONS = 'pulse-local-sessions';

function record(n: number, userId: string) {
  const event = { eventId: `e${n}`, userId, eventType: 'page_view', timestamp: T + n, data: { page: '/' } };
  return {
    SequenceNumber: seq(n),
    PartitionKey: userId,
    Data: new TextEncoder().encode(JSON.stringify(event)),
    ApproximateArrivalTimestamp: new Date(T + n),
  };
}

/** Records 1..5 on the shard; u1 (records 1, 3, 5) is set aside. */
function world(options: { trimmed?: boolean } = {}) {
  const db = new FakeDynamo({
    [LEDGER]: ['pk', 'sk'],
    [SESSIONS]: ['userId', 'sk'],
    'pulse-local-erasures': 'userHash',
  });
  const records = [record(1, 'u1'), record(2, 'u2'), record(3, 'u1'), record(4, 'u2'), record(5, 'u1')].slice(
    options.trimmed ? 1 : 0,
  );
  const via = (C: new (input: never) => unknown) => (input: Record<string, unknown>) =>
    db.send(new C(input as never));
  const handlers: Handlers = {
    ScanCommand: via(ScanCommand),
    QueryCommand: via(QueryCommand),
    UpdateCommand: via(UpdateCommand),
    DeleteCommand: via(DeleteCommand),
    PutCommand: via(PutCommand),
    BatchGetCommand: via(BatchGetCommand),
    BatchWriteCommand: via(BatchWriteCommand),
    GetShardIteratorCommand: (input) => ({
      ShardIterator: String(
        input.ShardIteratorType === 'TRIM_HORIZON' ? seq(0) : input.StartingSequenceNumber,
      ),
    }),
    GetRecordsCommand: (input) => ({
      Records: records.filter((r) => r.SequenceNumber >= String(input.ShardIterator)),
      MillisBehindLatest: 0,
    }),
  };
  return { db, handlers };
}

function park(db: FakeDynamo, over: Record<string, unknown> = {}) {
  db.put(LEDGER, {
    pk: ledgerPk('session-updater', SHARD),
    sk: userKey('u1'),
    fn: 'session-updater',
    shardId: SHARD,
    streamArn: ARN,
    first: seq(1),
    last: seq(5),
    status: 'parked',
    attempts: 3,
    error: 'Error: bug',
    since: '2026-11-28T11:00:00.000Z',
    parkedAt: '2026-11-28T11:01:00.000Z',
    nextAttemptAt: Number.MAX_SAFE_INTEGER,
    ...over,
  });
}

test('--dry-run lists what is set aside, since when, and changes nothing', async () => {
  const { db, handlers } = world();
  park(db);
  db.put(LEDGER, {
    pk: ledgerPk('session-updater', SHARD),
    sk: userKey('u2'),
    status: 'failing',
    first: seq(2),
    last: seq(2),
  });
  const r = await run(['replay', '--function', 'session-updater', '--dry-run'], { handlers });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('session-updater (local): 1 set-aside entry — dry run, nothing changed');
  expect(r.stdout).toContain(
    `${SHARD} u#u1 ${seq(1)}..${seq(5)} since 2026-11-28T11:01:00.000Z — would apply`,
  );
  expect(r.stdout).toContain('1 key(s) failing but not set aside');
  expect(r.calls.filter((c) => /Delete|Update|Put|Batch|GetRecords/.test(c.command))).toEqual([]);
});

test("applies the user's records in order through the function's code, from the entry alone, ignoring its back-off; a second run changes nothing", async () => {
  const { db, handlers } = world();
  park(db);
  const r = await run(['replay', '--function', 'session-updater', '--yes', '--json'], { handlers });
  expect(r.stderr).not.toMatch(/error|warning/);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.entries).toEqual([expect.objectContaining({ sk: 'u#u1', outcome: 'done', applied: 3 })]);
  expect(doc.applied).toBe(3);
  expect(db.items(LEDGER)).toEqual([]);
  const current = db.item(SESSIONS, { userId: 'u1', sk: 'CURRENT' }) as { totals: { eventCount: number } };
  expect(current.totals.eventCount).toBe(3);
  expect(db.item(SESSIONS, { userId: 'u2', sk: 'CURRENT' })).toBeUndefined();

  const again = await run(['replay', '--function', 'session-updater', '--yes', '--json'], { handlers });
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ entries: [], applied: 0 });
  expect((db.item(SESSIONS, { userId: 'u1', sk: 'CURRENT' }) as typeof current).totals.eventCount).toBe(3);
});

test('an interrupted replay resumes after what took effect; nothing is reported unknown (defect 10)', async () => {
  const { db, handlers } = world();
  park(db, { appliedThrough: seq(3) });
  const r = await run(['replay', '--function', 'session-updater', '--yes', '--json'], { handlers });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).entries[0]).toMatchObject({ outcome: 'done', applied: 1 });
});

test('a range the stream no longer holds is kept and reported (exit 4), never dropped', async () => {
  const { db, handlers } = world({ trimmed: true });
  park(db);
  const r = await run(['replay', '--function', 'session-updater', '--yes'], { handlers });
  expect(r.code).toBe(4);
  expect(r.stdout).toContain('— expired');
  expect(db.items(LEDGER)[0]).toMatchObject({ expired: true, first: seq(1) });
});

test('without --yes in a non-interactive shell nothing is applied', async () => {
  const { db, handlers } = world();
  park(db);
  const r = await run(['replay', '--function', 'session-updater'], { handlers });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(
    'Re-drive 1 set-aside entry of session-updater in local? Refusing without --yes',
  );
  expect(r.calls.filter((c) => /Delete|Update|Put|Batch/.test(c.command))).toEqual([]);
});

test('nothing set aside is a clean no-op', async () => {
  const { handlers } = world();
  const r = await run(['replay', '--function', 'metrics-emitter', '--yes', '--json'], { handlers });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ entries: [], applied: 0, failing: 0 });
});

test.each([
  [[], 'pulse replay: --function is required (session-updater, fraud-rules, metrics-emitter)'],
  [
    ['--function', 'alerts'],
    '--function must be one of session-updater, fraud-rules, metrics-emitter, got "alerts"',
  ],
  [
    ['--function', 'fraud-rules', '--dry-run', '--yes'],
    '--dry-run changes nothing; --yes does not go with it',
  ],
  [['--function'], '--function needs a value'],
])('argument error %p', async (args, message) => {
  const r = await run(['replay', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.calls).toEqual([]);
});
