/** Turns Lambda's Kinesis records into validated events or invalid records with a reason. */
import type { KinesisStreamRecord } from 'aws-lambda';
import { type PulseEvent, validateEvent } from './event.js';

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Lambda's eventID is "<shardId>:<sequenceNumber>". */
export function shardIdOf(record: KinesisStreamRecord): string {
  const colon = record.eventID.lastIndexOf(':');
  return colon > 0 ? record.eventID.slice(0, colon) : record.eventID;
}

export function positionOf(record: KinesisStreamRecord): RecordPosition {
  return {
    shardId: shardIdOf(record),
    sequenceNumber: record.kinesis.sequenceNumber,
    arrivalMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  };
}

export type Decoded = { ok: true; record: ValidRecord } | { ok: false; record: InvalidRecord };

/** Decodes base64 → UTF-8 text. Node's decoder replaces bad bytes with U+FFFD, so only then is the strict one needed. */
function decodeText(data: string): string | undefined {
  const bytes = Buffer.from(data, 'base64');
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function decodeRecord(record: KinesisStreamRecord): Decoded {
  const position = positionOf(record);
  const invalid = (reason: string): Decoded => ({
    ok: false,
    record: { ...position, reason, rawData: record.kinesis.data, partitionKey: record.kinesis.partitionKey },
  });
  const text = decodeText(record.kinesis.data);
  if (text === undefined) return invalid('data is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return invalid(`data is not valid JSON: ${(err as Error).message}`);
  }
  const result = validateEvent(parsed);
  if (!result.ok) return invalid(`schema: ${result.reason}`);
  if (result.event.userId !== record.kinesis.partitionKey) {
    // Per-user ordering rests on partitioning by userId; anything else could be applied out of order.
    return invalid('schema: userId does not match the record partition key');
  }
  return { ok: true, record: { ...position, event: result.event } };
}

export function decodeBatch(records: readonly KinesisStreamRecord[]): DecodedBatch {
  const valid: ValidRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const record of records) {
    const decoded = decodeRecord(record);
    if (decoded.ok) valid.push(decoded.record);
    else invalid.push(decoded.record);
  }
  return { valid, invalid };
}
