/**
 * The producer library: puts Pulse events on the stream, keyed by userId so each user's events
 * land on one shard. PutRecords does not promise order within a request, and re-sending only the
 * failed records can put a user's event after a later one; the consumers' rules for late events
 * (by event time) are what keep results exact, not arrival order.
 *
 * `publishBatch` chunks by PutRecords' limits, re-sends only the records a PutRecords call reports
 * as failed (exponential back-off with full jitter, bounded attempts) and returns what finally
 * failed instead of throwing the batch away.
 *
 * An event is refused here for anything the consumers would quarantine: the shared schema, and an
 * event time more than `maxEventAheadSeconds` ahead (the consumers' MAX_EVENT_AHEAD_SECONDS). The
 * consumers judge against the record's arrival time, a moment after "now" here: with this
 * machine's clock right, an event this check lets through is never too far ahead for them.
 */
import { randomUUID } from 'node:crypto';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { packRequests } from '../shared/batch.js';
import { MAX_EVENT_AHEAD_SECONDS_LIMIT } from '../shared/config.js';
import { type PulseEvent, validateEvent } from '../shared/event.js';
import { DEFAULT_MAX_EVENT_AHEAD_SECONDS } from '../shared/kinesis.js';
import { backoffMs, sleep as defaultSleep, type Sleep } from '../shared/retry.js';

/** PutRecords limits: 500 records and 5 MiB per request, 1 MiB per record (data + partition key). */
export const MAX_RECORDS_PER_REQUEST = 500;
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Errors that will not go away by retrying the same request. */
const PERMANENT_ERRORS = new Set([
  'ResourceNotFoundException',
  'ValidationException',
  'InvalidArgumentException',
  'AccessDeniedException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
]);

export type EventInput = Omit<PulseEvent, 'eventId' | 'timestamp' | 'data'> & {
  eventId?: string;
  timestamp?: number;
  data?: Record<string, unknown>;
};

export class InvalidEventError extends Error {
  constructor(reason: string) {
    super(`invalid event: ${reason}`);
    this.name = 'InvalidEventError';
  }
}

export class RecordTooLargeError extends Error {
  constructor(
    readonly eventId: string,
    readonly bytes: number,
  ) {
    super(
      `event ${eventId} is ${bytes} bytes encoded; a Kinesis record holds at most ${MAX_RECORD_BYTES} bytes`,
    );
    this.name = 'RecordTooLargeError';
  }
}

export interface ProducerOptions {
  kinesis: Pick<KinesisClient, 'send'>;
  /** The stream's name or ARN. */
  stream: string;
  /** Attempts per record, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: Sleep;
  random?: () => number;
  /**
   * How far an event's time may be ahead of now, in seconds: set it to the consumers'
   * MAX_EVENT_AHEAD_SECONDS (same default, 300; an integer from 0 to 86400).
   */
  maxEventAheadSeconds?: number;
  /** The clock events are completed and judged by, epoch milliseconds. */
  now?: () => number;
}

export interface FailedRecord {
  event: PulseEvent;
  errorCode: string;
  errorMessage: string;
}

export interface PublishResult {
  sent: number;
  failed: FailedRecord[];
  /** PutRecords requests made, retries included. */
  requests: number;
}

interface Entry {
  event: PulseEvent;
  data: Uint8Array;
  bytes: number;
}

function checkMaxEventAheadSeconds(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_EVENT_AHEAD_SECONDS_LIMIT) {
    throw new RangeError(
      `maxEventAheadSeconds must be an integer from 0 to ${MAX_EVENT_AHEAD_SECONDS_LIMIT}, got ${seconds}`,
    );
  }
  return seconds;
}

/**
 * Completes an event (eventId, timestamp) and checks it as the consumers will: the schema, and an
 * event time at most `maxEventAheadSeconds` ahead of `now`. Older events are always accepted.
 */
export function prepareEvent(
  input: EventInput,
  now: () => number = Date.now,
  maxEventAheadSeconds: number = DEFAULT_MAX_EVENT_AHEAD_SECONDS,
): PulseEvent {
  const toleranceS = checkMaxEventAheadSeconds(maxEventAheadSeconds);
  const at = now();
  const event = {
    ...input,
    eventId: input.eventId ?? randomUUID(),
    timestamp: input.timestamp ?? at,
    data: input.data ?? {},
  };
  const result = validateEvent(event);
  if (!result.ok) throw new InvalidEventError(result.reason);
  const aheadMs = result.event.timestamp - at;
  if (aheadMs > toleranceS * 1000) {
    throw new InvalidEventError(
      `timestamp is ${Math.ceil(aheadMs / 1000)} s ahead of now; every consumer quarantines an event ` +
        `more than ${toleranceS} s ahead (MAX_EVENT_AHEAD_SECONDS): check the producer's clock`,
    );
  }
  return result.event;
}

