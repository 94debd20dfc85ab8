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

/** A logger that keeps what was logged, to check what an operator is told. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; context?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) =>
    lines.push({ level, message, context });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** The same ledger with some of its operations replaced. */
function ledgerWith(ledger: FailureLedger, over: Partial<FailureLedger>): FailureLedger {
  return Object.assign(Object.create(ledger) as FailureLedger, over);
}

test('RedriveApplyError names the function and how many records failed', () => {
  const err = new RedriveApplyError(FN, 2);
  expect(err.name).toBe('RedriveApplyError');
  expect(err.message).toBe(`${FN} reported 2 failure(s) applying a set-aside range`);
});

test('isRedriveRequest is false for a missing event', () => {
  expect(isRedriveRequest(undefined)).toBe(false);
});

test('backoffFromEnv: a blank setting takes the default; equal base and cap are allowed', () => {
  expect(backoffFromEnv({ REDRIVE_BACKOFF_BASE_SECONDS: '  ', REDRIVE_BACKOFF_MAX_SECONDS: '' })).toEqual(
    DEFAULT_BACKOFF,
  );
  expect(backoffFromEnv({ REDRIVE_BACKOFF_BASE_SECONDS: '60', REDRIVE_BACKOFF_MAX_SECONDS: '60' })).toEqual({
    baseMs: 60_000,
    maxMs: 60_000,
  });
});

test('the report of an entry not yet due shows its durable progress', async () => {
  const s = setup();
  s.park('a', 1, 6, { nextAttemptAt: NOW + 1, appliedThrough: seq(3) });
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: target().t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]).toMatchObject({ outcome: 'not due', appliedThrough: seq(3) });
});

test('the parent shard is driven first even when the ledger lists the child shard first', async () => {
  const s = setup();
  const parent = 'shardId-000000000009';
  const stream: Stream = { [parent]: [{ n: 1, user: 'a' }], [SHARD]: [{ n: 10, user: 'a' }] };
  s.park('a', 10, 10, { after: [parent] });
  s.park('b', 10, 10); // a second child-shard entry waiting for nothing does not move the shard up
  s.park('a', 1, 1, { shardId: parent });
  const { t, applied } = target();
  const report = await redrive({
    ledger: s.ledger,
    source: source({ ...stream, [SHARD]: [...stream[SHARD]!, { n: 10, user: 'b' }] }).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied[0]).toBe(`a:${seq(1)}`);
  expect(report.entries.map((e) => [e.shardId, e.sk, e.outcome])).toEqual([
    [parent, userKey('a'), 'done'],
    [SHARD, userKey('a'), 'done'],
    [SHARD, userKey('b'), 'done'],
  ]);
});

test('an entry waits while any one of its ancestor shards still has an entry for the key', async () => {
  const s = setup();
  s.park('a', 10, 10, { after: [PARENT, 'shardId-000000000007'] });
  s.park('a', 1, 2, { shardId: PARENT, nextAttemptAt: NOW + 1 });
  const report = await redrive({
    ledger: s.ledger,
    source: source({ [SHARD]: [{ n: 10, user: 'a' }] }).src,
    target: target().t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.find((e) => e.shardId === SHARD)?.outcome).toBe('after ancestor');
});

test('an entry another re-driver holds gets no records and its claim is not touched, while the shard’s other entries are served', async () => {
  const s = setup();
  s.park('a', 1, 6, { claim: 'other', claimUntil: NOW + 60_000 });
  s.park('b', 2, 5);
  const { t, applied } = target();
  const release = jest.fn(s.ledger.release.bind(s.ledger));
  const report = await redrive({
    ledger: ledgerWith(s.ledger, { release }),
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied).toEqual([`b:${seq(2)}`, `b:${seq(5)}`]);
  expect(report.entries.map((e) => e.outcome)).toEqual(['claimed', 'done']);
  expect(release).not.toHaveBeenCalled();
  expect(s.get('a')).toMatchObject({ claim: 'other', claimUntil: NOW + 60_000 });
});

test('a claim that cannot be released is logged and the run goes on', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { logger, lines } = recordingLogger();
  const boom = new Error('release failed');
  const report = await redrive({
    ledger: ledgerWith(s.ledger, { release: async () => Promise.reject(boom) }),
    source: source(STREAM).src,
    target: target(() => new RedriveApplyError(FN, 1)).t,
    logger,
    now: s.now,
  });
  expect(report.entries[0]!.outcome).toBe('failed');
  expect(lines).toContainEqual({ level: 'warn', message: 'claim not released', context: { error: boom } });
});

test('a failed attempt is logged with the key, shard and where it resumes', async () => {
  const s = setup();
  s.park('a', 1, 6, { appliedThrough: seq(1) });
  const { logger, lines } = recordingLogger();
  const err = new RedriveApplyError(FN, 1);
  await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: target(() => err).t,
    logger,
    now: s.now,
  });
  expect(lines).toContainEqual({
    level: 'error',
    message: 're-drive failed; retried later',
    context: { key: userKey('a'), shardId: SHARD, from: seq(1), error: err },
  });
});

