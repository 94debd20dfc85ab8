/**
 * The archive's Parquet files: one row per event (or invalid record), written and read with
 * hyparquet(-writer), pure JavaScript that bundles into a Lambda without native parts. The column
 * lists here are what the Glue table declares (see ./columns.ts and the test that ties them).
 */
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { InvalidRecord, ValidRecord } from '../kinesis.js';
import { type ArchiveColumn, EVENT_COLUMNS, INVALID_COLUMNS } from './columns.js';

export class ArchiveFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveFormatError';
  }
}

type Cell = string | number | null;

function write(columns: readonly ArchiveColumn[], data: Cell[][]): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: columns.map((column, i) => ({
      name: column.name,
      data: data[i] as Cell[],
      type: column.parquet,
      nullable: column.nullable,
    })),
    createdBy: 'pulse archive',
  });
  return new Uint8Array(buffer);
}

async function read(
  bytes: Uint8Array,
  columns: readonly ArchiveColumn[],
): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({ file, columns: columns.map((c) => c.name) });
  return rows as Record<string, unknown>[];
}

const millis = (value: unknown): number => {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint' || typeof value === 'number') return Number(value);
  throw new ArchiveFormatError(`expected a timestamp, got ${typeof value}`);
};

const text = (value: unknown, column: string): string => {
  if (typeof value !== 'string') throw new ArchiveFormatError(`column ${column} must be a string`);
  return value;
};

export function encodeEvents(records: readonly ValidRecord[]): Uint8Array {
  return write(EVENT_COLUMNS, [
    records.map((r) => r.event.eventId),
    records.map((r) => r.event.userId),
    records.map((r) => r.event.eventType),
    records.map((r) => r.event.timestamp),
    records.map((r) => (typeof r.event.schemaVersion === 'number' ? r.event.schemaVersion : 1)),
    records.map((r) => JSON.stringify(r.event.data)),
    records.map((r) => JSON.stringify(r.event)),
    records.map((r) => r.shardId),
    records.map((r) => r.sequenceNumber),
    records.map((r) => r.arrivalMs),
  ]);
}

/**
 * Rows back as the records the functions consume. The event comes from the `event` column, the
 * producer's object as validated, so replay from the archive sees exactly what the stream carried.
 */
export async function decodeEvents(bytes: Uint8Array): Promise<ValidRecord[]> {
  const rows = await read(bytes, EVENT_COLUMNS);
  return rows.map((row) => ({
    shardId: text(row.shard_id, 'shard_id'),
    sequenceNumber: text(row.sequence_number, 'sequence_number'),
    arrivalMs: millis(row.arrival_time),
    event: JSON.parse(text(row.event, 'event')),
  }));
}

export function encodeInvalid(records: readonly InvalidRecord[]): Uint8Array {
  return write(INVALID_COLUMNS, [
    records.map((r) => r.shardId),
    records.map((r) => r.sequenceNumber),
    records.map((r) => r.arrivalMs),
    records.map((r) => r.partitionKey),
    records.map((r) => r.reason),
    records.map((r) => r.rawData),
  ]);
}

export async function decodeInvalid(bytes: Uint8Array): Promise<InvalidRecord[]> {
  const rows = await read(bytes, INVALID_COLUMNS);
  return rows.map((row) => ({
    shardId: text(row.shard_id, 'shard_id'),
    sequenceNumber: text(row.sequence_number, 'sequence_number'),
    arrivalMs: millis(row.arrival_time),
    partitionKey: text(row.partition_key, 'partition_key'),
    reason: text(row.reason, 'reason'),
    rawData: text(row.raw_data, 'raw_data'),
  }));
}
