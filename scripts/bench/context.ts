/** What every measured area receives: the emulator, the sizes, and where to log and keep request breakdowns. */
import type { BenchEnv } from './env.js';
import type { BenchOptions } from './options.js';

export interface BenchContext {
  env: BenchEnv;
  options: BenchOptions;
  /** Request counts per service:command, keyed by measurement, from its last run. */
  breakdown: Record<string, Record<string, number>>;
  log(message: string): void;
}

/** Requests per 1,000 events. */
export const per1000 = (requests: number, events: number): number =>
  events === 0 ? 0 : (requests * 1000) / events;

/** Events per second. */
export const perSecond = (events: number, ms: number): number => (ms <= 0 ? 0 : (events * 1000) / ms);
