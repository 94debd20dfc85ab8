/**
 * Fraud rules: configuration, per-user rule state and pure evaluation. Nothing here does I/O, so
 * the whole rule engine is tested without AWS.
 *
 * Windows and cool-downs are measured in event time. A purchase is "within W minutes" of the
 * triggering purchase at time t when t - W < its time <= t (a purchase exactly W minutes earlier is
 * outside). A late purchase is evaluated against the window ending at its own event time; purchases
 * with a later event time that were already evaluated are not re-evaluated.
 */

import { ConfigError } from '../shared/errors.js';
import type { PurchaseData } from '../shared/event.js';
import { emptyIdempotency, firstDeliveries, type IdempotencyState } from '../shared/idempotency.js';
import type { ValidRecord } from '../shared/kinesis.js';
import { formatMicros, hasMoneyScale, toMicros } from '../shared/money.js';

export const RULE_NAMES = ['largePurchase', 'purchaseVelocity', 'spendVelocity', 'countryHop'] as const;
export type RuleName = (typeof RULE_NAMES)[number];
export type Severity = 'high' | 'medium';

export const SEVERITY: Record<RuleName, Severity> = {
  largePurchase: 'high',
  purchaseVelocity: 'medium',
  spendVelocity: 'medium',
  countryHop: 'high',
};

/**
 * Money thresholds are in the purchase's own currency (no FX conversion): `threshold`/`amount`
 * applies to every currency without an entry in `perCurrency` (ISO 4217 code → amount).
 */
export interface FraudRules {
  largePurchase: { enabled: boolean; threshold: number; perCurrency: Record<string, number> };
  purchaseVelocity: { enabled: boolean; count: number; windowMinutes: number };
  spendVelocity: {
    enabled: boolean;
    amount: number;
    windowMinutes: number;
    perCurrency: Record<string, number>;
  };
  countryHop: { enabled: boolean; windowMinutes: number };
  /** At most one alert per user per rule within this many minutes (event time); 0 disables. */
  cooldownMinutes: number;
  /**
   * Cap on the purchases kept per user *per currency* (the velocity rules look at these): dust
   * purchases in one currency never push out another currency's. spendVelocity therefore sums at
   * most the newest `maxRecentPurchases` purchases of a currency within its window; a user past
   * that within one window has long tripped purchaseVelocity (count <= maxRecentPurchases).
   */
  maxRecentPurchases: number;
  /**
   * Cap on the currencies whose purchases are kept per user: the most recently used ones. With
   * the per-currency cap it bounds the item (the cold start checks the product against the byte
   * budget); a user paying in more currencies within a window makes more purchases than this.
   */
  maxCurrencies: number;
  /** Cap on the eventIds remembered per user to drop producer duplicates. */
  maxRecentEventIds: number;
}

export const DEFAULT_RULES: FraudRules = {
  largePurchase: { enabled: true, threshold: 1000, perCurrency: {} },
  purchaseVelocity: { enabled: true, count: 5, windowMinutes: 10 },
  spendVelocity: { enabled: true, amount: 3000, windowMinutes: 60, perCurrency: {} },
  countryHop: { enabled: true, windowMinutes: 60 },
  cooldownMinutes: 15,
  maxRecentPurchases: 100,
  maxCurrencies: 4,
  maxRecentEventIds: 200,
};

/** Windows longer than a week would make the kept purchase list meaningless at the cap. */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** Upper bound for maxCurrencies; the byte budget usually allows fewer (state-size.ts). */
export const MAX_CURRENCIES = 20;

// ---------------------------------------------------------------------------------------------
// Configuration parsing
// ---------------------------------------------------------------------------------------------

