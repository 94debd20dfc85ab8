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
  decode: DecodeOptions;
}

export function loadConfig(env: Env): MetricsEmitterConfig {
  return {
    watermarksTable: requireString(env, 'WATERMARKS_TABLE'),
    namespace: env.METRICS_NAMESPACE?.trim() || 'Pulse',
    environment: requireString(env, 'ENVIRONMENT'),
    maxEventTypes: positiveInt(env, 'MAX_EVENT_TYPES', 50),
    // 11-character hashes: 20,000 of them stay near 260 KB, under DynamoDB's 400 KB item limit.
    recentEventIdsLimit: positiveInt(env, 'RECENT_EVENT_IDS_LIMIT', 5000, 20_000),
    decode: decodeOptions(env),
  };
}
