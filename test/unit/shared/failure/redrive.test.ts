/**
 * The re-drive: in order, exactly once, resumable, one read per shard range, convergent while the
 * key keeps sending, parent before child, back-off, expired ranges kept.
 */
import { ConfigError } from '../../../../services/shared/errors.js';
import {
  FailureLedger,
  type LedgerEntry,
  ledgerPk,
  userKey,
} from '../../../../services/shared/failure/ledger.js';
import type { RangeRecord, RangeSource } from '../../../../services/shared/failure/range-source.js';
import {
  backoffFromEnv,
  DEFAULT_BACKOFF,
  isRedriveRequest,
  nextAttemptAt,
  REDRIVE_INPUT,
  RedriveApplyError,
  type RedriveTarget,
  redrive,
  redriveSummary,
} from '../../../../services/shared/failure/redrive.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { awsError, FakeDynamo } from '../../../helpers/fake-dynamo.js';

const TABLE = 'ledger';
const FN = 'session-updater';
const SHARD = 'shardId-000000000001';
const PARENT = 'shardId-000000000000';
const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/s';
const NOW = 10_000_000;
const seq = (n: number) => String(1000 + n);

/** A shard of records; `user` is the partition key. */
type Stream = Record<string, Array<{ n: number; user: string }>>;

function source(stream: Stream, pageSize = 2) {
  const reads: Array<{ shardId: string; from: string; to: string }> = [];
  let records = 0;
  let gone = 0; // records trimmed from each shard's head
  const src: RangeSource = {
    async *pages(at, from, to) {
      reads.push({ shardId: at.shardId, from, to });
      const all: RangeRecord[] = (stream[at.shardId] ?? []).slice(gone).map((x) => ({
        shardId: at.shardId,
        sequenceNumber: seq(x.n),
        partitionKey: x.user,
        data: new Uint8Array(),
        arrivalMs: 0,
      }));
      const mine = all.filter((r) => r.sequenceNumber >= from && r.sequenceNumber <= to);
      for (let i = 0; i < mine.length; i += pageSize) {
        records += mine.slice(i, i + pageSize).length;
        yield mine.slice(i, i + pageSize);
      }
    },
  };
  return {
    src,
    reads,
    read: () => records,
    trim: (n: number) => {
      gone = n;
    },
  };
}

function target(fail?: (entry: LedgerEntry, records: RangeRecord[]) => Error | undefined) {
  const applied: string[] = [];
  const t: RedriveTarget = {
    select: (entry, page) => page.filter((r) => userKey(r.partitionKey) === entry.sk),
    async apply(entry, records) {
      const err = fail?.(entry, records);
      if (err) throw err;
      applied.push(...records.map((r) => `${r.partitionKey}:${r.sequenceNumber}`));
      return { applied: records.length, unchanged: 0 };
    },
  };
  return { t, applied };
}

function setup() {
  const db = new FakeDynamo({ [TABLE]: ['pk', 'sk'] });
  let now = NOW;
  const ledger = new FailureLedger({ db: db.asClient(), tableName: TABLE, functionName: FN, now: () => now });
  const park = (user: string, first: number, last: number, over: Partial<LedgerEntry> = {}) => {
    const shardId = over.shardId ?? SHARD;
    const e: LedgerEntry = {
      pk: ledgerPk(FN, shardId),
      sk: userKey(user),
      fn: FN,
      shardId,
      streamArn: ARN,
      first: seq(first),
      last: seq(last),
      status: 'parked',
      attempts: 3,
      since: 's',
      parkedAt: 'p',
      nextAttemptAt: NOW,
      ...over,
    };
    db.put(TABLE, { ...e });
    return e;
  };
  const get = (user: string, shardId = SHARD) =>
    db.item(TABLE, { pk: ledgerPk(FN, shardId), sk: userKey(user) }) as LedgerEntry | undefined;
  return { db, ledger, park, get, setNow: (t: number) => (now = t), now: () => now };
}

const STREAM: Stream = {
  [SHARD]: [
    { n: 1, user: 'a' },
    { n: 2, user: 'b' },
    { n: 3, user: 'a' },
    { n: 4, user: 'c' },
    { n: 5, user: 'b' },
    { n: 6, user: 'a' },
    { n: 7, user: 'c' },
  ],
};

