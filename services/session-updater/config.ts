/** session-updater settings, read once per cold start. */
import { decodeOptions, type Env, positiveInt, requireString } from '../shared/config.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import type { SessionRules } from './sessions.js';

export interface SessionUpdaterConfig {
  tableName: string;
  invalidRecordsQueueUrl: string;
  closedSessionTtlDays: number;
  rules: SessionRules;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): SessionUpdaterConfig {
  return {
    tableName: requireString(env, 'SESSIONS_TABLE'),
    invalidRecordsQueueUrl: requireString(env, 'INVALID_RECORDS_QUEUE_URL'),
    closedSessionTtlDays: positiveInt(env, 'CLOSED_SESSION_TTL_DAYS', 90),
    rules: {
      timeoutMs: positiveInt(env, 'SESSION_TIMEOUT_MINUTES', 30) * 60_000,
      // Bounds keep the CURRENT item far below 400 KB even with 256-character ids.
      recentProductsLimit: positiveInt(env, 'RECENT_PRODUCTS_LIMIT', 20, 100),
      recentEventIdsLimit: positiveInt(env, 'RECENT_EVENT_IDS_LIMIT', 200, 1_000),
    },
    decode: decodeOptions(env),
  };
}
