/** The rates every measured area reports in (the context each receives, BenchContext, is in types.ts). */

/** Requests per 1,000 events. */
export const per1000 = (requests: number, events: number): number =>
  events === 0 ? 0 : (requests * 1000) / events;

/** Events per second. */
export const perSecond = (events: number, ms: number): number => (ms <= 0 ? 0 : (events * 1000) / ms);