test("applies a set-aside user's records in order, exactly once, then removes the entry", async () => {
  const s = setup();
  s.park('a', 1, 6);
  const src = source(STREAM);
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([`a:${seq(1)}`, `a:${seq(3)}`, `a:${seq(6)}`]);
  expect(report.entries).toEqual([
    expect.objectContaining({ sk: userKey('a'), outcome: 'done', applied: 3, appliedThrough: seq(6) }),
  ]);
  expect(report.applied).toBe(3);
  expect(s.db.items(TABLE)).toEqual([]);
  // A second run changes nothing.
  const again = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(again.entries).toEqual([]);
  expect(applied).toHaveLength(3);
});

test('every due entry of a shard is served by ONE read of the range (defect 6)', async () => {
  const s = setup();
  s.park('a', 1, 6);
  s.park('b', 2, 5);
  s.park('c', 4, 7);
  const src = source(STREAM);
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(src.reads).toEqual([{ shardId: SHARD, from: seq(1), to: seq(7) }]);
  expect(src.read()).toBe(7);
  expect(report.recordsRead).toBe(7);
  expect(applied.filter((x) => x.startsWith('b:'))).toEqual([`b:${seq(2)}`, `b:${seq(5)}`]);
  expect(report.entries.map((e) => e.outcome)).toEqual(['done', 'done', 'done']);
});

test('progress is durable per page: an interrupted run resumes after what took effect (defect 10)', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const src = source(STREAM, 3);
  let pages = 0;
  const { t, applied } = target(() => {
    pages += 1;
    return undefined;
  });
  const first = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
    shouldStop: () => pages >= 1,
  });
  expect(first.entries[0]).toMatchObject({ outcome: 'partial', appliedThrough: seq(3) });
  expect(s.get('a')).toMatchObject({ appliedThrough: seq(3) });
  expect(s.get('a')?.claim).toBeUndefined();
  const second = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(src.reads[1]).toEqual({ shardId: SHARD, from: seq(3), to: seq(6) });
  expect(applied).toEqual([`a:${seq(1)}`, `a:${seq(3)}`, `a:${seq(6)}`]);
  expect(second.entries[0]).toMatchObject({ outcome: 'done', applied: 1 });
});

test('a run that stops before a shard leaves its entries untouched for the next run', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    shouldStop: () => true,
  });
  expect(report.entries[0]!.outcome).toBe('partial');
  expect(applied).toEqual([]);
});

test('entries not due wait for their back-off unless forced; failing entries are never re-driven', async () => {
  const s = setup();
  s.park('a', 1, 6, { nextAttemptAt: NOW + 1 });
  s.park('b', 2, 5, { nextAttemptAt: NOW });
  s.park('c', 4, 7, { status: 'failing' });
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.map((e) => [e.sk, e.outcome])).toEqual([
    [userKey('a'), 'not due'],
    [userKey('b'), 'done'],
  ]);
  expect(applied.every((x) => x.startsWith('b:'))).toBe(true);
  const forced = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
    force: true,
  });
  expect(forced.entries.map((e) => [e.sk, e.outcome])).toEqual([[userKey('a'), 'done']]);
  expect(s.get('c')?.status).toBe('failing');
});

test('an entry without a back-off time is due', async () => {
  const s = setup();
  s.park('a', 1, 6, { nextAttemptAt: undefined });
  const { t } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]!.outcome).toBe('done');
});

test('a failed attempt backs off (doubling, capped), keeps the entry and its progress, and releases the claim', async () => {
  const s = setup();
  s.park('a', 1, 6, { redrives: 1 });
  const { t, applied } = target((_e, rs) =>
    rs.some((r) => r.sequenceNumber === seq(6)) ? new RedriveApplyError(FN, 1) : undefined,
  );
  const backoff = { baseMs: 100, maxMs: 300 };
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM, 3).src,
    target: t,
    logger: silentLogger,
    now: s.now,
    backoff,
  });
  expect(applied).toEqual([`a:${seq(1)}`, `a:${seq(3)}`]);
  expect(report.entries[0]).toMatchObject({
    outcome: 'failed',
    error: expect.stringContaining('RedriveApplyError'),
  });
  expect(s.get('a')).toMatchObject({
    appliedThrough: seq(3),
    redrives: 2,
    nextAttemptAt: NOW + 200,
    expired: false,
  });
  expect(s.get('a')?.claim).toBeUndefined();
  await redrive({
    ledger: s.ledger,
    source: source(STREAM, 3).src,
    target: t,
    logger: silentLogger,
    now: s.now,
    backoff,
    force: true,
  });
  expect(s.get('a')).toMatchObject({ redrives: 3, nextAttemptAt: NOW + 300 });
});

