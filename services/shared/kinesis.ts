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

export type Decoded = ({ ok: true } & ValidRecord) | ({ ok: false } & InvalidRecord);

export function decodeRecord(record: KinesisStreamRecord): Decoded {
  const position = positionOf(record);
  const invalid = (reason: string): Decoded => ({
    ok: false,
    ...position,
    reason,
    rawData: record.kinesis.data,
    partitionKey: record.kinesis.partitionKey,
  });
  let text: string;
  try {
    text = utf8.decode(Buffer.from(record.kinesis.data, 'base64'));
  } catch {
    return invalid('data is not valid UTF-8');
  }
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
  return { ok: true, ...position, event: result.event };
}

export function decodeBatch(records: readonly KinesisStreamRecord[]): DecodedBatch {
  const valid: ValidRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const record of records) {
    const decoded = decodeRecord(record);
    if (decoded.ok) {
      const { ok: _ok, ...rest } = decoded;
      valid.push(rest);
    } else {
      const { ok: _ok, ...rest } = decoded;
      invalid.push(rest);
    }
  }
  return { valid, invalid };
}
