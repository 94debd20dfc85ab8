/**
 * The Pulse event and its schema. Validation is hand-written rather than a schema library: it is
 * on the hot path of all three functions, and a direct check costs little more than JSON.parse.
 */

import { isCountryCode } from './countries.js';
import { isCurrencyCode } from './currencies.js';
import { hasMoneyScale, MONEY_SCALE } from './money.js';

/**
 * The newest event schema version this code understands. Adding an optional field, a new event
 * type or a new key inside `data` is compatible and keeps the version; removing or retyping a
 * field, or making one required, is breaking and bumps it, with consumers deployed first.
 */
export const SCHEMA_VERSION = 1;

export const KNOWN_EVENT_TYPES = ['page_view', 'product_view', 'add_to_cart', 'purchase'] as const;
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];

export interface BaseEvent {
  eventId: string;
  userId: string;
  eventType: string;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  data: Record<string, unknown>;
  /** Schema version the producer wrote; absent means 1 (see docs/event.md, schema versions). */
  schemaVersion?: number;
}

export interface PurchaseData {
  amount: number;
  currency: string;
  orderId: string;
  country?: string;
  [key: string]: unknown;
}

export interface PurchaseEvent extends BaseEvent {
  eventType: 'purchase';
  data: PurchaseData;
}

export type PulseEvent = BaseEvent;

export type Validation = { ok: true; event: PulseEvent } | { ok: false; reason: string };

/**
 * Ids are bounded in UTF-8 bytes, the unit DynamoDB sizes items in, so the worst-case item can be
 * computed from the configured limits whatever script an id is written in.
 */
export const MAX_ID_BYTES = 128;
/**
 * Amounts DynamoDB and CloudWatch can store exactly and sum without leaving the safe-integer range
 * (the document client refuses larger numbers); anything outside is a producer bug, not a sale.
 */
export const MAX_AMOUNT = 1_000_000_000;
export const MIN_NONZERO_AMOUNT = 0.000_001;
// Event times outside this range are almost certainly seconds-vs-milliseconds mistakes.
export const MIN_TIMESTAMP = Date.UTC(2000, 0, 1);
export const MAX_TIMESTAMP = Date.UTC(2100, 0, 1);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  // Cheap pre-check: a UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no count.
  if (value.length * 3 > MAX_ID_BYTES && Buffer.byteLength(value, 'utf8') > MAX_ID_BYTES) {
    return `must be at most ${MAX_ID_BYTES} bytes (UTF-8)`;
  }
  // A lone surrogate (half of a pair, e.g. an emoji cut in two) has no UTF-8 form: DynamoDB and
  // SQS refuse it, so an id carrying one would fail every write for that user. (isWellFormed is
  // constant time for the usual one-byte string.)
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

function checkData(eventType: string, data: Record<string, unknown>): string | undefined {
  switch (eventType) {
    case 'product_view': {
      const problem = idProblem(data.productId);
      return problem ? `data.productId ${problem}` : undefined;
    }
    case 'purchase': {
      const { amount, currency, orderId, country } = data;
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
        return 'data.amount must be a finite number >= 0';
      }
      if (amount > MAX_AMOUNT || (amount > 0 && amount < MIN_NONZERO_AMOUNT)) {
        return `data.amount must be 0 or between ${MIN_NONZERO_AMOUNT} and ${MAX_AMOUNT}`;
      }
      // Money is kept exact in micro-units (shared/money.ts): a 7th decimal would be silently lost.
      if (!hasMoneyScale(amount)) return `data.amount must have at most ${MONEY_SCALE} decimal places`;
      if (!isCurrencyCode(currency)) return 'data.currency must be an ISO 4217 currency code';
      const orderProblem = idProblem(orderId);
      if (orderProblem) return `data.orderId ${orderProblem}`;
      if (country !== undefined && !isCountryCode(country)) {
        return 'data.country must be an ISO 3166-1 alpha-2 country code when present';
      }
      return undefined;
    }
    default:
      // page_view, add_to_cart and unknown types carry free-form data.
      return undefined;
  }
}

/** Checks a parsed JSON value against the event schema; unknown event types are valid. */
export function validateEvent(value: unknown): Validation {
  if (!isPlainObject(value)) return { ok: false, reason: 'event must be a JSON object' };
  for (const field of ['eventId', 'userId', 'eventType'] as const) {
    const problem = idProblem(value[field]);
    if (problem) return { ok: false, reason: `${field} ${problem}` };
  }
  const { timestamp } = value;
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp)) {
    return { ok: false, reason: 'timestamp must be an integer (epoch milliseconds)' };
  }
  if (timestamp < MIN_TIMESTAMP || timestamp >= MAX_TIMESTAMP) {
    return { ok: false, reason: 'timestamp must be epoch milliseconds between 2000 and 2100' };
  }
  const { schemaVersion } = value;
  if (
    schemaVersion !== undefined &&
    (typeof schemaVersion !== 'number' ||
      !Number.isInteger(schemaVersion) ||
      schemaVersion < 1 ||
      schemaVersion > SCHEMA_VERSION)
  ) {
    return { ok: false, reason: `schemaVersion must be an integer from 1 to ${SCHEMA_VERSION} when present` };
  }
  const data = value.data === undefined ? {} : value.data;
  if (!isPlainObject(data)) return { ok: false, reason: 'data must be an object when present' };
  const problem = checkData(value.eventType as string, data);
  if (problem) return { ok: false, reason: problem };
  if (value.data === undefined) value.data = data;
  // The parsed object is fresh from JSON.parse and owned by the caller: no copy on the hot path.
  return { ok: true, event: value as unknown as PulseEvent };
}

export function isPurchase(event: PulseEvent): event is PurchaseEvent {
  return event.eventType === 'purchase';
}
