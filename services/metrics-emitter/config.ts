/** metrics-emitter settings, read once per cold start. */
import { decodeOptions, type Env, positiveInt, requireString } from '../shared/config.js';
import type { DecodeOptions } from '../shared/kinesis.js';

export interface MetricsEmitterConfig {
  watermarksTable: string;
  namespace: string;
  environment: string;
  /** Distinct EventType dimension values per batch before the rest fold into `other`. */
  maxEventTypes: number;
  /** eventIds remembered per shard to drop producer duplicates. */
  recentEventIdsLimit: number;
  /** How long after its first copy a producer retry is still recognised. */
  duplicateWindowSeconds: number;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): MetricsEmitterConfig {
  return {
    watermarksTable: requireString(env, 'WATERMARKS_TABLE'),
    namespace: env.METRICS_NAMESPACE?.trim() || 'Pulse',
    environment: requireString(env, 'ENVIRONMENT'),
    maxEventTypes: positiveInt(env, 'MAX_EVENT_TYPES', 50),
    // 8-byte hashes: 20,000 of them are 160 KB, inside the 300 KB item budget (item-size.ts).
    recentEventIdsLimit: positiveInt(env, 'RECENT_EVENT_IDS_LIMIT', 5000, 20_000),
    // The producer's retries span seconds (back-off up to 5 s, SDK timeouts of 10 s): two minutes
    // covers them, and keeps the watermark item to the last two minutes of a shard's traffic.
    duplicateWindowSeconds: positiveInt(env, 'DUPLICATE_WINDOW_SECONDS', 120, 3_600),
    decode: decodeOptions(env),
  };
}
