/**
 * Seeded clickstream: users browse → view products → add to cart → purchase, interleaved the
 * way real traffic is, with optional returning users (an earlier session over 30 minutes ago,
 * so sessions close) and injectable fraud patterns. Returns the events in send order and the
 * truth they imply (see truth.ts). Normal users never trip a fraud rule (≤ 2 purchases of
 * ≤ 300 USD, one country); each injected pattern trips exactly one rule once.
 */
import type { PulseEvent } from '../../services/shared/event.js';
import { Random } from './random.js';
import { type AlertTruth, computeTruth, type Truth } from './truth.js';

export interface Mix {
  pageView: number;
  productView: number;
  addToCart: number;
  purchase: number;
}

export interface FraudPatterns {
  /** Users making one purchase over the largePurchase threshold (1000). */
  largePurchase?: number;
  /** Users making 6 purchases within a minute (purchaseVelocity: 5 in 10 minutes; the 6th is in the cool-down). */
  burst?: number;
  /** Users buying from two countries minutes apart (countryHop within 60 minutes). */
  countryHop?: number;
}

export interface TrafficOptions {
  seed: number;
  users: number;
  /** Live events from normal users (fraud and returning-user history come on top). */
  events: number;
  /** Event time of the first live event; default now. */
  startTime?: number;
  /** Live events per second: spaces event times (and the send schedule). */
  rate?: number;
  mix?: Partial<Mix>;
  /** Fraction of users with an earlier session 35–90 minutes before startTime. */
  returningUsers?: number;
  fraud?: FraudPatterns;
  products?: number;
}

export interface Traffic {
  events: PulseEvent[];
  truth: Truth;
  /** Send time offsets (ms from the start) per event, same order as events; history is 0. */
  schedule: number[];
  options: Required<Omit<TrafficOptions, 'fraud' | 'mix'>> & { fraud: FraudPatterns; mix: Mix };
}

export const DEFAULT_MIX: Mix = { pageView: 35, productView: 40, addToCart: 15, purchase: 10 };
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA'];

type Template = Omit<PulseEvent, 'eventId' | 'timestamp'> & { offsetMs?: number };

