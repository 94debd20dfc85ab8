/**
 * The archive table's columns, in file order. The Glue table (terraform reads the generated
 * schema/archive-columns.json) and the Parquet writer both take them from here.
 */
export interface ArchiveColumn {
  name: string;
  /** hyparquet-writer basic type. */
  parquet: 'STRING' | 'INT32' | 'TIMESTAMP';
  /** Glue / Athena (Hive DDL) type. */
  glue: 'string' | 'int' | 'timestamp';
  nullable: boolean;
  comment: string;
}

const column = (
  name: string,
  parquet: ArchiveColumn['parquet'],
  comment: string,
  nullable = false,
): ArchiveColumn => ({
  name,
  parquet,
  glue: parquet === 'STRING' ? 'string' : parquet === 'INT32' ? 'int' : 'timestamp',
  nullable,
  comment,
});

export const EVENT_COLUMNS: readonly ArchiveColumn[] = [
  column('event_id', 'STRING', 'eventId: unique per event; a producer retry repeats it'),
  column('user_id', 'STRING', 'userId, the stream partition key'),
  column('event_type', 'STRING', 'eventType, e.g. page_view, product_view, add_to_cart, purchase'),
  column('event_time', 'TIMESTAMP', 'timestamp: event time (UTC, milliseconds)'),
  column('schema_version', 'INT32', 'schemaVersion of the event (1 when the producer omitted it)'),
  column('data', 'STRING', "data as JSON text, e.g. json_extract_scalar(data, '$.amount')"),
  column('event', 'STRING', 'the whole event as JSON text, exactly as validated; replay reads it'),
  column('shard_id', 'STRING', 'Kinesis shard the record was read from'),
  column('sequence_number', 'STRING', 'Kinesis sequence number (ordered within a shard)'),
  column('arrival_time', 'TIMESTAMP', 'approximateArrivalTimestamp of the record on the stream'),
];

export const INVALID_COLUMNS: readonly ArchiveColumn[] = [
  column('shard_id', 'STRING', 'Kinesis shard the record was read from'),
  column('sequence_number', 'STRING', 'Kinesis sequence number'),
  column('arrival_time', 'TIMESTAMP', 'approximateArrivalTimestamp of the record on the stream'),
  column('partition_key', 'STRING', 'the record partition key (the userId for a well-behaved producer)'),
  column('reason', 'STRING', 'why the record is invalid'),
  column('raw_data', 'STRING', 'the record data exactly as it arrived, base64'),
];

/** Partition columns, in key order (see layout.ts). */
export const PARTITION_COLUMNS = [
  { name: 'ub', glue: 'int', comment: 'user bucket: FNV-1a(userId) mod 16' },
  { name: 'dt', glue: 'string', comment: 'UTC day of the event time (arrival time for invalid records)' },
  { name: 'hr', glue: 'int', comment: 'UTC hour, 00-23' },
] as const;
