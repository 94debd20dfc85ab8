/**
 * Deterministic workloads: the same seed gives the same events, so ours and the baseline see the
 * same data in the same run (only the userId prefix differs, so their DynamoDB items never mix).
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { PulseEvent } from '../../services/shared/event.js';

export const BENCH_STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/pulse-bench-events';
const MINUTE = 60_000;

/** mulberry32: tiny, fast, good enough for workloads. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface WorkloadOptions {
  count: number;
  users: number;
  /** Distinguishes runs and ours/baseline: `${prefix}-u<n>`. */
  prefix: string;
  seed?: number;
  /** Share of purchases; default 1 %. */
  purchaseRate?: number;
  /** Share of purchases above the 1,000 large-purchase threshold; default 5 %. */
  largePurchaseRate?: number;
  /** Event time of the first event; default 40 minutes ago (CloudWatch accepts it). */
  startMs?: number;
  /** Milliseconds of event time between consecutive events; default 100. */
  stepMs?: number;
  /** Every event a user of its own (the high-cardinality shape); `users` is then ignored. */
  distinctUsers?: boolean;
  /** Extra bytes of free-form payload on non-purchase events (a longer user agent), to set the event size. */
  padBytes?: number;
  /** Currencies purchases are paid in, uniformly; default USD only. */
  currencies?: readonly string[];
}

/**
 * Events spread uniformly over `users` users (or one user each), event times `stepMs` apart.
 * Mix: 1 % purchases (5 % of them large), 30 % product views over 500 products, 10 % add-to-cart,
 * the rest page views. Events carry a small realistic payload (~200 bytes as JSON).
 */
export function makeEvents(options: WorkloadOptions): PulseEvent[] {
  const random = rng(options.seed ?? 42);
  const start = options.startMs ?? Date.now() - 40 * MINUTE;
  const step = options.stepMs ?? 100;
  const events: PulseEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const user = options.distinctUsers ? i : Math.floor(random() * options.users);
    events.push(
      makeEvent(random, `${options.prefix}-u${user}`, `${options.prefix}-e${i}`, start + i * step, options),
    );
  }
  return events;
}

/** One event of the mix for a user at a time. */
function makeEvent(
  random: () => number,
  userId: string,
  eventId: string,
  timestamp: number,
  options: Pick<WorkloadOptions, 'purchaseRate' | 'largePurchaseRate' | 'padBytes' | 'currencies'>,
): PulseEvent {
  const purchaseRate = options.purchaseRate ?? 0.01;
  const largeRate = options.largePurchaseRate ?? 0.05;
  const currencies = options.currencies ?? ['USD'];
  const pad = ' '.repeat(options.padBytes ?? 0);
  const padding = options.padBytes ? { userAgent: `Mozilla/5.0 (bench)${pad}` } : {};
  const roll = random();
  if (roll < purchaseRate) {
    const large = random() < largeRate;
    const amount = Math.round((large ? 1_000 + random() * 2_000 : 5 + random() * 300) * 100) / 100;
    const currency = currencies[Math.floor(random() * currencies.length)] as string;
    return {
      eventId,
      userId,
      eventType: 'purchase',
      timestamp,
      data: { amount, currency, orderId: `o-${eventId}`, country: random() < 0.9 ? 'US' : 'CA' },
    };
  }
  if (roll < purchaseRate + 0.3) {
    return {
      eventId,
      userId,
      eventType: 'product_view',
      timestamp,
      data: { productId: `p-${Math.floor(random() * 500)}`, referrer: 'search', ...padding },
    };
  }
  if (roll < purchaseRate + 0.4) {
    return {
      eventId,
      userId,
      eventType: 'add_to_cart',
      timestamp,
      data: { productId: `p-${Math.floor(random() * 500)}`, quantity: 1, ...padding },
    };
  }
  return {
    eventId,
    userId,
    eventType: 'page_view',
    timestamp,
    data: { page: `/category/${Math.floor(random() * 40)}`, userAgent: `Mozilla/5.0 (bench)${pad}` },
  };
}

/** Gaps between a returning user's events: mostly within a visit, one in four a new visit. */
const RETURN_GAP: { withinVisitMs: [number, number]; newVisitMs: [number, number]; newVisitShare: number } = {
  withinVisitMs: [1_000, 5 * MINUTE],
  newVisitMs: [31 * MINUTE, 120 * MINUTE],
  newVisitShare: 0.25,
};

/**
 * Returning users: `rounds` rounds in which each of `users` users sends one event, in a shuffled
 * order. A batch of `users` events therefore holds every user once, and a user's events are a
 * second to two hours apart (RETURN_GAP) in different batches: each event costs a read and a
 * write of an existing item, and one in four closes a session. Event times end before now.
 */
export function makeReturningEvents(
  options: Omit<WorkloadOptions, 'count' | 'distinctUsers' | 'stepMs'> & { rounds: number },
): PulseEvent[] {
  const random = rng(options.seed ?? 42);
  const { users, rounds } = options;
  const start = options.startMs ?? Date.now() - rounds * RETURN_GAP.newVisitMs[1] - MINUTE;
  const clocks = Array.from({ length: users }, () => start + Math.floor(random() * MINUTE));
  const events: PulseEvent[] = [];
  const order = Array.from({ length: users }, (_, i) => i);
  for (let round = 0; round < rounds; round++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const user of order) {
      const [lo, hi] = random() < RETURN_GAP.newVisitShare ? RETURN_GAP.newVisitMs : RETURN_GAP.withinVisitMs;
      clocks[user] = (clocks[user] as number) + Math.round(lo + random() * (hi - lo));
      events.push(
        makeEvent(
          random,
          `${options.prefix}-u${user}`,
          `${options.prefix}-e${events.length}`,
          clocks[user] as number,
          options,
        ),
      );
    }
  }
  return events;
}

/** Kinesis puts a user on one shard; two shards as the local stack creates. */
export function shardOf(userId: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) | 0;
  return Math.abs(h) % shards;
}

let sequenceCounter = 0;

/** The KinesisStreamEvent Lambda would deliver for these events (sequence numbers increase per shard). */
export function toKinesisEvent(events: readonly PulseEvent[], shards = 2): KinesisStreamEvent {
  const arrival = Date.now() / 1000;
  const records: KinesisStreamRecord[] = events.map((event) => {
    sequenceCounter += 1;
    const shardId = `shardId-${String(shardOf(event.userId, shards)).padStart(12, '0')}`;
    const sequenceNumber = `4965${String(Date.now()).padStart(16, '0')}${String(sequenceCounter).padStart(36, '0')}`;
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: event.userId,
        sequenceNumber,
        data: Buffer.from(JSON.stringify(event), 'utf8').toString('base64'),
        approximateArrivalTimestamp: arrival,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/pulse-bench',
      awsRegion: 'us-east-1',
      eventSourceARN: BENCH_STREAM_ARN,
    };
  });
  return { Records: records };
}

export function slice(event: KinesisStreamEvent, count: number): KinesisStreamEvent {
  return { Records: event.Records.slice(0, count) };
}
