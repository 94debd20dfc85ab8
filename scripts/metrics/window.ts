/**
 * The seed's sliding window (5-minute window, 30-second slide) on per-minute CloudWatch data.
 *
 * The window ends at the last 30-second boundary. CloudWatch keeps one value per minute, so a
 * minute the window only partly covers counts pro rata, assuming its data is spread evenly over
 * the part of the minute that has happened: the minute in progress (data up to "now") counts in
 * full when the window covers all of its elapsed part.
 */
import { SLIDE_MS } from './args.js';

export const MINUTE_MS = 60_000;

export interface Window {
  start: Date;
  end: Date;
}

/** The window of length `windowMs` ending at the last slide boundary at or before `at`. */
export function slidingWindow(at: Date, windowMs: number, slideMs = SLIDE_MS): Window {
  const end = Math.floor(at.getTime() / slideMs) * slideMs;
  return { start: new Date(end - windowMs), end: new Date(end) };
}

/** The share of the minute starting at `minute` whose data falls inside the window. */
export function minuteWeight(minute: number, window: Window, nowMs: number): number {
  // Data of a minute still in progress covers only its elapsed part; a minute in the future (clock
  // skew) is taken as a whole minute.
  const dataEnd = nowMs > minute && nowMs < minute + MINUTE_MS ? nowMs : minute + MINUTE_MS;
  const overlap = Math.min(dataEnd, window.end.getTime()) - Math.max(minute, window.start.getTime());
  return overlap <= 0 ? 0 : overlap / (dataEnd - minute);
}

/** Sum of a per-minute series over the window, partial minutes pro rata. */
export function windowSum(series: ReadonlyMap<number, number>, window: Window, nowMs: number): number {
  let total = 0;
  for (const [minute, value] of series) total += value * minuteWeight(minute, window, nowMs);
  return total;
}

/** Money numbers of one currency: revenue in two currencies never adds up. */
export interface CurrencyNumbers {
  revenuePerMinute: number;
  /** Revenue / purchases in this currency over the window; null when there were none. */
  averageOrderValue: number | null;
}

export interface WindowNumbers {
  eventsPerMinute: number;
  purchasesPerMinute: number;
  /** ISO 4217 code -> its numbers, for every currency with purchases in the series. */
  byCurrency: Record<string, CurrencyNumbers>;
}

/** Per-minute series; `revenue` and `orders` (purchases counted per currency) are by currency. */
export interface WindowSeries {
  events: ReadonlyMap<number, number>;
  purchases: ReadonlyMap<number, number>;
  revenue: ReadonlyMap<string, ReadonlyMap<number, number>>;
  orders: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

export function windowNumbers(series: WindowSeries, window: Window, nowMs: number): WindowNumbers {
  const minutes = (window.end.getTime() - window.start.getTime()) / MINUTE_MS;
  const events = windowSum(series.events, window, nowMs);
  const purchases = windowSum(series.purchases, window, nowMs);
  const byCurrency: Record<string, CurrencyNumbers> = {};
  for (const [currency, perMinute] of [...series.revenue].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const revenue = windowSum(perMinute, window, nowMs);
    const orders = windowSum(series.orders.get(currency) ?? new Map(), window, nowMs);
    byCurrency[currency] = {
      revenuePerMinute: revenue / minutes,
      averageOrderValue: orders > 0 ? revenue / orders : null,
    };
  }
  return { eventsPerMinute: events / minutes, purchasesPerMinute: purchases / minutes, byCurrency };
}
