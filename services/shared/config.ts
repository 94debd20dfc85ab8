/** Configuration read once from the environment; a missing or malformed value names itself. */
import { ConfigError } from './errors.js';
import { DEFAULT_MAX_EVENT_AHEAD_SECONDS, type DecodeOptions } from './kinesis.js';

export type Env = Record<string, string | undefined>;

export function requireString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required but not set`);
  }
  return value;
}

/**
 * A positive integer written in decimal digits; `max` bounds settings that size a DynamoDB item
 * (400 KB at most). Digits only: Number() would also take 0x10, 1e3 or 0b1, which nobody means.
 */
export function positiveInt(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(
      `environment variable ${name} must be a positive integer, got ${JSON.stringify(raw)}`,
    );
  }
  if (value > max) throw new ConfigError(`environment variable ${name} must be at most ${max}, got ${value}`);
  return value;
}

/**
 * Upper bound for the *_TTL_DAYS settings: ten years is past any retention Pulse needs, and it
 * keeps `expiresAt` (epoch seconds + days * 86400) a safe integer the document client will write.
 */
export const MAX_TTL_DAYS = 3650;

/** A retention in days, 1 … MAX_TTL_DAYS. */
export function ttlDays(env: Env, name: string, fallback: number): number {
  return positiveInt(env, name, fallback, MAX_TTL_DAYS);
}

export function jsonValue(env: Env, name: string): unknown {
  const raw = requireString(env, name);
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`environment variable ${name} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Upper bound for MAX_EVENT_AHEAD_SECONDS: a day ahead is a broken clock, not drift. */
export const MAX_EVENT_AHEAD_SECONDS_LIMIT = 86_400;

/**
 * MAX_EVENT_AHEAD_SECONDS: how far an event's time may be ahead of its record's arrival time.
 * Every function reads it, so all three judge the same record the same way.
 */
export function maxEventAheadSeconds(env: Env): number {
  const name = 'MAX_EVENT_AHEAD_SECONDS';
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_EVENT_AHEAD_SECONDS;
  const value = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value > MAX_EVENT_AHEAD_SECONDS_LIMIT) {
    throw new ConfigError(
      `environment variable ${name} must be an integer from 0 to ${MAX_EVENT_AHEAD_SECONDS_LIMIT} (seconds), got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** The shared decoder's settings, from the environment. */
export function decodeOptions(env: Env): DecodeOptions {
  return { maxEventAheadMs: maxEventAheadSeconds(env) * 1000 };
}
