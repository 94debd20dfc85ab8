import { replayBatches } from '../../../cli/src/archive/replay.js';
import { timeOption } from '../../../cli/src/archive.js';
import type { ValidRecord } from '../../../services/shared/kinesis.js';
import { run } from './support.js';

test('bad input is refused before anything is read, naming the problem (exit 2)', async () => {
  for (const [args, message] of [
    [['archive', 'frob'], 'unknown action "frob"'],
    [
      ['archive', 'replay', '--from', '2026-13-45', '--to', '2026-12-01'],
      '--from must be YYYY-MM-DD or an ISO time',
    ],
    [['archive', 'replay', '--from', '2026-12-02', '--to', '2026-12-01'], '--to must be after --from'],
    [
      ['archive', 'query', 'nope', '--from', '2026-12-01', '--to', '2026-12-01'],
      'query needs a saved query name',
    ],
    [
      ['archive', 'replay', '--from', '2026-12-01', '--to', '2026-12-01', '--functions', 'metrics-emitter'],
      '--functions',
    ],
    [
      ['archive', 'query', 'events-per-day', '--env', 'prod', '--from', '2026-12-01', '--to', '2026-12-01'],
      '--bucket is required',
    ],
  ] as const) {
    const r = await run([...args]);
    expect({ args, code: r.code, says: r.stderr.includes(message) }).toEqual({ args, code: 2, says: true });
    expect(r.calls).toEqual([]);
  }
});

test('a bare day as --to means the end of that day', () => {
  expect(timeOption('--to', '2026-12-01', true)).toBe(Date.UTC(2026, 11, 2));
  expect(timeOption('--from', '2026-12-01', false)).toBe(Date.UTC(2026, 11, 1));
  expect(timeOption('--to', '2026-12-01T10:00:00Z', true)).toBe(Date.UTC(2026, 11, 1, 10));
});

test('replay batches: one shard each, parents (lower sequence numbers) first, records in order', () => {
  const r = (shardId: string, seq: number): ValidRecord => ({
    shardId,
    sequenceNumber: `49${String(seq).padStart(54, '0')}`,
    arrivalMs: 0,
    event: { eventId: `${shardId}-${seq}`, userId: 'u', eventType: 'page_view', timestamp: 0, data: {} },
  });
  const batches = replayBatches(
    [r('child', 9), r('parent', 2), r('child', 7), r('parent', 1), r('parent', 3)],
    2,
  );
  expect(batches.map((b) => b.map((x) => `${x.shardId}:${Number(x.sequenceNumber)}`))).toEqual([
    [`parent:${Number(r('p', 1).sequenceNumber)}`, `parent:${Number(r('p', 2).sequenceNumber)}`],
    [`parent:${Number(r('p', 3).sequenceNumber)}`],
    [`child:${Number(r('c', 7).sequenceNumber)}`, `child:${Number(r('c', 9).sequenceNumber)}`],
  ]);
});

test('try-rules: a lower threshold on the same past purchases raises more alerts, from an empty state', async () => {
  const { trialOf } = await import('../../../cli/src/archive/try-rules.js');
  const { parseRules } = await import('../../../services/fraud-rules/rules.js');
  const purchase = (i: number, amount: number): ValidRecord => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: `49${String(i).padStart(54, '0')}`,
    arrivalMs: Date.UTC(2026, 10, 20) + i * 3_600_000,
    event: {
      eventId: `p${i}`,
      userId: `u${i % 3}`,
      eventType: 'purchase',
      timestamp: Date.UTC(2026, 10, 20) + i * 3_600_000,
      data: { amount, currency: 'EUR', orderId: `o${i}` },
    },
  });
  const records = [purchase(1, 600), purchase(2, 1_200), purchase(3, 700), purchase(4, 90)];
  const deployed = trialOf(records, parseRules({ largePurchase: { threshold: 1_000 } }));
  const candidate = trialOf(records, parseRules({ largePurchase: { threshold: 500 } }));
  expect(deployed.byRule.largePurchase).toBe(1);
  expect(candidate.byRule.largePurchase).toBe(3);
  expect(candidate.alerts.map((a) => a.eventId).sort()).toEqual(['p1', 'p2', 'p3']);
  expect(candidate.purchases).toBe(4);
});
