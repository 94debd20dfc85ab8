/** metrics-emitter settings, read once per cold start. */
import { decodeOptions, type Env, positiveInt, requireString } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { KNOWN_EVENT_TYPES } from '../shared/event.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import { isUsableDimensionValue, OTHER_EVENT_TYPE } from './windows.js';

export interface MetricsEmitterConfig {
  watermarksTable: string;
  namespace: string;
  environment: string;
  /** Distinct EventType dimension values per batch before the rest fold into `other`. */
  maxEventTypes: number;
  /**
   * The EventType values that get metrics of their own (EVENT_TYPES); every other type is counted
   * as `other`, so a producer sending random types cannot create metrics (each one is billed).
   */
  eventTypes: ReadonlySet<string>;
  /** eventIds remembered per shard to drop producer duplicates. */
  recentEventIdsLimit: number;
  /** How long after its first copy a producer retry is still recognised. */
  duplicateWindowSeconds: number;
  decode: DecodeOptions;
}

/** Parses EVENT_TYPES (comma-separated); unset means the four known types. */
export function eventTypeAllowList(env: Env, maxEventTypes: number): ReadonlySet<string> {
  const raw = env.EVENT_TYPES;
  if (raw === undefined || raw.trim() === '') return new Set(KNOWN_EVENT_TYPES);
  const types = raw.split(',').map((t) => t.trim());
  const bad = types.find((t) => t === '' || t === OTHER_EVENT_TYPE || !isUsableDimensionValue(t));
  if (bad !== undefined)
    throw new ConfigError(
      `EVENT_TYPES: ${JSON.stringify(bad)} cannot be an EventType dimension value (empty, "${OTHER_EVENT_TYPE}", or not a CloudWatch dimension value)`,
    );
  const set = new Set(types);
  if (set.size > maxEventTypes)
    throw new ConfigError(`EVENT_TYPES lists ${set.size} types, more than MAX_EVENT_TYPES=${maxEventTypes}`);
  return set;
}

export function loadConfig(env: Env): MetricsEmitterConfig {
  const maxEventTypes = positiveInt(env, 'MAX_EVENT_TYPES', 50);
  return {
    watermarksTable: requireString(env, 'WATERMARKS_TABLE'),
    namespace: env.METRICS_NAMESPACE?.trim() || 'Pulse',
    environment: requireString(env, 'ENVIRONMENT'),
    maxEventTypes,
    eventTypes: eventTypeAllowList(env, maxEventTypes),
    // 8-byte hashes: 20,000 of them are 160 KB, inside the 300 KB item budget (item-size.ts).
    recentEventIdsLimit: positiveInt(env, 'RECENT_EVENT_IDS_LIMIT', 5000, 20_000),
    // The producer's retries span seconds (back-off up to 5 s, SDK timeouts of 10 s): two minutes
    // covers them, and keeps the watermark item to the last two minutes of a shard's traffic.
    duplicateWindowSeconds: positiveInt(env, 'DUPLICATE_WINDOW_SECONDS', 120, 3_600),
    decode: decodeOptions(env),
  };
}
