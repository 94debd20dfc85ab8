/** Waiting between attempts, shared by every retry loop in the services and the producer. */

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Exponential back-off with full jitter before attempt `attempt` (2 is the first retry): a random
 * wait up to `baseMs · 2^(attempt-1)`, capped at `maxMs`, so retrying clients spread out.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  return random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
