import type { CliIO } from '../../../cli/src/command.js';
import { runCli } from '../../../cli/src/pulse.js';
import { loadResources } from '../../../lib/config.js';
import { CallLog, FakeDynamo, FakeSns } from '../../helpers/fake-dynamo.js';
import { fakeTarget, run } from './support.js';

const ALERTS = 'pulse-local-alerts';
const NOW = Date.parse('2026-11-28T12:00:00Z');

function alert(n: number, minutesAgo: number, status: 'PENDING' | 'SENT' = 'PENDING') {
  return {
    alertId: `largePurchase#evt-${n}`,
    rule: 'largePurchase',
    severity: 'high',
    userId: `user-${n}`,
    eventId: `evt-${n}`,
    orderId: `order-${n}`,
    amount: 1500,
    currency: 'USD',
    eventTime: NOW - minutesAgo * 60_000,
    shardId: 'shardId-000000000001',
    sequenceNumber: String(4960 + n),
    reason: 'A purchase of 1,500.00 USD is above the large-purchase threshold of 1,000.00.',
    threshold: 'amount > 1,000.00',
    status,
    ...(status === 'PENDING' ? { outbox: 'PENDING' } : { sentAt: 'earlier' }),
    environment: 'local',
    createdAt: new Date(NOW - minutesAgo * 60_000).toISOString(),
  };
}

function world() {
  const log = new CallLog();
  const db = new FakeDynamo({ [ALERTS]: 'alertId' }, log, {
    [ALERTS]: loadResources().tables.alerts?.globalSecondaryIndexes ?? [],
  });
  const sns = new FakeSns(log);
  db.put(ALERTS, alert(1, 30));
  db.put(ALERTS, alert(2, 20));
  db.put(ALERTS, alert(3, 1)); // younger than the 2-minute lease: its batch is still on it
  db.put(ALERTS, alert(4, 40, 'SENT'));
  return { db, sns };
}

async function alerts(argv: string[], w: ReturnType<typeof world>, interactive = false) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive,
    env: {},
    ask: async () => 'n',
    connect: async () => ({ ...fakeTarget({}), db: w.db.asClient(), sns: w.sns as never }),
    now: () => NOW,
  };
  const code = await runCli(['alerts', ...argv], io);
  return { code, stdout, stderr };
}

test('pending lists PENDING alerts oldest first through the sparse index; --json carries the items', async () => {
  const w = world();
  const r = await alerts(['pending'], w);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('3 PENDING alert(s) in pulse-local-alerts');
  const lines = r.stdout.trim().split('\n').slice(1);
  expect(lines.map((l) => l.trim().split(/\s+/).pop())).toEqual([
    'largePurchase#evt-1',
    'largePurchase#evt-2',
    'largePurchase#evt-3',
  ]);
  expect(lines[0]).toMatch(/30m ago\s+HIGH\s+largePurchase\s+user-1/);
  expect(w.db.count('Query', ALERTS)).toBe(1);
  const json = await alerts(['pending', '--json'], w);
  expect(JSON.parse(json.stdout).map((a: { alertId: string }) => a.alertId)).toHaveLength(3);
});

test('republish without --yes in a non-interactive shell, or answered "n", publishes nothing', async () => {
  const w = world();
  const r = await alerts(['republish'], w);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain('Republish 2 PENDING alert(s) to pulse-local-alerts? Refusing without --yes');
  const n = await alerts(['republish'], w, true);
  expect(n.code).toBe(3);
  expect(w.sns.published).toHaveLength(0);
});

test('republish --yes publishes each alert past the lease once and marks it SENT; a second run publishes nothing', async () => {
  const w = world();
  const r = await alerts(['republish', '--yes'], w);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('found 2, published 2, skipped 0');
  expect(w.sns.published.map((p) => p.MessageAttributes?.rule?.StringValue)).toEqual([
    'largePurchase',
    'largePurchase',
  ]);
  expect(w.db.item(ALERTS, 'largePurchase#evt-1')).toMatchObject({ status: 'SENT' });
  expect(w.db.item(ALERTS, 'largePurchase#evt-1')?.outbox).toBeUndefined();
  expect(w.db.item(ALERTS, 'largePurchase#evt-3')).toMatchObject({ status: 'PENDING' });
  const again = await alerts(['republish', '--yes', '--json'], w);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ found: 0, published: 0 });
  expect(w.sns.published).toHaveLength(2);
});

