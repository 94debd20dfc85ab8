/**
 * The truth of a generated traffic: what the pipeline must end up with, computed from the events
 * with the functions' documented rules (30-minute sessions by event time, per-minute metrics by
 * event time). Tests compare DynamoDB, SNS and CloudWatch against it exactly.
 */
import type { PulseEvent } from '../../services/shared/event.js';
import { addMicros, type MoneyTotals, toMicros } from '../../services/shared/money.js';

export interface Counts {
  eventCount: number;
  pageViews: number;
  productViews: number;
  addToCarts: number;
  purchases: number;
  /** Per currency, exact micro-units as decimal strings (services/shared/money.ts). */
  spent: MoneyTotals;
}

export interface UserTruth {
  userId: string;
  sessionCount: number;
  totals: Counts;
  /** The open (last) session. */
  current: Counts & { firstActivity: number; lastActivity: number; sessionId: string };
  recentProducts: string[];
}

export interface AlertTruth {
  userId: string;
  rule: 'largePurchase' | 'purchaseVelocity' | 'spendVelocity' | 'countryHop';
  /** The purchase that triggers it. */
  eventId: string;
}

export interface MinuteTruth {
  events: number;
  purchases: number;
  revenue: MoneyTotals;
}

export interface Truth {
  events: number;
  byType: Record<string, number>;
  purchases: number;
  /** Per currency, exact micros. */
  revenue: MoneyTotals;
  users: Map<string, UserTruth>;
  sessionsOpened: number;
  sessionsClosed: number;
  alerts: AlertTruth[];
  /** product_view counts, most viewed first. */
  topProducts: Array<[string, number]>;
  /** Epoch ms of the minute → sums. */
  perMinute: Map<number, MinuteTruth>;
}

const empty = (): Counts => ({
  eventCount: 0,
  pageViews: 0,
  productViews: 0,
  addToCarts: 0,
  purchases: 0,
  spent: {},
});
const micros = (e: PulseEvent) => toMicros(e.data.amount as number);

function count(c: Counts, e: PulseEvent): void {
  c.eventCount += 1;
  if (e.eventType === 'page_view') c.pageViews += 1;
  else if (e.eventType === 'product_view') c.productViews += 1;
  else if (e.eventType === 'add_to_cart') c.addToCarts += 1;
  else if (e.eventType === 'purchase') {
    c.purchases += 1;
    addMicros(c.spent, e.data.currency as string, micros(e));
  }
}

/** Events must be listed in the order each user sends them (per-user event time ascending). */
export function computeTruth(
  events: readonly PulseEvent[],
  alerts: AlertTruth[],
  options: { sessionTimeoutMs?: number; recentProductsLimit?: number } = {},
): Truth {
  const timeout = options.sessionTimeoutMs ?? 30 * 60_000;
  const limit = options.recentProductsLimit ?? 20;
  const users = new Map<string, UserTruth>();
  const byType: Record<string, number> = {};
  const products = new Map<string, number>();
  const perMinute = new Map<number, MinuteTruth>();
  let purchases = 0;
  const revenue: MoneyTotals = {};
  for (const e of events) {
    byType[e.eventType] = (byType[e.eventType] ?? 0) + 1;
    const minute = Math.floor(e.timestamp / 60_000) * 60_000;
    const m = perMinute.get(minute) ?? { events: 0, purchases: 0, revenue: {} };
    m.events += 1;
    if (e.eventType === 'purchase') {
      purchases += 1;
      addMicros(revenue, e.data.currency as string, micros(e));
      m.purchases += 1;
      addMicros(m.revenue, e.data.currency as string, micros(e));
    }
    perMinute.set(minute, m);
    let u = users.get(e.userId);
    if (!u || e.timestamp - u.current.lastActivity > timeout) {
      const current = {
        ...empty(),
        firstActivity: e.timestamp,
        lastActivity: e.timestamp,
        sessionId: e.eventId,
      };
      if (!u) {
        u = { userId: e.userId, sessionCount: 0, totals: empty(), current, recentProducts: [] };
        users.set(e.userId, u);
      }
      u.current = current;
      u.sessionCount += 1;
    } else {
      u.current.lastActivity = Math.max(u.current.lastActivity, e.timestamp);
    }
    count(u.current, e);
    count(u.totals, e);
    if (e.eventType === 'product_view') {
      const id = String(e.data.productId);
      products.set(id, (products.get(id) ?? 0) + 1);
      u.recentProducts = [id, ...u.recentProducts.filter((p) => p !== id)].slice(0, limit);
    }
  }
  let opened = 0;
  for (const u of users.values()) opened += u.sessionCount;
  return {
    events: events.length,
    byType,
    purchases,
    revenue,
    users,
    sessionsOpened: opened,
    sessionsClosed: opened - users.size,
    alerts,
    topProducts: [...products.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    perMinute,
  };
}