export function generateTraffic(input: TrafficOptions): Traffic {
  const options = {
    startTime: Date.now(),
    rate: 50,
    returningUsers: 0.2,
    products: 40,
    ...input,
    mix: { ...DEFAULT_MIX, ...input.mix },
    fraud: { largePurchase: 0, burst: 0, countryHop: 0, ...input.fraud },
  };
  const rnd = new Random(options.seed);
  const prices = Array.from({ length: options.products }, () => rnd.int(500, 15_000) / 100);
  const productId = (i: number) => `sku-${String(i).padStart(4, '0')}`;
  let n = 0;
  const nextId = () => `evt-${options.seed}-${++n}`;
  const orderId = () => `order-${options.seed}-${n + 1}`;

  // Live scripts per user, with quotas summing to options.events.
  const scripts = new Map<string, Template[]>();
  const countryOf = new Map<string, string>();
  const userIds = Array.from(
    { length: options.users },
    (_, i) => `user-${options.seed}-${String(i + 1).padStart(4, '0')}`,
  );
  for (const id of userIds) {
    scripts.set(id, []);
    countryOf.set(id, rnd.pick(COUNTRIES));
  }
  const state = new Map(
    userIds.map((id) => [id, { viewed: [] as number[], cart: [] as number[], purchases: 0 }]),
  );
  const weights = [
    options.mix.pageView,
    options.mix.productView,
    options.mix.addToCart,
    options.mix.purchase,
  ];
  for (let i = 0; i < options.events; i += 1) {
    const userId = rnd.pick(userIds);
    const s = state.get(userId)!;
    let kind = rnd.weighted(weights);
    if (kind === 3 && (s.cart.length === 0 || s.purchases >= 2)) kind = 1;
    if (kind === 2 && s.viewed.length === 0) kind = 1;
    let t: Template;
    if (kind === 0) {
      t = {
        userId,
        eventType: 'page_view',
        data: { page: rnd.pick(['/', '/deals', '/search', '/category/shoes', '/category/books']) },
      };
    } else if (kind === 1) {
      const p = rnd.int(0, options.products - 1);
      s.viewed.push(p);
      t = { userId, eventType: 'product_view', data: { productId: productId(p) } };
    } else if (kind === 2) {
      const p = rnd.pick(s.viewed);
      if (s.cart.length < 2) s.cart.push(p);
      t = { userId, eventType: 'add_to_cart', data: { productId: productId(p), quantity: 1 } };
    } else {
      const amount = Math.round(s.cart.reduce((sum, p) => sum + prices[p]!, 0) * 100) / 100;
      s.cart = [];
      s.purchases += 1;
      t = {
        userId,
        eventType: 'purchase',
        data: { amount, currency: 'USD', country: countryOf.get(userId) },
      };
    }
    scripts.get(userId)!.push(t);
  }

  // Fraud patterns: users of their own, so each pattern's alert is exactly predictable.
  const alerts: Array<Omit<AlertTruth, 'eventId'> & { index: number }> = [];
  const fraudScript = (
    userId: string,
    purchases: Array<{ amount: number; country: string }>,
    rule: AlertTruth['rule'],
    triggerAt: number,
  ) => {
    const script: Template[] = [
      { userId, eventType: 'page_view', data: { page: '/' } },
      { userId, eventType: 'product_view', data: { productId: productId(0) } },
      { userId, eventType: 'add_to_cart', data: { productId: productId(0), quantity: 1 } },
    ];
    for (const p of purchases)
      script.push({
        userId,
        eventType: 'purchase',
        data: { amount: p.amount, currency: 'USD', country: p.country },
      });
    scripts.set(userId, script);
    alerts.push({ userId, rule, index: 3 + triggerAt });
  };
  for (let k = 1; k <= (options.fraud.largePurchase ?? 0); k += 1) {
    fraudScript(
      `fraud-large-${options.seed}-${k}`,
      [{ amount: rnd.int(150_000, 290_000) / 100, country: 'US' }],
      'largePurchase',
      0,
    );
  }
  for (let k = 1; k <= (options.fraud.burst ?? 0); k += 1) {
    const burst = Array.from({ length: 6 }, () => ({ amount: rnd.int(1_000, 5_000) / 100, country: 'GB' }));
    fraudScript(`fraud-burst-${options.seed}-${k}`, burst, 'purchaseVelocity', 4);
  }
  for (let k = 1; k <= (options.fraud.countryHop ?? 0); k += 1) {
    fraudScript(
      `fraud-hop-${options.seed}-${k}`,
      [
        { amount: 40, country: 'US' },
        { amount: 45, country: 'FR' },
      ],
      'countryHop',
      1,
    );
  }

  // Interleave the scripts (each user's order kept), then stamp event times at the given rate.
  const queues = [...scripts.entries()].filter(([, s]) => s.length > 0).map(([id, s]) => ({ id, s, at: 0 }));
  const live: Template[] = [];
  const positions = new Map<string, number[]>();
  let remaining = queues.reduce((sum, q) => sum + q.s.length, 0);
  while (remaining > 0) {
    const q = queues[rnd.weighted(queues.map((x) => x.s.length - x.at))]!;
    const t = q.s[q.at]!;
    q.at += 1;
    remaining -= 1;
    const list = positions.get(q.id) ?? [];
    list.push(live.length);
    positions.set(q.id, list);
    live.push(t);
  }
  const stepMs = 1000 / options.rate;
  const history: PulseEvent[] = [];
  const returning = userIds.filter(() => rnd.next() < options.returningUsers);
  for (const userId of returning) {
    // An earlier visit, over 30 minutes before the live one: it is a closed session by the end.
    const start = options.startTime - rnd.int(35, 90) * 60_000;
    for (let j = 0; j < rnd.int(2, 5); j += 1) {
      const p = rnd.int(0, options.products - 1);
      history.push({
        eventId: nextId(),
        userId,
        eventType: j === 0 ? 'page_view' : 'product_view',
        timestamp: start + j * 7_000,
        data: j === 0 ? { page: '/' } : { productId: productId(p) },
      });
    }
  }
  history.sort((a, b) => a.timestamp - b.timestamp);
  const liveEvents: PulseEvent[] = live.map((t, i) => {
    const { offsetMs: _o, ...rest } = t;
    const data = t.eventType === 'purchase' ? { ...t.data, orderId: orderId() } : t.data;
    return { ...rest, eventId: nextId(), timestamp: Math.round(options.startTime + i * stepMs), data };
  });
  const events = [...history, ...liveEvents];
  const schedule = [...history.map(() => 0), ...liveEvents.map((_, i) => Math.round(i * stepMs))];
  const alertTruth: AlertTruth[] = alerts.map((a) => ({
    userId: a.userId,
    rule: a.rule,
    eventId: liveEvents[positions.get(a.userId)![a.index]!]!.eventId,
  }));
  return { events, truth: computeTruth(events, alertTruth), schedule, options };
}