function prepare(input: EventInput, options: ProducerOptions): PulseEvent {
  return prepareEvent(input, options.now, options.maxEventAheadSeconds);
}

function encode(event: PulseEvent): Entry {
  const data = Buffer.from(JSON.stringify(event), 'utf8');
  const bytes = data.byteLength + Buffer.byteLength(event.userId, 'utf8');
  if (bytes > MAX_RECORD_BYTES) throw new RecordTooLargeError(event.eventId, bytes);
  return { event, data, bytes };
}

/** Splits entries into PutRecords-sized requests, keeping their order. */
export function chunkEntries<T extends { bytes: number }>(entries: readonly T[]): T[][] {
  return packRequests(entries, MAX_RECORDS_PER_REQUEST, MAX_REQUEST_BYTES);
}

function errorCodeOf(err: unknown): string {
  return err instanceof Error ? err.name : 'UnknownError';
}

/** The event could not be put; it carries the prepared event so a retry keeps the same eventId. */
export class PublishError extends Error {
  constructor(
    readonly event: PulseEvent,
    readonly errorCode: string,
    errorMessage: string,
  ) {
    super(`could not put event ${event.eventId}: ${errorCode}: ${errorMessage}`);
    this.name = 'PublishError';
  }
}

/** Puts one event; throws if it is invalid, too large, or still failing after the retries. */
export async function publishEvent(input: EventInput, options: ProducerOptions): Promise<PulseEvent> {
  const event = prepare(input, options);
  const result = await publishPrepared([encode(event)], options);
  const failure = result.failed[0];
  if (failure) throw new PublishError(event, failure.errorCode, failure.errorMessage);
  return event;
}

/**
 * Puts many events. Invalid or oversized events are reported in `failed` (and never sent); the
 * rest are sent in as few PutRecords requests as the limits allow.
 */
export async function publishBatch(
  inputs: readonly EventInput[],
  options: ProducerOptions,
): Promise<PublishResult> {
  // A bad option is the caller's bug, not one event's fault: thrown, not reported per event.
  checkMaxEventAheadSeconds(options.maxEventAheadSeconds ?? DEFAULT_MAX_EVENT_AHEAD_SECONDS);
  const entries: Entry[] = [];
  const rejected: FailedRecord[] = [];
  for (const input of inputs) {
    try {
      entries.push(encode(prepare(input, options)));
    } catch (err) {
      if (!(err instanceof InvalidEventError || err instanceof RecordTooLargeError)) throw err;
      rejected.push({ event: input as PulseEvent, errorCode: err.name, errorMessage: err.message });
    }
  }
  const result = await publishPrepared(entries, options);
  return { ...result, failed: [...rejected, ...result.failed] };
}

async function publishPrepared(entries: readonly Entry[], options: ProducerOptions): Promise<PublishResult> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const stream = options.stream.startsWith('arn:')
    ? { StreamARN: options.stream }
    : { StreamName: options.stream };

  const failed: FailedRecord[] = [];
  let sent = 0;
  let requests = 0;
  for (const request of chunkEntries(entries)) {
    let pending = request;
    let lastErrors = new Map<Entry, { code: string; message: string }>();
    for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt, baseDelayMs, maxDelayMs, random));
      requests += 1;
      const errors = new Map<Entry, { code: string; message: string }>();
      try {
        const out = await options.kinesis.send(
          new PutRecordsCommand({
            ...stream,
            Records: pending.map(
              (e): PutRecordsRequestEntry => ({ Data: e.data, PartitionKey: e.event.userId }),
            ),
          }),
        );
        (out.Records ?? []).forEach((record, i) => {
          const entry = pending[i] as Entry;
          if (record.ErrorCode)
            errors.set(entry, { code: record.ErrorCode, message: record.ErrorMessage ?? '' });
        });
      } catch (err) {
        const code = errorCodeOf(err);
        const message = err instanceof Error ? err.message : String(err);
        for (const entry of pending) errors.set(entry, { code, message });
        if (PERMANENT_ERRORS.has(code)) {
          lastErrors = errors;
          pending = [];
          break;
        }
      }
      sent += pending.length - errors.size;
      pending = pending.filter((entry) => errors.has(entry));
      lastErrors = errors;
    }
    for (const [entry, error] of lastErrors) {
      failed.push({ event: entry.event, errorCode: error.code, errorMessage: error.message });
    }
  }
  return { sent, failed, requests };
}
