/** Factories for events, Kinesis records and whole Lambda events, so tests state only what matters. */
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { PulseEvent } from '../../services/shared/event.js';

export const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/pulse-test-events';
export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
export const MINUTE = 60_000;

let counter = 0;
/** Sequence numbers as Kinesis makes them: long decimal strings increasing within a shard. */
export function nextSequenceNumber(): string {
  counter += 1;
  return `49650000000000000000000000000000000000000000${String(counter).padStart(12, '0')}`;
}

export function anEvent(overrides: Partial<PulseEvent> = {}): PulseEvent {
  counter += 1;
  return {
    eventId: `evt-${counter}`,
    userId: 'user-1',
    eventType: 'page_view',
    timestamp: T0,
    data: { page: '/' },
    ...overrides,
  };
}

export function aPurchase(
  overrides: Partial<PulseEvent> & { amount?: number; country?: string } = {},
): PulseEvent {
  const { amount = 50, country, ...rest } = overrides;
  counter += 1;
  return anEvent({
    eventType: 'purchase',
    data: { amount, currency: 'USD', orderId: `order-${counter}`, ...(country ? { country } : {}) },
    ...rest,
  });
}

export function aProductView(productId: string, overrides: Partial<PulseEvent> = {}): PulseEvent {
  return anEvent({ eventType: 'product_view', data: { productId }, ...overrides });
}

export interface RecordOptions {
  shardId?: string;
  sequenceNumber?: string;
  arrivalMs?: number;
  partitionKey?: string;
}

/** A Kinesis record carrying raw bytes (for malformed-data tests). */
export function aRawRecord(data: Buffer | string, options: RecordOptions = {}): KinesisStreamRecord {
  const shardId = options.shardId ?? 'shardId-000000000000';
  const sequenceNumber = options.sequenceNumber ?? nextSequenceNumber();
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: options.partitionKey ?? 'user-1',
      sequenceNumber,
      data: bytes.toString('base64'),
      approximateArrivalTimestamp: (options.arrivalMs ?? T0 + 1_000) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/pulse-test',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
  };
}

/**
 * A Kinesis record carrying an event, keyed by its userId as the producer does. It arrives a second
 * after its event time unless the test says otherwise, as a live event would.
 */
export function aRecord(event: PulseEvent, options: RecordOptions = {}): KinesisStreamRecord {
  const arrivalMs = Number.isFinite(event.timestamp) ? event.timestamp + 1_000 : undefined;
  return aRawRecord(JSON.stringify(event), { partitionKey: event.userId, arrivalMs, ...options });
}

export function aKinesisEvent(records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

export function recordsFor(events: PulseEvent[], options: RecordOptions = {}): KinesisStreamRecord[] {
  return events.map((event) => aRecord(event, options));
}

export function aLambdaContext(functionName = 'pulse-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