test('an expired range is logged as kept', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const { logger, lines } = recordingLogger();
  const report = await redrive({
    ledger: s.ledger,
    source: source({}).src,
    target: target().t,
    logger,
    now: s.now,
  });
  expect(report.entries[0]!.error).toContain(`record ${seq(1)} is no longer on the stream`);
  expect(lines.map((l) => l.message)).toContain('set-aside range no longer on the stream; entry kept');
});

test('a back-off that cannot be recorded is logged and the run goes on', async () => {
  const s = setup();
  s.park('a', 1, 6);
  s.park('b', 2, 5);
  const { logger, lines } = recordingLogger();
  const writeErr = new Error('write failed');
  const report = await redrive({
    ledger: ledgerWith(s.ledger, { reschedule: async () => Promise.reject(writeErr) }),
    source: source(STREAM).src,
    target: target((e) => (e.sk === userKey('a') ? new RedriveApplyError(FN, 1) : undefined)).t,
    logger,
    now: s.now,
  });
  expect(report.entries.map((e) => e.outcome)).toEqual(['failed', 'done']);
  expect(lines).toContainEqual({
    level: 'warn',
    message: 're-drive back-off not recorded',
    context: { key: userKey('a'), error: writeErr },
  });
});

test('a key’s records outside its own range are not applied, though the shared read covers them', async () => {
  const s = setup();
  s.park('a', 3, 3);
  s.park('b', 1, 5);
  const { t, applied } = target();
  await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied.filter((x) => x.startsWith('a:'))).toEqual([`a:${seq(3)}`]);
});

test('records the function found already applied are reported as unchanged', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const t: RedriveTarget = {
    select: (entry, page) => page.filter((r) => userKey(r.partitionKey) === entry.sk),
    apply: async (_e, records) => ({ applied: 0, unchanged: records.length }),
  };
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: t,
    logger: silentLogger,
  });
  expect(report.entries[0]).toMatchObject({ outcome: 'done', applied: 0, unchanged: 3 });
});

test('the shared read spans the earliest start through the latest end of the shard’s entries', async () => {
  const s = setup();
  s.park('a', 3, 7);
  s.park('b', 1, 5);
  const src = source({
    [SHARD]: [
      { n: 1, user: 'b' },
      { n: 3, user: 'a' },
      { n: 5, user: 'b' },
      { n: 7, user: 'a' },
    ],
  });
  await redrive({ ledger: s.ledger, source: src.src, target: target().t, logger: silentLogger, now: s.now });
  expect(src.reads).toEqual([{ shardId: SHARD, from: seq(1), to: seq(7) }]);
});

test('once every entry of the shard is caught up or failed, the rest of the range is not read', async () => {
  const s = setup();
  s.park('a', 1, 3);
  s.park('c', 4, 7);
  const src = source(STREAM, 2);
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: target((e) => (e.sk === userKey('c') ? new RedriveApplyError(FN, 1) : undefined)).t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.map((e) => e.outcome)).toEqual(['done', 'failed']);
  expect(report.recordsRead).toBe(4);
});

test('a run stopped mid-range reads no further and leaves entries it has not reached partial, not expired', async () => {
  const s = setup();
  s.park('a', 1, 6);
  s.park('c', 4, 7);
  const { t, applied } = target();
  const src = source(STREAM, 2);
  let pages = 0;
  const report = await redrive({
    ledger: s.ledger,
    source: src.src,
    target: {
      ...t,
      select: (e, page) => {
        if (e.sk === userKey('a')) pages += 1;
        return t.select(e, page);
      },
    },
    logger: silentLogger,
    now: s.now,
    shouldStop: () => pages >= 1,
  });
  expect(report.entries.map((e) => e.outcome)).toEqual(['partial', 'partial']);
  expect(applied).toEqual([`a:${seq(1)}`]);
  expect(src.reads).toHaveLength(1);
  expect(s.get('c')?.expired).toBeUndefined();
});

test('a source failure after an entry already failed counts one failed attempt for it, not two', async () => {
  const s = setup();
  s.park('a', 1, 1);
  s.park('c', 4, 7);
  const flaky: RangeSource = {
    async *pages(at, from, to) {
      let n = 0;
      for await (const page of source(STREAM, 2).src.pages(at, from, to)) {
        if (n++ === 1) throw awsError('ProvisionedThroughputExceededException');
        yield page;
      }
    },
  };
  const report = await redrive({
    ledger: s.ledger,
    source: flaky,
    target: target((e) => (e.sk === userKey('a') ? new RedriveApplyError(FN, 1) : undefined)).t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.map((e) => e.outcome)).toEqual(['failed', 'failed']);
  expect(s.get('a')?.redrives).toBe(1);
  expect(s.get('a')?.error).toContain('RedriveApplyError');
});

test('with no hand-over rounds, a caught-up entry is still removed', async () => {
  const s = setup();
  s.park('a', 1, 6);
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: target().t,
    logger: silentLogger,
    now: s.now,
    handOverRounds: 0,
  });
  expect(report.entries[0]!.outcome).toBe('done');
  expect(s.get('a')).toBeUndefined();
});