type Check = (value: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const nonNegative: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a finite number >= 0';
const positive: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a finite number > 0';
// Money settings are compared in micro-units, so they obey the same scale as event amounts.
const money =
  (base: Check): Check =>
  (v) =>
    base(v) ?? (hasMoneyScale(v as number) ? undefined : 'must have at most 6 decimal places');
const perCurrency =
  (base: Check): Check =>
  (v) => {
    if (!isObject(v)) return 'must be an object of ISO 4217 code -> amount';
    for (const [code, amount] of Object.entries(v)) {
      if (!/^[A-Z]{3}$/.test(code)) return `has ${JSON.stringify(code)}, not a 3-letter ISO 4217 code`;
      const problem = money(base)(amount);
      if (problem) return `.${code} ${problem}`;
    }
    return undefined;
  };
const windowMinutes: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_WINDOW_MINUTES
    ? undefined
    : `must be a number of minutes > 0 and <= ${MAX_WINDOW_MINUTES}`;
const intBetween =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `must be an integer between ${min} and ${max}`;

function fields<T extends object>(
  source: string,
  path: string,
  raw: unknown,
  defaults: T,
  checks: Record<keyof T, Check>,
): T {
  if (raw === undefined) return { ...defaults };
  if (!isObject(raw)) throw new ConfigError(`${source}.${path} must be a JSON object`);
  for (const key of Object.keys(raw)) {
    if (!(key in checks)) {
      throw new ConfigError(
        `${source}.${path}.${key} is not a known setting (expected ${Object.keys(checks).join(', ')})`,
      );
    }
  }
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, check] of Object.entries(checks) as [string, Check][]) {
    if (raw[key] === undefined) continue;
    const problem = check(raw[key]);
    if (problem)
      throw new ConfigError(`${source}.${path}.${key} ${problem}, got ${JSON.stringify(raw[key])}`);
    out[key] = raw[key];
  }
  return out as T;
}

/**
 * Validates the FRAUD_RULES JSON. Every field is optional and falls back to DEFAULT_RULES; an
 * unknown or malformed field is a ConfigError naming it (`FRAUD_RULES.purchaseVelocity.count ...`).
 */
