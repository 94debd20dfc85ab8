/** Configuration read once from the environment; a missing or malformed value names itself. */
import { ConfigError } from './errors.js';

export type Env = Record<string, string | undefined>;

export function requireString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required but not set`);
  }
  return value;
}

/** A positive integer; `max` bounds settings that size a DynamoDB item (400 KB at most). */
export function positiveInt(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      `environment variable ${name} must be a positive integer, got ${JSON.stringify(raw)}`,
    );
  }
  if (value > max) throw new ConfigError(`environment variable ${name} must be at most ${max}, got ${value}`);
  return value;
}

export function jsonValue(env: Env, name: string): unknown {
  const raw = requireString(env, name);
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`environment variable ${name} is not valid JSON: ${(err as Error).message}`);
  }
}