test('an entry whose last record has not been read is never removed', async () => {
  const s = setup();
  s.park('a', 1, 8); // record 8 is not on the stream yet
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM).src,
    target: target().t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries[0]).toMatchObject({ outcome: 'partial', appliedThrough: seq(6) });
  expect(s.get('a')).toMatchObject({ appliedThrough: seq(6), last: seq(8) });
});

test('an entry the live function removed before the re-drive could is done, and other keys are untouched', async () => {
  const s = setup();
  s.park('a', 1, 6, { nextAttemptAt: NOW + 1 });
  s.park('b', 2, 5);
  const report = await redrive({
    ledger: ledgerWith(s.ledger, {
      // The live function deletes the entry just before the re-drive's own removal.
      remove: async (e) => {
        await s.ledger.remove(e);
        return false;
      },
    }),
    source: source(STREAM).src,
    target: target().t,
    logger: silentLogger,
    now: s.now,
    handOverRounds: 1,
  });
  expect(report.entries.map((e) => [e.sk, e.outcome, e.last])).toEqual([
    [userKey('a'), 'not due', seq(6)],
    [userKey('b'), 'done', seq(5)],
  ]);
  expect(s.get('a')).toMatchObject({ last: seq(6) });
});

test('a caught-up entry found unchanged after a failed removal is not read again', async () => {
  const s = setup();
  s.park('a', 1, 1);
  s.db.failNext('DeleteCommand', awsError('ConditionalCheckFailedException'));
  const src = source(STREAM);
  await redrive({ ledger: s.ledger, source: src.src, target: target().t, logger: silentLogger, now: s.now });
  expect(src.reads).toHaveLength(1);
});

test('after the last hand-over round a key still outrunning the re-drive is not read again', async () => {
  const s = setup();
  const stream: Stream = { [SHARD]: Array.from({ length: 20 }, (_, i) => ({ n: i + 1, user: 'a' })) };
  s.park('a', 1, 1);
  let last = 1;
  const src = source(stream);
  await redrive({
    ledger: s.ledger,
    source: src.src,
    target: target(() => {
      last += 1;
      s.db.put(TABLE, { ...s.get('a')!, last: seq(last) });
      return undefined;
    }).t,
    logger: silentLogger,
    now: s.now,
    handOverRounds: 2,
  });
  expect(src.reads).toHaveLength(3);
});

test('an entry that failed gets no more of its records in the same run', async () => {
  const s = setup();
  s.park('a', 1, 6);
  s.park('c', 4, 7);
  let failed = false;
  const { t, applied } = target((e) => {
    if (e.sk !== userKey('a') || failed) return undefined;
    failed = true;
    return new RedriveApplyError(FN, 1);
  });
  const report = await redrive({
    ledger: s.ledger,
    source: source(STREAM, 2).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.map((e) => e.outcome)).toEqual(['failed', 'done']);
  expect(applied.filter((x) => x.startsWith('a:'))).toEqual([]);
});

test('a key’s records before its first and after its last are not applied, even in a page it shares', async () => {
  const s = setup();
  s.park('a', 3, 3);
  s.park('c', 1, 7);
  const { t, applied } = target();
  await redrive({
    ledger: s.ledger,
    source: source(STREAM, 3).src,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(applied.filter((x) => x.startsWith('a:'))).toEqual([`a:${seq(3)}`]);
});

test('a source failure during the hand-over ends the run; a caught-up entry not yet removed is left for the next run', async () => {
  const s = setup();
  s.park('a', 1, 1);
  s.park('b', 2, 2);
  let reads = 0;
  const flaky: RangeSource = {
    async *pages(at, from, to) {
      reads += 1;
      if (reads > 1) throw awsError('ProvisionedThroughputExceededException');
      yield* source(STREAM).src.pages(at, from, to);
    },
  };
  // The first removal (a's) meets a lost condition; meanwhile the live function adds a record of b.
  s.db.failNext('DeleteCommand', awsError('ConditionalCheckFailedException'));
  const { t } = target((e) => {
    if (e.sk === userKey('b')) s.db.put(TABLE, { ...s.get('b')!, last: seq(5) });
    return undefined;
  });
  const report = await redrive({
    ledger: s.ledger,
    source: flaky,
    target: t,
    logger: silentLogger,
    now: s.now,
  });
  expect(report.entries.map((e) => [e.sk, e.outcome])).toEqual([
    [userKey('a'), 'partial'],
    [userKey('b'), 'failed'],
  ]);
  expect(reads).toBe(2);
  expect(s.get('a')).toMatchObject({ appliedThrough: seq(1) });
});
