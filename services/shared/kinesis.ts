/**
 * Turns Lambda's Kinesis records into validated events or invalid records with a reason. All three
 * functions decode through here, so they agree on what is valid.
 *
 * Event time is judged against the record's arrival time on the stream, not the function's clock:
 * a retried or backlogged batch is judged the same way on every delivery. An event more than
 * `maxEventAheadMs` ahead of its arrival is invalid (a wrong device clock or a forged time would
 * otherwise become a user's "newest" event and freeze their sessions and fraud rules). An event
 * behind its arrival time is always accepted, however old (down to the schema's year-2000 floor):
 * offline clients upload hours or days late, and the functions' late-event rules handle them.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { type PulseEvent, validateEvent } from './event.js';

/** Default for MAX_EVENT_AHEAD_SECONDS: device clocks drift by seconds, rarely by minutes. */
export const DEFAULT_MAX_EVENT_AHEAD_SECONDS = 300;

export interface DecodeOptions {
  /** How far an event's time may be ahead of its record's arrival time, in milliseconds. */
  maxEventAheadMs: number;
}

const DEFAULT_DECODE_OPTIONS: DecodeOptions = { maxEventAheadMs: DEFAULT_MAX_EVENT_AHEAD_SECONDS * 1000 };

export interface RecordPosition {
  shardId: string;
  sequenceNumber: string;
  /** Approximate arrival time on the stream, epoch milliseconds. */
  arrivalMs: number;
}

export interface ValidRecord extends RecordPosition {
  event: PulseEvent;
}

export interface InvalidRecord extends RecordPosition {
  reason: string;
  /** The record's data exactly as it arrived, base64. */
  rawData: string;
  partitionKey: string;
}

export interface DecodedBatch {
  valid: ValidRecord[];
  invalid: InvalidRecord[];
}

// ignoreBOM keeps a leading U+FEFF in the text, as Buffer#toString does: decodeText strips it in
// one place, so both paths agree (the default would strip it here only).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The shardIds returned lately: a batch's records share one shard (Lambda's batches) or a few
// (the local runner, a test), and handing back the same string object lets the per-record Map
// look-ups and comparisons by shard reuse its cached hash instead of hashing a fresh slice.
const recentShardIds: string[] = [];
const RECENT_SHARD_IDS = 4;

/** Lambda's eventID is "<shardId>:<sequenceNumber>". */
export function shardIdOf(record: KinesisStreamRecord): string {
  const id = record.eventID;
  for (const known of recentShardIds) {
    const n = known.length;
    // "<known>:" with no later colon: the same split as below, without scanning the id twice.
    if (id.charCodeAt(n) === 58 && id.lastIndexOf(known, 0) === 0 && id.indexOf(':', n + 1) === -1)
      return known;
  }
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return id;
  const shardId = id.slice(0, colon);
  if (recentShardIds.unshift(shardId) > RECENT_SHARD_IDS) recentShardIds.pop();
  return shardId;
}

export function positionOf(record: KinesisStreamRecord): RecordPosition {
  return {
    shardId: shardIdOf(record),
    sequenceNumber: record.kinesis.sequenceNumber,
    arrivalMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  };
}

export type Decoded = { ok: true; record: ValidRecord } | { ok: false; record: InvalidRecord };

const BOM = '\uFEFF';

/**
 * Decodes base64 → UTF-8 text. Node's decoder replaces bad bytes with U+FFFD, so only then is the
 * strict one needed. One leading byte-order mark is dropped: some producers' UTF-8 writers emit
 * it, and it says nothing about the event (JSON.parse would refuse the text with it).
 */
function decodeText(data: string): string | undefined {
  const bytes = Buffer.from(data, 'base64');
  let text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) {
    try {
      text = utf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/**
 * V8's JSON error quotes the input ("Unexpected token '\u0001', "\u0001..." is not valid JSON"),
 * and the input is exactly what cannot be trusted to reach SQS or a log: the reason is a fixed
 * text plus the position V8 reports, if it reports one.
 */
export function jsonErrorReason(err: unknown): string {
  if (!(err instanceof SyntaxError)) return 'data could not be parsed as JSON';
  const message = err.message;
  if (/Unexpected end of JSON input/.test(message)) return 'data is not valid JSON: it ends early';
  const position = /at position (\d+)/.exec(message)?.[1];
  return position === undefined
    ? 'data is not valid JSON'
    : `data is not valid JSON: error at character ${position}`;
}

function aheadReason(aheadMs: number, maxEventAheadMs: number): string {
  return (
    `timestamp is ${Math.ceil(aheadMs / 1000)} s ahead of the record's arrival time; ` +
    `the tolerance is ${maxEventAheadMs / 1000} s`
  );
}

function invalidRecord(record: KinesisStreamRecord, position: RecordPosition, reason: string): InvalidRecord {
  return {
    shardId: position.shardId,
    sequenceNumber: position.sequenceNumber,
    arrivalMs: position.arrivalMs,
    reason,
    rawData: record.kinesis.data,
    partitionKey: record.kinesis.partitionKey,
  };
}

/** One record, valid or invalid; the valid path builds its result directly (every record of every batch). */
function decode(record: KinesisStreamRecord, options: DecodeOptions): ValidRecord | InvalidRecord {
  const text = decodeText(record.kinesis.data);
  if (text === undefined) return invalidRecord(record, positionOf(record), 'data is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return invalidRecord(record, positionOf(record), jsonErrorReason(err));
  }
  const result = validateEvent(parsed);
  if (!result.ok) return invalidRecord(record, positionOf(record), `schema: ${result.reason}`);
  const event = result.event;
  if (event.userId !== record.kinesis.partitionKey) {
    // Per-user ordering rests on partitioning by userId; anything else could be applied out of order.
    return invalidRecord(
      record,
      positionOf(record),
      'schema: userId does not match the record partition key',
    );
  }
  const arrivalMs = Math.round(record.kinesis.approximateArrivalTimestamp * 1000);
  const aheadMs = event.timestamp - arrivalMs;
  if (aheadMs > options.maxEventAheadMs)
    return invalidRecord(record, positionOf(record), aheadReason(aheadMs, options.maxEventAheadMs));
  return { shardId: shardIdOf(record), sequenceNumber: record.kinesis.sequenceNumber, arrivalMs, event };
}

export function decodeRecord(
  record: KinesisStreamRecord,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): Decoded {
  const decoded = decode(record, options);
  return 'event' in decoded ? { ok: true, record: decoded } : { ok: false, record: decoded };
}

export function decodeBatch(
  records: readonly KinesisStreamRecord[],
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): DecodedBatch {
  const valid: ValidRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const record of records) {
    const decoded = decode(record, options);
    if ('event' in decoded) valid.push(decoded);
    else invalid.push(decoded);
  }
  return { valid, invalid };
}