test('--older-than chooses the age; an SNS failure stops the run and exits 1', async () => {
  const w = world();
  const none = await alerts(['republish', '--older-than', '1h', '--yes'], w);
  expect(none.code).toBe(0);
  expect(none.stdout).toContain('No PENDING alert older than 60m');
  w.sns.send = async () => {
    throw Object.assign(new Error('Topic is unavailable'), { name: 'InternalErrorException' });
  };
  const failing = await alerts(['republish', '--older-than', '0s', '--yes'], w);
  expect(failing.code).toBe(1);
  expect(failing.stdout).toContain('SNS still fails');
  expect(w.db.items(ALERTS).filter((a) => a.status === 'PENDING')).toHaveLength(3);
});

function parked(n: number, minutesAgo: number) {
  // Parking removes the outbox key, which takes the alert out of the pending index.
  const rest = Object.fromEntries(Object.entries(alert(n, minutesAgo)).filter(([k]) => k !== 'outbox'));
  return {
    ...rest,
    status: 'FAILED',
    failedAt: new Date(NOW - 60_000).toISOString(),
    publishAttempts: 5,
    lastError: `InvalidParameter: message ${n} too long`,
  };
}

test('pending --status FAILED lists the parked alerts oldest first, with attempts and last error, over every Scan page', async () => {
  const w = world();
  w.db.put(ALERTS, parked(5, 50));
  w.db.put(ALERTS, parked(6, 60));
  w.db.scanPageSize = 5; // 6 items: two pages, evt-5 on the first and evt-6 on the second
  const r = await alerts(['pending', '--status', 'FAILED'], w);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('2 FAILED alert(s) in pulse-local-alerts');
  const lines = r.stdout.trim().split('\n').slice(1);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(
    /HIGH\s+largePurchase\s+user-6\s+largePurchase#evt-6\s+attempts 5\s+InvalidParameter: message 6 too long/,
  );
  expect(lines[1]).toContain('largePurchase#evt-5');
  expect(w.db.count('Scan', ALERTS)).toBe(2);
  expect(w.db.count('Query', ALERTS)).toBe(0);
  expect(r.stdout).not.toContain('evt-1 ');

  const json = await alerts(['pending', '--status', 'FAILED', '--json'], w);
  const items = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
  expect(items.map((a) => [a.alertId, a.status, a.publishAttempts, a.lastError])).toEqual([
    ['largePurchase#evt-6', 'FAILED', 5, 'InvalidParameter: message 6 too long'],
    ['largePurchase#evt-5', 'FAILED', 5, 'InvalidParameter: message 5 too long'],
  ]);
});

test('pending --status FAILED with none parked says so; --status PENDING is the default listing', async () => {
  const w = world();
  const none = await alerts(['pending', '--status', 'FAILED'], w);
  expect(none.code).toBe(0);
  expect(none.stdout.trim()).toBe('0 FAILED alert(s) in pulse-local-alerts');
  const explicit = await alerts(['pending', '--status', 'PENDING'], w);
  expect(explicit.stdout).toBe((await alerts(['pending'], w)).stdout);
});

test.each([
  [[], 'pulse alerts: missing what to do: pending or republish'],
  [['resend'], 'unknown action "resend"; use pending or republish'],
  [
    ['republish', '--older-than', 'ten'],
    '--older-than must be a duration like 90s, 10m, 2h or 1d, got "ten"',
  ],
  [['pending', '--yes'], '--older-than and --yes belong to republish'],
  [['pending', '--limit', '-3'], '--limit'],
  [['pending', '--status', 'SENT'], '--status must be PENDING or FAILED, got "SENT"'],
  [['pending', '--status', 'failed'], '--status must be PENDING or FAILED, got "failed"'],
  [['republish', '--status', 'FAILED', '--yes'], '--status belongs to pending'],
])('argument error %p', async (args, message) => {
  const r = await run(['alerts', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.calls).toEqual([]);
});
