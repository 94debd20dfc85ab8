import { minuteWeight, slidingWindow, windowNumbers, windowSum } from '../../../scripts/metrics/window.js';
import { MINUTE, T0 } from '../../helpers/records.js';

const FIVE = 5 * MINUTE;

describe('slidingWindow', () => {
  it('ends at the last 30-second boundary', () => {
    expect(slidingWindow(new Date(T0 + 10 * MINUTE + 44_999), FIVE)).toEqual({
      start: new Date(T0 + 5 * MINUTE + 30_000),
      end: new Date(T0 + 10 * MINUTE + 30_000),
    });
    expect(slidingWindow(new Date(T0 + 10 * MINUTE), FIVE)).toEqual({
      start: new Date(T0 + 5 * MINUTE),
      end: new Date(T0 + 10 * MINUTE),
    });
  });

  it('slides by 30 seconds', () => {
    const a = slidingWindow(new Date(T0 + 29_999), FIVE);
    const b = slidingWindow(new Date(T0 + 30_000), FIVE);
    expect(b.end.getTime() - a.end.getTime()).toBe(30_000);
  });
});

describe('minuteWeight', () => {
  const window = { start: new Date(T0 + 30_000), end: new Date(T0 + 5 * MINUTE + 30_000) };
  const later = T0 + 60 * MINUTE;

  it('counts minutes inside the window in full and cut minutes pro rata', () => {
    expect(minuteWeight(T0, window, later)).toBe(0.5);
    expect(minuteWeight(T0 + MINUTE, window, later)).toBe(1);
    expect(minuteWeight(T0 + 5 * MINUTE, window, later)).toBe(0.5);
    expect(minuteWeight(T0 + 6 * MINUTE, window, later)).toBe(0);
    expect(minuteWeight(T0 - MINUTE, window, later)).toBe(0);
  });

  it('counts the minute in progress by its elapsed part', () => {
    // Now is 12:05:40; the window ends at 12:05:30, so 30 of the 40 elapsed seconds are inside.
    expect(minuteWeight(T0 + 5 * MINUTE, window, T0 + 5 * MINUTE + 40_000)).toBe(0.75);
    // Now is the window end: everything the minute has so far is inside.
    expect(minuteWeight(T0 + 5 * MINUTE, window, T0 + 5 * MINUTE + 30_000)).toBe(1);
  });
});

describe('windowNumbers', () => {
  const window = { start: new Date(T0), end: new Date(T0 + FIVE) };
  const now = T0 + 60 * MINUTE;

  it('gives per-minute rates and, per currency, revenue / that currency’s purchases as the average order value', () => {
    const minutes = [0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE);
    const numbers = windowNumbers(
      {
        events: new Map(minutes.map((m, i) => [m, 100 + i * 10])), // 100..140 = 600
        purchases: new Map([
          [T0, 3],
          [T0 + 3 * MINUTE, 3],
        ]),
        revenue: new Map([
          [
            'USD',
            new Map([
              [T0, 80],
              [T0 + 3 * MINUTE, 170],
            ]),
          ],
          ['EUR', new Map([[T0, 30]])],
        ]),
        orders: new Map([
          [
            'USD',
            new Map([
              [T0, 2],
              [T0 + 3 * MINUTE, 3],
            ]),
          ],
          ['EUR', new Map([[T0, 1]])],
        ]),
      },
      window,
      now,
    );
    expect(numbers).toEqual({
      eventsPerMinute: 120,
      purchasesPerMinute: 1.2,
      byCurrency: {
        EUR: { revenuePerMinute: 6, averageOrderValue: 30 },
        USD: { revenuePerMinute: 50, averageOrderValue: 50 },
      },
    });
  });

  it('reports no average order value without purchases', () => {
    const numbers = windowNumbers(
      {
        events: new Map([[T0, 10]]),
        purchases: new Map(),
        revenue: new Map([['USD', new Map()]]),
        orders: new Map(),
      },
      window,
      now,
    );
    expect(numbers).toEqual({
      eventsPerMinute: 2,
      purchasesPerMinute: 0,
      byCurrency: { USD: { revenuePerMinute: 0, averageOrderValue: null } },
    });
  });

  it('ignores minutes outside the window', () => {
    const series = new Map([
      [T0 - MINUTE, 1_000],
      [T0 + 2 * MINUTE, 10],
      [T0 + FIVE, 1_000],
    ]);
    expect(windowSum(series, window, now)).toBe(10);
  });
});