test('nextAttemptAt doubles from the base and is capped', () => {
  const b = { baseMs: 10, maxMs: 50 };
  expect([0, 1, 2, 3, 4, 5].map((n) => nextAttemptAt(0, n, b))).toEqual([10, 10, 20, 40, 50, 50]);
  expect(nextAttemptAt(7, 1)).toBe(7 + DEFAULT_BACKOFF.baseMs);
  expect(nextAttemptAt(0, 30)).toBe(DEFAULT_BACKOFF.maxMs);
});

test('a range the stream no longer holds is marked expired and kept, never dropped (defect 5)', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const src = source(STREAM);
  src.trim(1); // record 1 is past retention
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([]);
  expect(report.entries[0]).toMatchObject({ outcome: 'expired', error: expect.stringContaining(seq(1)) });
  expect(s.get('a')).toMatchObject({ expired: true, redrives: 1, first: seq(1), last: seq(6) });
});

test('a range of which nothing is left is expired too', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { t } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source({}).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]!.outcome).toBe('expired');
  expect(s.get('a')?.expired).toBe(true);
});

test('a source failure fails the shard’s entries for this run', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { t } = target();
  const broken: RangeSource = {
    // biome-ignore lint/correctness/useYield: a source that fails before its first page
    async *pages() {
      throw awsError('ProvisionedThroughputExceededException');
    },
  };
  const report = await redrive({
    ledger: s.ledger,
    source: broken,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]).toMatchObject({ outcome: 'failed' });
  expect(s.get('a')).toMatchObject({ redrives: 1, expired: false });
});

test('converges while the user keeps sending: only the new records are read and applied', async () => {
  const s = setup();
  s.park('a', 1, 3);
  const src = source(STREAM);
  let sent = 0;
  const { t, applied } = target((entry) => {
    // The live function adds the user's next record while the re-drive works.
    if (sent < 1 && entry.sk === userKey('a')) {
      sent += 1;
      const live = s.get('a')!;
      s.db.put(TABLE, { ...live, last: seq(6) });
    }
    return undefined;
  });
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([`a:${seq(1)}`, `a:${seq(3)}`, `a:${seq(6)}`]);
  expect(report.entries[0]).toMatchObject({ outcome: 'done', last: seq(6) });
  expect(src.reads).toEqual([
    { shardId: SHARD, from: seq(1), to: seq(3) },
    { shardId: SHARD, from: seq(3), to: seq(6) },
  ]);
  expect(s.get('a')).toBeUndefined();
});

test('a user that keeps outrunning the hand-over rounds is left caught-up for the live function', async () => {
  const s = setup();
  const stream: Stream = { [SHARD]: Array.from({ length: 20 }, (_, i) => ({ n: i + 1, user: 'a' })) };
  s.park('a', 1, 1);
  let last = 1;
  const { t } = target(() => {
    last += 1;
    s.db.put(TABLE, { ...s.get('a')!, last: seq(last) });
    return undefined;
  });
  const report = await redrive({
    ledger: s.ledger,
    source: source(stream).src,
    target: t,
    logger: silentLogger,
    now: s.now,
    handOverRounds: 2,
  });
  expect(report.entries[0]!.outcome).toBe('partial');
  expect(s.get('a')).toBeDefined();
  expect(s.get('a')?.claim).toBeUndefined();
});

test('the live function handing over mid-run ends the entry as done', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { t } = target(() => {
    s.db.tables.get(TABLE)!.clear();
    return undefined;
  });
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]!.outcome).toBe('done');
});

test('an entry removed between catching up and removal is done', async () => {
  const s = setup();
  s.park('a', 1, 1);
  const { t } = target();
  s.db.failNext('DeleteCommand', awsError('ConditionalCheckFailedException'));
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: {
      ...t,
      async apply(e, rs) {
        const out = await t.apply(e, rs);
        return out;
      },
    },
    logger: silentLogger,
    now: s.now,
  });
  // The Delete failed its condition, the re-read finds the entry as it was: removed next round.
  expect(report.entries[0]!.outcome).toBe('done');
  expect(s.get('a')).toBeUndefined();
});

