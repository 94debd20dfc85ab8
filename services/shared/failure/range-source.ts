/**
 * Where the re-drive reads a set-aside range from. The seam is `RangeSource`: today the stream
 * itself (KinesisRangeSource); a source that reads an archive can serve ranges the stream no
 * longer holds (the re-drive marks such entries `expired` and keeps them).
 */
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { sleep as realSleep, type Sleep } from '../retry.js';
import { compareSequence } from '../sequence.js';

/** One record as the stream holds it. */
export interface RangeRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  /** Approximate arrival time, epoch milliseconds. */
  arrivalMs: number;
}

export interface RangeSource {
  /**
   * The shard's records from `from` (inclusive) through `to` (inclusive), in order, one page at a
   * time, so a caller never holds more than a page. The first record is `from` itself when the
   * source still holds it; a later first record means the range's head is gone.
   */
  pages(at: { streamArn: string; shardId: string }, from: string, to: string): AsyncIterable<RangeRecord[]>;
}

/** How a request names the stream: by ARN, or by name when given one. */
export function streamParam(stream: string): { StreamARN: string } | { StreamName: string } {
  return stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream };
}

const isTrimmedError = (err: unknown) =>
  ['InvalidArgumentException', 'ResourceNotFoundException', 'ExpiredIteratorException'].includes(
    (err as { name?: string }).name ?? '',
  );

export interface KinesisRangeSourceOptions {
  kinesis: Pick<KinesisClient, 'send'>;
  /** Records per GetRecords call (Kinesis allows up to 10,000 and 10 MB). */
  pageSize?: number;
  /** Least time between two GetRecords calls on one shard (Kinesis allows 5 per second per shard). */
  minIntervalMs?: number;
  /** Empty pages in a row after which an open shard's tip is taken as reached. */
  maxEmptyPages?: number;
  sleep?: Sleep;
  now?: () => number;
}

/** Reads ranges back from the stream: GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords pages. */
export class KinesisRangeSource implements RangeSource {
  constructor(private readonly o: KinesisRangeSourceOptions) {}

  async *pages(
    at: { streamArn: string; shardId: string },
    from: string,
    to: string,
  ): AsyncIterable<RangeRecord[]> {
    const { kinesis } = this.o;
    const wait = this.o.sleep ?? realSleep;
    const now = this.o.now ?? Date.now;
    const minInterval = this.o.minIntervalMs ?? 200;
    const stream = streamParam(at.streamArn);
    let iterator: string | undefined;
    try {
      ({ ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({
          ...stream,
          ShardId: at.shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: from,
        }),
      ));
    } catch (err) {
      // `from` is past retention: what is left starts at the trim horizon (the caller sees the gap).
      if (!isTrimmedError(err)) throw err;
      ({ ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({ ...stream, ShardId: at.shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      ));
    }
    let empties = 0;
    let lastCall = 0;
    while (iterator) {
      const gap = lastCall + minInterval - now();
      if (lastCall > 0 && gap > 0) await wait(gap);
      lastCall = now();
      const out: GetRecordsCommandOutput = await kinesis.send(
        new GetRecordsCommand({
          ShardIterator: iterator,
          Limit: this.o.pageSize ?? 1000,
          ...('StreamARN' in stream ? { StreamARN: stream.StreamARN } : {}),
        }),
      );
      const got = out.Records ?? [];
      const page: RangeRecord[] = [];
      let past = false;
      for (const r of got) {
        const seq = r.SequenceNumber as string;
        if (compareSequence(seq, from) < 0) continue;
        if (compareSequence(seq, to) > 0) {
          past = true;
          break;
        }
        page.push({
          shardId: at.shardId,
          sequenceNumber: seq,
          partitionKey: r.PartitionKey ?? '',
          data: r.Data ?? new Uint8Array(0),
          arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
        });
      }
      if (page.length > 0) yield page;
      // `to` itself is a record: once it is read, nothing more is needed.
      if (past || page[page.length - 1]?.sequenceNumber === to) return;
      empties = got.length === 0 ? empties + 1 : 0;
      // At the tip of an open shard (nothing more yet), at the end of a closed one, or stuck.
      if (
        (got.length === 0 && (out.MillisBehindLatest ?? 0) === 0) ||
        empties >= (this.o.maxEmptyPages ?? 50)
      )
        return;
      iterator = out.NextShardIterator;
    }
  }
}

/**
 * The Kinesis event Lambda would send for these records, so the function's own code applies them
 * (the re-drive, and the local runner playing Lambda with its own invoker identity).
 */
export function toKinesisEvent(
  records: readonly RangeRecord[],
  streamArn: string,
  invoker: { roleArn: string; region: string } = {
    roleArn: 'pulse-redrive',
    region: streamArn.split(':')[3] ?? '',
  },
): KinesisStreamEvent {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: r.arrivalMs / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${r.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: invoker.roleArn,
      awsRegion: invoker.region,
      eventSourceARN: streamArn,
    })),
  };
}
