/** session-updater settings, read once per cold start. */

import { decodeOptions, type Env, positiveInt, requireString, ttlDays } from '../shared/config.js';
import { ISO_4217_CODES } from '../shared/currencies.js';
import { ConfigError } from '../shared/errors.js';
import { MAX_ID_BYTES } from '../shared/event.js';
import { EVENT_HASH_BYTES, EVENT_TIME_BYTES, MAX_SHARD_WATERMARKS } from '../shared/idempotency.js';
import {
  ITEM_BYTE_BUDGET,
  itemBytes,
  MAX_SEQUENCE_NUMBER,
  MAX_SHARD_ID,
  widestId,
  widestNumbers,
} from '../shared/item-size.js';
import type { DecodeOptions } from '../shared/kinesis.js';
import { emptyAggregates, newUserState, type SessionRules, type UserState } from './sessions.js';
import { currentItem } from './store.js';

export interface SessionUpdaterConfig {
  tableName: string;
  invalidRecordsQueueUrl: string;
  closedSessionTtlDays: number;
  rules: SessionRules;
  decode: DecodeOptions;
}

export function loadConfig(env: Env): SessionUpdaterConfig {
  const config = {
    tableName: requireString(env, 'SESSIONS_TABLE'),
    invalidRecordsQueueUrl: requireString(env, 'INVALID_RECORDS_QUEUE_URL'),
    closedSessionTtlDays: ttlDays(env, 'CLOSED_SESSION_TTL_DAYS', 90),
    rules: {
      timeoutMs: positiveInt(env, 'SESSION_TIMEOUT_MINUTES', 30) * 60_000,
      recentProductsLimit: positiveInt(env, 'RECENT_PRODUCTS_LIMIT', 20, 100),
      // A producer's retries span seconds (back-off up to 5 s, SDK timeouts of 10 s); re-deliveries
      // are the watermarks' job. 16 hashes with their arrival seconds (192 bytes) keep a typical
      // item under 1 KB, one write unit; a user sending 16 events inside one retry span is a bot.
      recentEventIdsLimit: positiveInt(env, 'RECENT_EVENT_IDS_LIMIT', 16, 1_000),
      duplicateWindowSeconds: positiveInt(env, 'DUPLICATE_WINDOW_SECONDS', 120, 3_600),
    },
    decode: decodeOptions(env),
  };
  checkItemBudget(config.rules);
  return config;
}

/**
 * The largest CURRENT item the settings allow: a user who paid in every ISO 4217 currency, every id
 * MAX_ID_BYTES long in 4-byte characters, every list full, every number at its widest, the
 * longest shard ids and sequence numbers.
 */
export function worstCaseItemBytes(rules: SessionRules): number {
  const id = widestId(MAX_ID_BYTES);
  // Money is never trimmed, so the worst case holds a 40-digit micro-unit total for every currency
  // the schema accepts (a closed list, which is what keeps the maps bounded).
  const spent = Object.fromEntries([...ISO_4217_CODES].map((code) => [code, '9'.repeat(40)]));
  const session = {
    ...emptyAggregates(),
    spent,
    sessionId: id,
    firstActivity: 0,
    lastActivity: 0,
    lateEvents: 0,
  };
  const state: UserState = {
    ...newUserState(id),
    totals: { ...emptyAggregates(), spent },
    watermarks: Array.from({ length: MAX_SHARD_WATERMARKS }, () => [MAX_SHARD_ID, MAX_SEQUENCE_NUMBER]),
    recentEventHashes: new Uint8Array(rules.recentEventIdsLimit * EVENT_HASH_BYTES),
    recentEventSeconds: new Uint8Array(rules.recentEventIdsLimit * EVENT_TIME_BYTES),
    recentProducts: Array.from({ length: rules.recentProductsLimit }, () => id),
    session,
  };
  return itemBytes(widestNumbers(currentItem(state, 0)));
}

/** Fails the cold start, naming the settings, when they allow an item above the byte budget. */
export function checkItemBudget(rules: SessionRules, budget = ITEM_BYTE_BUDGET): void {
  const worst = worstCaseItemBytes(rules);
  if (worst > budget) {
    throw new ConfigError(
      `RECENT_PRODUCTS_LIMIT=${rules.recentProductsLimit} and RECENT_EVENT_IDS_LIMIT=${rules.recentEventIdsLimit} allow a session item of ${worst} bytes with ${MAX_ID_BYTES}-byte ids, above the ${budget}-byte budget: lower them`,
    );
  }
}
