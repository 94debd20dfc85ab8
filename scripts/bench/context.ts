/** What every measured area receives: the emulator, the sizes, and where to log and keep request breakdowns. */
import type { CostModel } from './cost.js';
import type { BenchEnv } from './env.js';
import type { BenchOptions } from './options.js';

export interface BenchContext {
  env: BenchEnv;
  options: BenchOptions;
  /** Request counts per service:command, keyed by measurement, from its last run. */
  breakdown: Record<string, Record<string, number>>;
  log(message: string): void;
  /** Set by the cost area: the per-event figures and dollars, written to cost-model.json. */
  cost?: CostModel;
}

/** Requests per 1,000 events. */
export const per1000 = (requests: number, events: number): number =>
  events === 0 ? 0 : (requests * 1000) / events;

/** Events per second. */
export const perSecond = (events: number, ms: number): number => (ms <= 0 ? 0 : (events * 1000) / ms);
