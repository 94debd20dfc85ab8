import { type Handlers, run } from './support.js';

const current = {
  userId: 'u1',
  sk: 'CURRENT',
  recentProducts: ['sku-2', 'sku-1'],
  sessionCount: 3,
  totals: { eventCount: 40, purchases: 2, spent: { USD: '1250500000', EUR: '9990000' } },
  session: {
    sessionId: 'evt-9',
    firstActivity: Date.parse('2026-11-28T11:50:00Z'),
    lastActivity: Date.parse('2026-11-28T11:58:00Z'),
    eventCount: 4,
    pageViews: 1,
    productViews: 2,
    addToCarts: 1,
    purchases: 0,
    spent: {},
  },
};
const closed = {
  userId: 'u1',
  sk: 'SESSION#2026-11-27T10:00:00.000Z#evt-1',
  firstActivity: Date.parse('2026-11-27T10:00:00Z'),
  lastActivity: Date.parse('2026-11-27T10:20:00Z'),
  eventCount: 12,
  purchases: 1,
  spent: { USD: '1000000' },
};
const fraud = {
  userId: 'u1',
  recentPurchases: [{}, {}],
  lastCountry: { country: 'FR', timestamp: Date.parse('2026-11-28T11:40:00Z') },
  lastAlertAt: { largePurchase: Date.parse('2026-11-28T11:40:00Z') },
};
const alert = {
  alertId: 'largePurchase#e5',
  userId: 'u1',
  rule: 'largePurchase',
  severity: 'high',
  status: 'PENDING',
  createdAt: '2026-11-28T11:40:01.000Z',
  reason: 'One purchase of 1,250.50 USD.',
};

function tables(found = true): Handlers {
  return {
    GetCommand: (input) => {
      if (!found) return {};
      return { Item: input.TableName === 'pulse-local-sessions' ? current : fraud };
    },
    QueryCommand: () => ({ Items: found ? [closed] : [] }),
    ScanCommand: (input) =>
      input.TableName === 'pulse-local-replay-ledger'
        ? { Items: found ? ledger : [] }
        : { Items: found ? [alert] : [], ScannedCount: 7 },
  };
}

let ledger: Record<string, unknown>[] = [];
beforeEach(() => {
  ledger = [];
});

test('shows the open session, totals per currency, products, closed sessions, fraud state and alerts', async () => {
  const r = await run(['user', 'u1'], { handlers: tables() });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Open session evt-9 (last activity 2m ago)');
  expect(r.stdout).toContain('Totals: 3 sessions, 40 events, 2 purchases, spent USD 1,250.50, EUR 9.99');
  expect(r.stdout).toContain('Recently viewed: sku-2, sku-1');
  expect(r.stdout).toContain('Closed sessions (latest 1):');
  expect(r.stdout).toContain('12 events');
  expect(r.stdout).toContain('spent USD 1.00');
  expect(r.stdout).toContain('last country FR');
  expect(r.stdout).toContain('last alert per rule: largePurchase 2026-11-28T11:40:00Z');
  expect(r.stdout).toMatch(/HIGH\s+largePurchase\s+PENDING\s+One purchase of 1,250.50 USD\./);
  const query = r.calls.find((c) => c.command === 'QueryCommand')!;
  expect(query.input).toMatchObject({ ScanIndexForward: false, Limit: 5 });
});

test('--json carries the items; --no-alerts does not scan; --sessions bounds the query', async () => {
  const r = await run(['user', 'u1', '--json', '--no-alerts', '--sessions', '2'], { handlers: tables() });
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc).toMatchObject({
    userId: 'u1',
    found: true,
    current: { userId: 'u1' },
    fraudState: { userId: 'u1' },
  });
  expect(doc.alerts).toBeUndefined();
  expect(r.calls.some((c) => c.command === 'ScanCommand' && c.input.TableName === 'pulse-local-alerts')).toBe(
    false,
  );
  expect(r.calls.find((c) => c.command === 'QueryCommand')!.input.Limit).toBe(2);
});

test('a user set aside by a function says so, and since when; the ledger is read by namespaced key', async () => {
  ledger = [
    {
      pk: 'fraud-rules#shardId-000000000001',
      sk: 'u#u1',
      shardId: 'shardId-000000000001',
      status: 'parked',
      parkedAt: '2026-11-28T11:41:00.000Z',
      error: 'Error: bug',
    },
    {
      pk: 'session-updater#shardId-000000000001',
      sk: 'u#u1',
      status: 'failing',
      since: '2026-11-28T11:42:00.000Z',
      attempts: 2,
    },
  ];
  const r = await run(['user', 'u1'], { handlers: tables() });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(
    'SET ASIDE by fraud-rules since 2026-11-28T11:41:00.000Z (shard shardId-000000000001; re-drive pending; Error: bug)',
  );
  expect(r.stdout).toContain(
    'failing in session-updater since 2026-11-28T11:42:00.000Z (2 attempt(s); the shard retries)',
  );
  const scan = r.calls.find(
    (c) => c.command === 'ScanCommand' && c.input.TableName === 'pulse-local-replay-ledger',
  );
  expect(scan!.input).toMatchObject({ ExpressionAttributeValues: { ':sk': 'u#u1' }, ConsistentRead: true });
});

test('a user never set aside shows no ledger line', async () => {
  const r = await run(['user', 'u1'], { handlers: tables() });
  expect(r.stdout).not.toContain('SET ASIDE');
  expect(r.stdout).not.toContain('failure ledger not read');
});

test('an unknown user says so and exits 1', async () => {
  const r = await run(['user', 'ghost'], { handlers: tables(false) });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('user ghost: nothing stored');
});

test.each([
  [[], 'pulse user: missing the userId'],
  [['a', 'b'], 'unexpected argument "b"'],
  [['u1', '--sessions', '0'], '--sessions must be a whole number from 1 to 100, got "0"'],
  [['u1', '--sessions'], '--sessions'],
])('argument error %p', async (args, message) => {
  const r = await run(['user', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.calls).toEqual([]);
});
