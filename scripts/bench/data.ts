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
}

/**
 * Mix: 1 % purchases (5 % of them large), 30 % product views over 500 products, 10 % add-to-cart,
 * the rest page views. Events carry a small realistic payload (~200 bytes as JSON).
 */
export function makeEvents(options: WorkloadOptions): PulseEvent[] {
  const random = rng(options.seed ?? 42);
  const purchaseRate = options.purchaseRate ?? 0.01;
  const largeRate = options.largePurchaseRate ?? 0.05;
  const start = options.startMs ?? Date.now() - 40 * MINUTE;
  const step = options.stepMs ?? 100;
  const pad = ' '.repeat(options.padBytes ?? 0);
  const padding = options.padBytes ? { userAgent: `Mozilla/5.0 (bench)${pad}` } : {};
  const events: PulseEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const user = options.distinctUsers ? i : Math.floor(random() * options.users);
    const userId = `${options.prefix}-u${user}`;
    const eventId = `${options.prefix}-e${i}`;
    const timestamp = start + i * step;
    const roll = random();
    if (roll < purchaseRate) {
      const large = random() < largeRate;
      const amount = Math.round((large ? 1_000 + random() * 2_000 : 5 + random() * 300) * 100) / 100;
      events.push({
        eventId,
        userId,
        eventType: 'purchase',
        timestamp,
        data: { amount, currency: 'USD', orderId: `o-${eventId}`, country: random() < 0.9 ? 'US' : 'CA' },
      });
    } else if (roll < purchaseRate + 0.3) {
      events.push({
        eventId,
        userId,
        eventType: 'product_view',
        timestamp,
        data: { productId: `p-${Math.floor(random() * 500)}`, referrer: 'search', ...padding },
      });
    } else if (roll < purchaseRate + 0.4) {
      events.push({
        eventId,
        userId,
        eventType: 'add_to_cart',
        timestamp,
        data: { productId: `p-${Math.floor(random() * 500)}`, quantity: 1, ...padding },
      });
    } else {
      events.push({
        eventId,
        userId,
        eventType: 'page_view',
        timestamp,
        data: { page: `/category/${Math.floor(random() * 40)}`, userAgent: `Mozilla/5.0 (bench)${pad}` },
      });
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