export function parseRules(value: unknown, source = 'FRAUD_RULES'): FraudRules {
  if (!isObject(value)) throw new ConfigError(`${source} must be a JSON object`);
  const top = new Set<string>([
    ...RULE_NAMES,
    'cooldownMinutes',
    'maxRecentPurchases',
    'maxCurrencies',
    'maxRecentEventIds',
  ]);
  for (const key of Object.keys(value)) {
    if (!top.has(key))
      throw new ConfigError(`${source}.${key} is not a known setting (expected ${[...top].join(', ')})`);
  }
  const scalar = (
    key: 'cooldownMinutes' | 'maxRecentPurchases' | 'maxCurrencies' | 'maxRecentEventIds',
    check: Check,
  ): number => {
    const raw = value[key];
    if (raw === undefined) return DEFAULT_RULES[key];
    const problem = check(raw);
    if (problem) throw new ConfigError(`${source}.${key} ${problem}, got ${JSON.stringify(raw)}`);
    return raw as number;
  };
  const maxRecentPurchases = scalar('maxRecentPurchases', intBetween(1, 1000));
  const rules: FraudRules = {
    largePurchase: fields(source, 'largePurchase', value.largePurchase, DEFAULT_RULES.largePurchase, {
      enabled: boolean,
      threshold: money(nonNegative),
      perCurrency: perCurrency(nonNegative),
    }),
    purchaseVelocity: fields(
      source,
      'purchaseVelocity',
      value.purchaseVelocity,
      DEFAULT_RULES.purchaseVelocity,
      {
        enabled: boolean,
        count: intBetween(2, maxRecentPurchases),
        windowMinutes,
      },
    ),
    spendVelocity: fields(source, 'spendVelocity', value.spendVelocity, DEFAULT_RULES.spendVelocity, {
      enabled: boolean,
      amount: money(positive),
      windowMinutes,
      perCurrency: perCurrency(positive),
    }),
    countryHop: fields(source, 'countryHop', value.countryHop, DEFAULT_RULES.countryHop, {
      enabled: boolean,
      windowMinutes,
    }),
    cooldownMinutes: scalar('cooldownMinutes', nonNegative),
    maxRecentPurchases,
    maxCurrencies: scalar('maxCurrencies', intBetween(1, MAX_CURRENCIES)),
    maxRecentEventIds: scalar('maxRecentEventIds', intBetween(1, 1000)),
  };
  if (rules.purchaseVelocity.count > rules.maxRecentPurchases) {
    throw new ConfigError(
      `${source}.purchaseVelocity.count must be <= maxRecentPurchases (${rules.maxRecentPurchases})`,
    );
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------
// State and evaluation
// ---------------------------------------------------------------------------------------------

export interface RecentPurchase {
  eventId: string;
  timestamp: number;
  /** Exact amount in micro-units of `currency` (shared/money.ts). */
  amountMicros: number;
  currency: string;
  country?: string;
}

/** Idempotency: per-shard watermarks and the hashed eventIds of the latest purchases, bounded. */
export interface FraudState extends IdempotencyState {
  userId: string;
  /** Optimistic-lock version; 0 means the item does not exist yet. */
  version: number;
  /**
   * Purchases inside the largest velocity window, oldest first by event time: at most
   * maxRecentPurchases per currency, of at most maxCurrencies currencies (the latest used).
   */
  recentPurchases: RecentPurchase[];
  /** The country of the latest (by event time) purchase that carried one. */
  lastCountry?: { country: string; timestamp: number; eventId: string };
  /** Event time of the last alert per rule, for the cool-down. */
  lastAlertAt: Partial<Record<RuleName, number>>;
}

export function newFraudState(userId: string): FraudState {
  return { userId, version: 0, ...emptyIdempotency(), recentPurchases: [], lastAlertAt: {} };
}

export interface Alert {
  /** alertIdOf(rule, userId, eventId): the same purchase of the same user always yields the same id. */
  alertId: string;
  rule: RuleName;
  severity: Severity;
  userId: string;
  eventId: string;
  orderId: string;
  amount: number;
  currency: string;
  country?: string;
  /** Event time of the triggering purchase, epoch ms. */
  eventTime: number;
  shardId: string;
  sequenceNumber: string;
  /** One sentence: what happened. */
  reason: string;
  /** The configured condition, in words. */
  threshold: string;
}

export interface EvaluateResult {
  state: FraudState;
  alerts: Alert[];
  evaluated: number;
  duplicates: number;
  /** Rule matches not alerted because of the cool-down. */
  suppressed: number;
  /** False when every record was at or below the watermark: nothing to write. */
  changed: boolean;
}

/**
 * `<rule>#<userId>#<eventId>`. eventIds are unique per user only (the producer keeps a client's),
 * so without the user another user's purchase with the same eventId would find this alert already
 * recorded and never be sent. `%` and `#` in the userId are escaped, so no two (user, event) pairs
 * share an id; the id stays readable and well under DynamoDB's 2,048-byte key limit.
 */
export const alertIdOf = (rule: RuleName, userId: string, eventId: string): string =>
  `${rule}#${userId.replace(/[%#]/g, (c) => (c === '%' ? '%25' : '%23'))}#${eventId}`;

/** A money setting for a currency, in micros (BigInt: totals compared with it can pass 2^53). */
const limitMicros = (setting: { perCurrency: Record<string, number> }, base: number, currency: string) =>
  BigInt(toMicros(setting.perCurrency[currency] ?? base));
const minutes = (value: number): string => `${value} minute${value === 1 ? '' : 's'}`;

interface Match {
  rule: RuleName;
  reason: string;
  threshold: string;
}

function matches(state: FraudState, p: RecentPurchase, rules: FraudRules): Match[] {
  const out: Match[] = [];
  const { largePurchase, purchaseVelocity, spendVelocity, countryHop } = rules;
  const { currency } = p;
  const large = limitMicros(largePurchase, largePurchase.threshold, currency);
  if (largePurchase.enabled && BigInt(p.amountMicros) > large) {
    out.push({
      rule: 'largePurchase',
      reason: `A purchase of ${formatMicros(p.amountMicros)} ${currency} is above the large-purchase threshold of ${formatMicros(large)} ${currency}.`,
      threshold: `amount > ${formatMicros(large)} ${currency}`,
    });
  }
  const within = (windowMin: number) =>
    state.recentPurchases.filter(
      (q) => q.timestamp <= p.timestamp && p.timestamp - q.timestamp < windowMin * 60_000,
    );
  if (purchaseVelocity.enabled) {
    const count = within(purchaseVelocity.windowMinutes).length + 1;
    if (count >= purchaseVelocity.count) {
      out.push({
        rule: 'purchaseVelocity',
        reason: `${count} purchases within ${minutes(purchaseVelocity.windowMinutes)}.`,
        threshold: `>= ${purchaseVelocity.count} purchases within ${minutes(purchaseVelocity.windowMinutes)}`,
      });
    }
  }
  if (spendVelocity.enabled) {
    // Only purchases in this purchase's currency count: amounts in two currencies never add up.
    const total = within(spendVelocity.windowMinutes)
      .filter((q) => q.currency === currency)
      .reduce((sum, q) => sum + BigInt(q.amountMicros), BigInt(p.amountMicros));
    const limit = limitMicros(spendVelocity, spendVelocity.amount, currency);
    if (total >= limit) {
      out.push({
        rule: 'spendVelocity',
        reason: `${formatMicros(total)} ${currency} spent within ${minutes(spendVelocity.windowMinutes)}.`,
        threshold: `total >= ${formatMicros(limit)} ${currency} within ${minutes(spendVelocity.windowMinutes)}`,
      });
    }
  }
  const previous = state.lastCountry;
  if (
    countryHop.enabled &&
    p.country !== undefined &&
    previous !== undefined &&
    previous.country !== p.country &&
    Math.abs(p.timestamp - previous.timestamp) < countryHop.windowMinutes * 60_000
  ) {
    const gap = Math.round(Math.abs(p.timestamp - previous.timestamp) / 60_000);
    out.push({
      rule: 'countryHop',
      reason: `A purchase from ${p.country} ${minutes(gap)} from a purchase from ${previous.country} (event ${previous.eventId}).`,
      threshold: `country change between purchases within ${minutes(countryHop.windowMinutes)}`,
    });
  }
  return out;
}

function remember(state: FraudState, p: RecentPurchase, rules: FraudRules): void {
  const list = state.recentPurchases;
  let at = list.length;
  while (at > 0 && (list[at - 1] as RecentPurchase).timestamp > p.timestamp) at--;
  list.splice(at, 0, p);
  const newest = (list[list.length - 1] as RecentPurchase).timestamp;
  const keepMs = Math.max(rules.purchaseVelocity.windowMinutes, rules.spendVelocity.windowMinutes) * 60_000;
  // Newest first: each currency keeps its newest maxRecentPurchases, and only the maxCurrencies
  // currencies seen latest are kept. A global cap would let dust in one currency evict another's.
  const kept: RecentPurchase[] = [];
  const perCurrency = new Map<string, number>();
  for (let i = list.length - 1; i >= 0; i--) {
    const q = list[i] as RecentPurchase;
    if (newest - q.timestamp >= keepMs) break;
    const count = perCurrency.get(q.currency);
    if (count === undefined && perCurrency.size >= rules.maxCurrencies) continue;
    if ((count ?? 0) >= rules.maxRecentPurchases) continue;
    perCurrency.set(q.currency, (count ?? 0) + 1);
    kept.push(q);
  }
  state.recentPurchases = kept.reverse();
  if (
    p.country !== undefined &&
    (state.lastCountry === undefined || p.timestamp >= state.lastCountry.timestamp)
  ) {
    state.lastCountry = { country: p.country, timestamp: p.timestamp, eventId: p.eventId };
  }
}

/**
 * Applies one user's purchase records (in sequence order) to their rule state and returns the
 * alerts they raise. Records at or below the watermark and repeated eventIds are skipped, so a
 * re-delivery yields no alert and no change. The input state is not modified.
 */
export function evaluatePurchases(
  current: FraudState,
  records: readonly ValidRecord[],
  rules: FraudRules,
): EvaluateResult {
  const state: FraudState = structuredClone(current);
  const { fresh, duplicates, changed } = firstDeliveries(state, records, rules.maxRecentEventIds);
  const alerts: Alert[] = [];
  const cooldownMs = rules.cooldownMinutes * 60_000;
  let suppressed = 0;

  for (const { event, sequenceNumber, shardId } of fresh) {
    const data = event.data as PurchaseData;
    const purchase: RecentPurchase = {
      eventId: event.eventId,
      timestamp: event.timestamp,
      amountMicros: toMicros(data.amount),
      currency: data.currency,
    };
    if (data.country !== undefined) purchase.country = data.country;

    for (const match of matches(state, purchase, rules)) {
      const last = state.lastAlertAt[match.rule];
      // A late purchase (event time before the latest alert) is damped too, whatever its age:
      // otherwise a replay of an old burst would alert once per purchase.
      if (last !== undefined && cooldownMs > 0 && event.timestamp < last + cooldownMs) {
        suppressed += 1;
        continue;
      }
      state.lastAlertAt[match.rule] = Math.max(last ?? event.timestamp, event.timestamp);
      const alert: Alert = {
        alertId: alertIdOf(match.rule, event.userId, event.eventId),
        rule: match.rule,
        severity: SEVERITY[match.rule],
        userId: event.userId,
        eventId: event.eventId,
        orderId: data.orderId,
        amount: data.amount,
        currency: data.currency,
        eventTime: event.timestamp,
        shardId,
        sequenceNumber,
        reason: match.reason,
        threshold: match.threshold,
      };
      if (data.country !== undefined) alert.country = data.country;
      alerts.push(alert);
    }
    remember(state, purchase, rules);
  }

  return { state, alerts, evaluated: fresh.length, duplicates, suppressed, changed };
}
