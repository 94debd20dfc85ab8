/**
 * The invalid-records queue: a record that is not valid JSON or breaks the schema is never
 * retried and never dropped. It is sent here with the reason, its raw data and its position.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk, mapWithConcurrency } from './batch.js';
import type { InvalidRecord } from './kinesis.js';

/** SQS takes 1 MiB per message; a Kinesis record can be 1 MiB, which is more once base64'd. */
export const MAX_RAW_DATA_CHARS = 700_000;

export interface InvalidRecordMessage {
  reason: string;
  function: string;
  streamArn: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  approximateArrivalTimestamp: string;
  rawData: string;
  rawDataBytes: number;
  rawDataTruncated: boolean;
}

export function toMessage(
  record: InvalidRecord,
  functionName: string,
  streamArn: string,
): InvalidRecordMessage {
  const truncated = record.rawData.length > MAX_RAW_DATA_CHARS;
  return {
    reason: record.reason,
    function: functionName,
    streamArn,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    approximateArrivalTimestamp: new Date(record.arrivalMs).toISOString(),
    // Truncated payloads can still be read whole from the stream by shard and sequence number.
    rawData: truncated ? record.rawData.slice(0, MAX_RAW_DATA_CHARS) : record.rawData,
    rawDataBytes: Buffer.byteLength(record.rawData, 'base64'),
    rawDataTruncated: truncated,
  };
}

/**
 * Sends invalid records to the queue, ten per request. Returns the sequence numbers that could
 * not be sent; the caller reports them as batch failures so Lambda re-delivers them.
 */
export async function sendInvalidRecords(
  records: readonly InvalidRecord[],
  options: { sqs: SQSClient; queueUrl: string; functionName: string; streamArn: string },
): Promise<string[]> {
  const failed: string[] = [];
  // A 10-record batch of near-1 MiB messages would exceed SQS's request size, so big ones go alone.
  const small = records.filter((r) => r.rawData.length < 80_000);
  const large = records.filter((r) => r.rawData.length >= 80_000);
  const batches = [...chunk(small, 10), ...large.map((r) => [r])];
  await mapWithConcurrency(batches, 4, async (batch) => {
    try {
      const out = await options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: batch.map((record, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(toMessage(record, options.functionName, options.streamArn)),
            MessageAttributes: {
              reason: { DataType: 'String', StringValue: record.reason.slice(0, 256) },
              function: { DataType: 'String', StringValue: options.functionName },
            },
          })),
        }),
      );
      for (const entry of out.Failed ?? []) {
        const record = batch[Number(entry.Id)];
        if (record) failed.push(record.sequenceNumber);
      }
    } catch {
      failed.push(...batch.map((r) => r.sequenceNumber));
    }
  });
  return failed;
}
