/** Assertions that the pipeline's stores hold exactly the generated traffic's truth. */
import { metricSum, readSessions, scanTable } from '../../scripts/local/readback.js';
import type { Truth } from '../../scripts/traffic/truth.js';
import { microsToNumber } from '../../services/shared/money.js';
import type { Pipeline } from './pipeline.js';

const COUNT_FIELDS = ['eventCount', 'pageViews', 'productViews', 'addToCarts', 'purchases', 'spent'] as const;

function pick(
  source: Record<string, unknown> | undefined,
  fields: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, source?.[f]]));
}

/**
 * `productOrder: false` compares recently viewed products as a set: a producer that re-sends
 * failed records puts them on the stream after later ones, so arrival order differs from send order.
 */
export async function expectSessionsMatch(
  p: Pipeline,
  truth: Truth,
  options: { productOrder?: boolean } = {},
): Promise<void> {
  const products = (list: unknown) =>
    options.productOrder === false && Array.isArray(list) ? [...list].sort() : list;
  const sessions = await readSessions(p.clients, p.resources.tables.sessions!);
  expect(sessions.users).toBe(truth.users.size);
  expect(sessions.closedSessionItems).toBe(truth.sessionsClosed);
  expect(sessions.sessionsOpened).toBe(truth.sessionsOpened);
  const actual: Record<string, unknown> = {};
  const expected: Record<string, unknown> = {};
  for (const [userId, u] of truth.users) {
    const item = sessions.current.get(userId);
    const session = item?.session as Record<string, unknown> | undefined;
    actual[userId] = {
      sessionCount: item?.sessionCount,
      totals: pick(item?.totals as Record<string, unknown>, COUNT_FIELDS),
      current: {
        ...pick(session, COUNT_FIELDS),
        firstActivity: session?.firstActivity,
        lastActivity: session?.lastActivity,
      },
      recentProducts: products(item?.recentProducts),
    };
    expected[userId] = {
      sessionCount: u.sessionCount,
      totals: pick(u.totals as unknown as Record<string, unknown>, COUNT_FIELDS),
      current: {
        ...pick(u.current as unknown as Record<string, unknown>, COUNT_FIELDS),
        firstActivity: u.current.firstActivity,
        lastActivity: u.current.lastActivity,
      },
      recentProducts: products(u.recentProducts),
    };
  }
  expect(actual).toEqual(expected);
}

export async function expectAlertsMatch(p: Pipeline, truth: Truth): Promise<void> {
  const items = await scanTable(p.clients, p.resources.tables.alerts!);
  const got = items.map((i) => `${i.userId}|${i.rule}`).sort();
  expect(got).toEqual(truth.alerts.map((a) => `${a.userId}|${a.rule}`).sort());
}

export async function expectMetricsMatch(
  p: Pipeline,
  truth: Truth,
  extra: { invalid?: number } = {},
): Promise<void> {
  const minutes = [...truth.perMinute.keys()];
  const start = new Date(Math.min(...minutes) - 60_000);
  const end = new Date(Math.max(...minutes, Date.now()) + 120_000);
  const dims = { Environment: p.resources.environment };
  const read = (metric: string, extra: Record<string, string> = {}) =>
    metricSum(p.clients, {
      namespace: p.resources.metricsNamespace,
      metric,
      dimensions: { ...dims, ...extra },
      start,
      end,
    });
  const [events, purchases] = await Promise.all([read('Events'), read('Purchases')]);
  const revenue: Record<string, number> = {};
  for (const currency of Object.keys(truth.revenue))
    revenue[currency] = (await read('Revenue', { Currency: currency })).sum;
  expect({ events: events.sum, purchases: purchases.sum, revenue }).toEqual({
    events: truth.events,
    purchases: truth.purchases,
    revenue: Object.fromEntries(Object.entries(truth.revenue).map(([c, m]) => [c, microsToNumber(m)])),
  });
  if (extra.invalid !== undefined) expect((await read('InvalidRecords')).sum).toBe(extra.invalid);
}

/** Everything processed, nothing given up on. */
export function expectAllProcessed(p: Pipeline, records: number): void {
  for (const s of p.runner.stats()) {
    expect({ fn: s.fn, processed: s.processed, toDestination: s.sentToDestination }).toEqual({
      fn: s.fn,
      processed: records,
      toDestination: 0,
    });
  }
}
