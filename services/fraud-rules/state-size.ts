/**
 * The rule-state item in bytes: the worst case the settings allow (checked at cold start) and
 * the trim applied before every write, so no write can fail for size (DynamoDB's 400 KB).
 */
import { ConfigError } from '../shared/errors.js';
import { MAX_ID_BYTES } from '../shared/event.js';
import { dropOldestHashes, EVENT_HASH_BYTES, MAX_SHARD_WATERMARKS } from '../shared/idempotency.js';
import {
  ITEM_BYTE_BUDGET,
  MAX_SEQUENCE_NUMBER,
  MAX_SHARD_ID,
  widestId,
  widestNumbers,
} from '../shared/item-size.js';
import { type FraudRules, type FraudState, newFraudState, RULE_NAMES } from './rules.js';

/**
 * The largest state the rules allow: ids MAX_ID_BYTES long in 4-byte characters, every list full,
 * every number at its widest, the longest shard ids and sequence numbers.
 */
export function worstCaseState(rules: FraudRules): FraudState {
  const id = widestId(MAX_ID_BYTES);
  return widestNumbers({
    ...newFraudState(id),
    watermarks: Array.from({ length: MAX_SHARD_WATERMARKS }, () => [MAX_SHARD_ID, MAX_SEQUENCE_NUMBER]),
    recentEventHashes: new Uint8Array(rules.maxRecentEventIds * EVENT_HASH_BYTES),
    // Every kept currency full (the codes are all three letters: which ones does not matter).
    recentPurchases: Array.from({ length: rules.maxRecentPurchases * rules.maxCurrencies }, () => ({
      eventId: id,
      timestamp: 0,
      amountMicros: 0,
      currency: 'XXX',
      country: 'XX',
    })),
    lastCountry: { country: 'XX', timestamp: 0, eventId: id },
    lastAlertAt: Object.fromEntries(RULE_NAMES.map((rule) => [rule, 0])),
  });
}

/** Fails the cold start, naming the settings, when they allow an item above the byte budget. */
export function checkStateBudget(
  rules: FraudRules,
  sizeOf: (state: FraudState) => number,
  budget = ITEM_BYTE_BUDGET,
  source = 'FRAUD_RULES',
): void {
  const worst = sizeOf(worstCaseState(rules));
  if (worst > budget) {
    throw new ConfigError(
      `${source}.maxRecentPurchases=${rules.maxRecentPurchases}, ${source}.maxCurrencies=${rules.maxCurrencies} and ${source}.maxRecentEventIds=${rules.maxRecentEventIds} allow a rule-state item of ${worst} bytes with ${MAX_ID_BYTES}-byte ids, above the ${budget}-byte budget: lower them`,
    );
  }
}

/**
 * The state trimmed until its item fits `budget`: first the oldest eventId hashes, then the
 * oldest kept purchases (the velocity rules then look at fewer, never at wrong ones).
 */
export function trimStateToBudget(
  state: FraudState,
  sizeOf: (state: FraudState) => number,
  budget = ITEM_BYTE_BUDGET,
): FraudState {
  let excess = sizeOf(state) - budget;
  if (excess <= 0) return state;
  const hashes = Math.min(
    state.recentEventHashes.length / EVENT_HASH_BYTES,
    Math.ceil(excess / EVENT_HASH_BYTES),
  );
  const trimmed: FraudState = {
    ...state,
    recentEventHashes: dropOldestHashes(state.recentEventHashes, hashes),
    recentPurchases: [...state.recentPurchases],
  };
  excess -= hashes * EVENT_HASH_BYTES;
  while (excess > 0 && trimmed.recentPurchases.length > 0) {
    trimmed.recentPurchases.shift();
    excess = sizeOf(trimmed) - budget;
  }
  return trimmed;
}
