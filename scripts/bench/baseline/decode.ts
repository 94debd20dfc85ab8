/** The seed design's decoding: base64 → JSON.parse → schema check, one record at a time. */
import type { KinesisStreamRecord } from 'aws-lambda';
import { type PulseEvent, validateEvent } from '../../../services/shared/event.js';

/** The event, or undefined for a bad record (the seed logs and drops it). */
export function decodeSeedRecord(record: KinesisStreamRecord): PulseEvent | undefined {
  try {
    const result = validateEvent(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
    return result.ok ? result.event : undefined;
  } catch {
    return undefined;
  }
}
