/**
 * Sessions as pure state transitions: no I/O here, so every rule is unit-testable.
 *
 * Rules (see docs/event.md, "Sessions"):
 * - Records of a user are applied in sequence order; a record at or below the user's sequence
 *   watermark was applied before (re-delivery) and is skipped.
 * - An eventId seen among the user's recent eventIds is a producer duplicate and is skipped.
 * - Sessions follow event time: an event more than `timeoutMs` after the open session's last
 *   activity closes that session and opens a new one.
 * - An out-of-order (late) event never reopens a closed session: it is counted in the open session,
 *   which widens first/last activity and counts it in `lateEvents`. Aggregates stay exact.
 */
import type { PulseEvent } from '../shared/event.js';
import {
  dropOldestHashes,
  EVENT_HASH_BYTES,
  emptyIdempotency,
  firstDeliveries,
  type IdempotencyState,
} from '../shared/idempotency.js';
import type { ValidRecord } from '../shared/kinesis.js';
import { addMicros, type MoneyTotals, toMicros } from '../shared/money.js';

export interface Aggregates {
  eventCount: number;
  pageViews: number;
  productViews: number;
  addToCarts: number;
  purchases: number;
  /** Spend per currency in exact micro-units (decimal strings, see shared/money.ts); never mixed. */
  spent: MoneyTotals;
}

export interface Session extends Aggregates {
  /** The eventId of the session's first event: deterministic, so a recomputation gives the same id. */
  sessionId: string;
  firstActivity: number;
  lastActivity: number;
  lateEvents: number;
}

/** Idempotency: per-shard watermarks and at most `recentEventIdsLimit` eventId hashes. */
export interface UserState extends IdempotencyState {
  userId: string;
  /** Optimistic-lock version; 0 means the item does not exist yet. */
  version: number;
  /** Most recent first, distinct, at most `recentProductsLimit`. */
  recentProducts: string[];
  session?: Session;
  sessionCount: number;
  totals: Aggregates;
}

export interface SessionRules {
  timeoutMs: number;
  recentProductsLimit: number;
  recentEventIdsLimit: number;
}

export interface ApplyResult {
  state: UserState;
  /** Sessions this batch closed, oldest first. */
  closed: Session[];
  applied: number;
  duplicates: number;
  /** False when every record was at or below the watermark: there is nothing to write. */
  changed: boolean;
}

export function emptyAggregates(): Aggregates {
  return { eventCount: 0, pageViews: 0, productViews: 0, addToCarts: 0, purchases: 0, spent: {} };
}

export function newUserState(userId: string): UserState {
  return {
    userId,
    version: 0,
    ...emptyIdempotency(),
    recentProducts: [],
    sessionCount: 0,
    totals: emptyAggregates(),
  };
}

function count(aggregates: Aggregates, event: PulseEvent): void {
  aggregates.eventCount += 1;
  switch (event.eventType) {
    case 'page_view':
      aggregates.pageViews += 1;
      break;
    case 'product_view':
      aggregates.productViews += 1;
      break;
    case 'add_to_cart':
      aggregates.addToCarts += 1;
      break;
    case 'purchase':
      aggregates.purchases += 1;
      addMicros(aggregates.spent, event.data.currency as string, toMicros(event.data.amount as number));
      break;
    default:
      break;
  }
}

function openSession(event: PulseEvent): Session {
  return {
    ...emptyAggregates(),
    sessionId: event.eventId,
    firstActivity: event.timestamp,
    lastActivity: event.timestamp,
    lateEvents: 0,
  };
}

function rememberProduct(recent: string[], productId: string, limit: number): string[] {
  return [productId, ...recent.filter((p) => p !== productId)].slice(0, limit);
}

/** A copy deep enough that applying records never touches the caller's state (cheaper than structuredClone). */
function cloneState(state: UserState): UserState {
  const copy: UserState = {
    ...state,
    watermarks: [...state.watermarks],
    recentProducts: [...state.recentProducts],
    totals: { ...state.totals, spent: { ...state.totals.spent } },
  };
  if (state.session) copy.session = { ...state.session, spent: { ...state.session.spent } };
  return copy;
}

/** Applies a user's records (in sequence order) to their state; the input state is not modified. */
export function applyRecords(
  current: UserState,
  records: readonly ValidRecord[],
  rules: SessionRules,
): ApplyResult {
  const state = cloneState(current);
  const { fresh, duplicates, changed } = firstDeliveries(state, records, rules.recentEventIdsLimit);
  const closed: Session[] = [];

  for (const { event } of fresh) {
    let session = state.session;
    if (!session || event.timestamp - session.lastActivity > rules.timeoutMs) {
      if (session) closed.push(session);
      session = openSession(event);
      state.session = session;
      state.sessionCount += 1;
    } else if (event.timestamp < session.lastActivity) {
      session.lateEvents += 1;
      session.firstActivity = Math.min(session.firstActivity, event.timestamp);
    } else {
      session.lastActivity = event.timestamp;
    }
    count(session, event);
    count(state.totals, event);
    if (event.eventType === 'product_view') {
      state.recentProducts = rememberProduct(
        state.recentProducts,
        String(event.data.productId),
        rules.recentProductsLimit,
      );
    }
  }

  return { state, closed, applied: fresh.length, duplicates, changed };
}

/**
 * The state trimmed until `sizeOf` (its item's size) is at most `budget`: first the oldest
 * eventId hashes (a producer duplicate older than the rest is the least likely), then the oldest
 * recently viewed products. Aggregates and sessions are never trimmed. The cold-start check
 * (config.ts) makes this a safety net: at the configured limits the item already fits.
 */
export function trimToBudget(
  state: UserState,
  sizeOf: (state: UserState) => number,
  budget: number,
): UserState {
  let excess = sizeOf(state) - budget;
  if (excess <= 0) return state;
  const trimmed: UserState = { ...state, recentProducts: [...state.recentProducts] };
  const hashes = Math.min(
    trimmed.recentEventHashes.length / EVENT_HASH_BYTES,
    Math.ceil(excess / EVENT_HASH_BYTES),
  );
  trimmed.recentEventHashes = dropOldestHashes(trimmed.recentEventHashes, hashes);
  excess -= hashes * EVENT_HASH_BYTES;
  while (excess > 0 && trimmed.recentProducts.length > 0) {
    excess -= Buffer.byteLength(trimmed.recentProducts.pop() as string, 'utf8') + 1;
  }
  return trimmed;
}