test('order across a reshard: the parent entry first, then the child entry, in one run', async () => {
  const s = setup();
  const stream: Stream = {
    [PARENT]: [
      { n: 1, user: 'a' },
      { n: 2, user: 'a' },
    ],
    [SHARD]: [{ n: 10, user: 'a' }],
  };
  s.park('a', 10, 10, { after: [PARENT] });
  s.park('a', 1, 2, { shardId: PARENT });
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source(stream).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([`a:${seq(1)}`, `a:${seq(2)}`, `a:${seq(10)}`]);
  expect(report.entries.map((e) => [e.shardId, e.outcome])).toEqual([
    [PARENT, 'done'],
    [SHARD, 'done'],
  ]);
});

test('a child entry waits while its parent entry is not done', async () => {
  const s = setup();
  s.park('a', 10, 10, { after: [PARENT] });
  s.park('a', 1, 2, { shardId: PARENT, nextAttemptAt: NOW + 1 });
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source({}).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([]);
  expect(report.entries.map((e) => e.outcome).sort()).toEqual(['after ancestor', 'not due']);
});

test('an entry another re-driver holds is left alone', async () => {
  const s = setup();
  s.park('a', 1, 6, { claim: 'other', claimUntil: NOW + 60_000 });
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]!.outcome).toBe('claimed');
  expect(applied).toEqual([]);
  expect(s.get('a')?.claim).toBe('other');
});

test('dry run: reports what would be applied and changes nothing', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const src = source(STREAM);
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: t,
    logger: silentLogger,
    now: s.now,
    dryRun: true,
  });
  expect(report.entries[0]).toMatchObject({ outcome: 'would apply', parkedAt: 'p' });
  expect(applied).toEqual([]);
  expect(src.reads).toEqual([]);
  expect(s.db.log.calls.filter((c) => c.kind !== 'Scan')).toEqual([]);
});

test('isRedriveRequest, redriveSummary', () => {
  expect(isRedriveRequest(REDRIVE_INPUT)).toBe(true);
  expect(isRedriveRequest({ pulse: 'republish-pending' })).toBe(false);
  expect(isRedriveRequest(null)).toBe(false);
  expect(isRedriveRequest('redrive')).toBe(false);
  expect(
    redriveSummary({
      recordsRead: 9,
      applied: 4,
      entries: (['done', 'done', 'partial', 'failed', 'expired', 'not due'] as const).map((outcome) => ({
        pk: '',
        sk: '',
        shardId: '',
        first: '',
        last: '',
        applied: 0,
        unchanged: 0,
        outcome,
      })),
    }),
  ).toEqual({
    entries: 6,
    done: 2,
    partial: 1,
    failed: 1,
    expired: 1,
    notDue: 1,
    recordsRead: 9,
    applied: 4,
  });
});

describe('backoffFromEnv', () => {
  test('defaults and settings', () => {
    expect(backoffFromEnv({})).toEqual(DEFAULT_BACKOFF);
    expect(
      backoffFromEnv({ REDRIVE_BACKOFF_BASE_SECONDS: '1', REDRIVE_BACKOFF_MAX_SECONDS: '86400' }),
    ).toEqual({
      baseMs: 1000,
      maxMs: 86_400_000,
    });
  });
  test.each([
    [{ REDRIVE_BACKOFF_BASE_SECONDS: '0' }, /REDRIVE_BACKOFF_BASE_SECONDS/],
    [{ REDRIVE_BACKOFF_MAX_SECONDS: '86401' }, /REDRIVE_BACKOFF_MAX_SECONDS/],
    [{ REDRIVE_BACKOFF_BASE_SECONDS: '1.5' }, /REDRIVE_BACKOFF_BASE_SECONDS/],
    [{ REDRIVE_BACKOFF_BASE_SECONDS: '600', REDRIVE_BACKOFF_MAX_SECONDS: '60' }, /must not be below/],
  ])('%p fails fast', (env, message) => {
    expect(() => backoffFromEnv(env)).toThrow(ConfigError);
    expect(() => backoffFromEnv(env)).toThrow(message);
  });
});
