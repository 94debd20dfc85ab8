/**
 * What replay reads: the on-failure queue's invocation records (the format Lambda sends and the
 * local runner copies, lib/lambda-event.ts) and the stream records they point at.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Message } from '@aws-sdk/client-sqs';
import type { StreamRecord } from '../../../lib/lambda-event.js';
import { compareSequence } from '../../../services/shared/sequence.js';

export interface FailureMessage {
  messageId: string;
  receiptHandle: string;
  condition: string;
  invokeCount?: number;
  shardId: string;
  start: string;
  end: string;
  batchSize: number;
  streamArn?: string;
}

/** The invocation record's batch info, or a reason it is not one. */
export function parseFailureMessage(message: Message): FailureMessage | { error: string } {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(message.Body ?? '') as Record<string, unknown>;
  } catch {
    return { error: 'message body is not JSON' };
  }
  const info = body.KinesisBatchInfo as Record<string, unknown> | undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const shardId = str(info?.shardId);
  const start = str(info?.startSequenceNumber);
  const end = str(info?.endSequenceNumber);
  if (!shardId || !start || !end)
    return { error: 'no KinesisBatchInfo (shardId, start and end sequence numbers)' };
  const context = body.requestContext as Record<string, unknown> | undefined;
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    condition: str(context?.condition) ?? 'unknown',
    invokeCount:
      typeof context?.approximateInvokeCount === 'number' ? context.approximateInvokeCount : undefined,
    shardId,
    start,
    end,
    batchSize: Number(info?.batchSize ?? 0),
    streamArn: str(info?.streamArn),
  };
}

export interface RangeRead {
  records: StreamRecord[];
  /** The first record still on the stream was after `from`: the ones before are past retention. */
  trimmed: boolean;
}

const isTrimmedError = (err: unknown) =>
  ['InvalidArgumentException', 'ResourceNotFoundException', 'ExpiredIteratorException'].includes(
    (err as { name?: string }).name ?? '',
  );

/** The shard's records from `from` through `to` (GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords). */
export async function readRange(
  kinesis: Pick<KinesisClient, 'send'>,
  streamName: string,
  shardId: string,
  from: string,
  to: string,
): Promise<RangeRead> {
  let iterator: string | undefined;
  let trimmed = false;
  try {
    ({ ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: from,
      }),
    ));
  } catch (err) {
    // A sequence number past retention: read what is left from the trim horizon.
    if (!isTrimmedError(err)) throw err;
    trimmed = true;
    ({ ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    ));
  }
  const records: StreamRecord[] = [];
  let empties = 0;
  let first = true;
  while (iterator) {
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    const got = out.Records ?? [];
    for (const r of got) {
      const seq = r.SequenceNumber!;
      if (first) {
        if (compareSequence(seq, from) > 0) trimmed = true;
        first = false;
      }
      if (compareSequence(seq, from) < 0) continue;
      if (compareSequence(seq, to) > 0) return { records, trimmed };
      records.push({
        shardId,
        sequenceNumber: seq,
        partitionKey: r.PartitionKey ?? '',
        data: r.Data ?? new Uint8Array(0),
        arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
      });
    }
    empties = got.length === 0 ? empties + 1 : 0;
    // At the tip of an open shard (nothing more yet), at the end of a closed one, or stuck.
    if ((got.length === 0 && (out.MillisBehindLatest ?? 0) === 0) || empties >= 50) break;
    iterator = out.NextShardIterator;
  }
  if (first) trimmed = true; // nothing at all from `from` on
  return { records, trimmed };
}
