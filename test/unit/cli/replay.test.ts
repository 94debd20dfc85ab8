import { type Handlers, run } from './support.js';

const SHARD = 'shardId-000000000000';
const seq = (n: number) => `4968000000000000000000000000000000000000000000000000000${n}`;
const T = Date.parse('2026-11-28T11:00:00Z');

function record(n: number, userId: string) {
  const event = { eventId: `e${n}`, userId, eventType: 'page_view', timestamp: T + n, data: { page: '/' } };
  return {
    SequenceNumber: seq(n),
    PartitionKey: userId,
    Data: new TextEncoder().encode(JSON.stringify(event)),
    ApproximateArrivalTimestamp: new Date(T + n),
  };
}

function failureMessage(id: string, start: number, end: number, batchSize: number) {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: JSON.stringify({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      KinesisBatchInfo: {
        shardId: SHARD,
        startSequenceNumber: seq(start),
        endSequenceNumber: seq(end),
        batchSize,
      },
    }),
  };
}

/** Records 1..5 on the shard: u1 failed at 1 (batch 1..3), u1's record 5 was parked after it. */
function world(messages: object[], entries: object[]): Handlers {
  const records = [record(1, 'u1'), record(2, 'u2'), record(3, 'u1'), record(4, 'u2'), record(5, 'u1')];
  let served = false;
  return {
    ReceiveMessageCommand: () => {
      const out = served ? [] : messages;
      served = true;
      return { Messages: out };
    },
    ChangeMessageVisibilityCommand: () => ({}),
    QueryCommand: () => ({ Items: entries }),
    GetShardIteratorCommand: (input) => ({ ShardIterator: String(input.StartingSequenceNumber) }),
    GetRecordsCommand: (input) => ({
      Records: records.filter((r) => r.SequenceNumber >= String(input.ShardIterator)),
      MillisBehindLatest: 0,
    }),
  };
}

const entry = {
  pk: `session-updater#${SHARD}`,
  sk: 'u1',
  shardId: SHARD,
  first: seq(1),
  last: seq(5),
  failedAt: 'x',
};

test('--dry-run shows per message the ledger entries, what already took effect, and changes nothing', async () => {
  const r = await run(['replay', '--function', 'session-updater', '--dry-run'], {
    handlers: world([failureMessage('m1', 1, 3, 3)], [entry]),
  });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('session-updater (local): 1 on-failure message(s) — dry run, nothing changed');
  expect(r.stdout).toContain(
    `${SHARD} ${seq(1)}..${seq(3)} (3 record(s), RetryAttemptsExhausted): would replay`,
  );
  expect(r.stdout).toContain(
    `ledger u1 from ${seq(1)} through ${seq(5)}: 3 record(s) (2 in this batch, 1 parked after it)`,
  );
  expect(r.stdout).toContain('already took effect: 1; past retention: 0; unknown: 0');
  const writes = r.calls.filter((c) => /Delete|Update|Put|Send/.test(c.command));
  expect(writes).toEqual([]);
  // The message goes back to the queue at once.
  expect(r.calls.filter((c) => c.command === 'ChangeMessageVisibilityCommand')).toHaveLength(1);
});

test('a range without a ledger entry, records past retention and an unreadable message are reported and kept (exit 4)', async () => {
  const r = await run(['replay', '--function', 'session-updater', '--dry-run', '--json'], {
    handlers: world(
      [
        failureMessage('m1', 2, 4, 3),
        failureMessage('m2', 1, 5, 7),
        { MessageId: 'm3', ReceiptHandle: 'rh', Body: 'garbage' },
      ],
      [],
    ),
  });
  expect(r.code).toBe(4);
  const doc = JSON.parse(r.stdout);
  expect(doc.messages.map((m: { outcome: string }) => m.outcome)).toEqual(['kept', 'kept', 'unreadable']);
  expect(doc.messages[0]).toMatchObject({ unknown: 3, pastRetention: 0 });
  expect(doc.messages[0].note).toContain('no ledger entry');
  expect(doc.messages[1]).toMatchObject({ pastRetention: 2 });
  expect(doc.messages[1].note).toContain(
    `2 of 7 record(s) in ${seq(1)}..${seq(5)} are past the stream's retention`,
  );
  expect(doc.totals).toMatchObject({ messages: 3, unknown: 8, pastRetention: 2, kept: 3, deleted: 0 });
});

test('without --yes in a non-interactive shell nothing is replayed', async () => {
  const r = await run(['replay', '--function', 'session-updater'], {
    handlers: world([failureMessage('m1', 1, 3, 3)], [entry]),
  });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(
    'Replay 3 record(s) of 1 message(s) through session-updater in local? Refusing without --yes',
  );
  expect(r.calls.filter((c) => /Delete|Update|Put|Send/.test(c.command))).toEqual([]);
});

test('an empty queue is a clean no-op', async () => {
  const r = await run(['replay', '--function', 'metrics-emitter', '--yes', '--json'], {
    handlers: world([], []),
  });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).totals).toMatchObject({ messages: 0, applied: 0, deleted: 0 });
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
  [['--function', 'fraud-rules', '--limit', '0'], '--limit must be a whole number from 1 to 10000, got "0"'],
  [['--function'], '--function needs a value'],
  [['--function', 'fraud-rules', '--dry-run', '--drop-unresolved'], '--drop-unresolved does not go with it'],
])('argument error %p', async (args, message) => {
  const r = await run(['replay', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.calls).toEqual([]);
});

test('--drop-unresolved deletes the messages it cannot resolve, after printing them, only when confirmed', async () => {
  const messages = [
    failureMessage('m1', 2, 4, 3),
    { MessageId: 'm3', ReceiptHandle: 'rh-m3', Body: 'garbage' },
  ];
  const refused = await run(['replay', '--function', 'session-updater', '--drop-unresolved'], {
    handlers: world(messages, []),
  });
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('no ledger entry for this range');
  expect(refused.calls.filter((c) => c.command === 'DeleteMessageCommand')).toEqual([]);

  const r = await run(['replay', '--function', 'session-updater', '--drop-unresolved', '--yes', '--json'], {
    handlers: { ...world(messages, []), DeleteMessageCommand: () => ({}) },
  });
  expect(r.code).toBe(4); // the unknown records are still reported
  const doc = JSON.parse(r.stdout);
  expect(doc.messages.map((m: { outcome: string }) => m.outcome)).toEqual(['dropped', 'dropped']);
  expect(doc.totals).toMatchObject({ dropped: 2, kept: 0, unknown: 3 });
  expect(
    r.calls.filter((c) => c.command === 'DeleteMessageCommand').map((c) => c.input.ReceiptHandle),
  ).toEqual(['rh-m1', 'rh-m3']);
});
