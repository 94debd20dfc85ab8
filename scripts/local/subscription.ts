/**
 * One enhanced fan-out subscription to one shard, kept alive the way Lambda does: re-subscribe
 * before the 5-minute expiry (and after any error) from the continuation sequence number, so no
 * record is missed or repeated. Records are handed to `onRecords` in sequence order.
 */
import { type KinesisClient, type StartingPosition, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import type { StreamRecord } from '../../lib/lambda-event.js';
import { sleep } from './processes.js';

export interface SubscriptionOptions {
  kinesis: KinesisClient;
  consumerArn: string;
  shardId: string;
  /** Where to start when there is no checkpoint. */
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Resume after this sequence number (the checkpoint). */
  after?: string;
  /** Re-subscribe this often (AWS ends a subscription after 5 minutes). */
  resubscribeMs: number;
  onRecords: (records: StreamRecord[]) => Promise<void>;
  onLag?: (millisBehindLatest: number) => void;
  log: (message: string) => void;
}

export class Subscription {
  private stopped = false;
  private abort?: AbortController;
  private position: StartingPosition;
  private lastSeq?: bigint;
  /**
   * Set when SubscribeToShard itself says the shard is closed and fully read (ChildShards without
   * a continuation, as AWS sends). kinesis-local never sends that, so the mapping also checks a
   * closed shard's end with GetRecords (see FunctionMapping.readToEnd).
   */
  ended = false;
  subscribeCount = 0;
  private done?: Promise<void>;

  constructor(private readonly o: SubscriptionOptions) {
    this.position = o.after
      ? { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: o.after }
      : o.startingPosition === 'LATEST'
        ? { Type: 'AT_TIMESTAMP', Timestamp: new Date() } // LATEST as of the mapping's creation, stable across re-subscribes
        : { Type: 'TRIM_HORIZON' };
    if (o.after) this.lastSeq = BigInt(o.after);
  }

  /** The last sequence number handed to `onRecords` (or the checkpoint it resumed after). */
  get lastDelivered(): string | undefined {
    return this.lastSeq?.toString();
  }

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.done;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let inUse = 0;
    while (!this.stopped && !this.ended) {
      const abort = new AbortController();
      this.abort = abort;
      const timer = setTimeout(() => abort.abort(), this.o.resubscribeMs);
      try {
        const response = await this.o.kinesis.send(
          new SubscribeToShardCommand({
            ConsumerARN: this.o.consumerArn,
            ShardId: this.o.shardId,
            StartingPosition: this.position,
          }),
          { abortSignal: abort.signal },
        );
        this.subscribeCount += 1;
        failures = 0;
        inUse = 0;
        for await (const message of response.EventStream ?? []) {
          const event = message.SubscribeToShardEvent;
          if (!event) continue;
          const records: StreamRecord[] = [];
          for (const r of event.Records ?? []) {
            const seq = BigInt(r.SequenceNumber!);
            if (this.lastSeq !== undefined && seq <= this.lastSeq) continue; // never hand a record over twice
            this.lastSeq = seq;
            records.push({
              shardId: this.o.shardId,
              sequenceNumber: r.SequenceNumber!,
              partitionKey: r.PartitionKey!,
              data: r.Data ?? new Uint8Array(),
              arrivalMs: r.ApproximateArrivalTimestamp
                ? new Date(r.ApproximateArrivalTimestamp).getTime()
                : Date.now(),
            });
          }
          if (event.MillisBehindLatest !== undefined) this.o.onLag?.(event.MillisBehindLatest);
          if (event.ContinuationSequenceNumber) {
            this.position = {
              Type: 'AFTER_SEQUENCE_NUMBER',
              SequenceNumber: event.ContinuationSequenceNumber,
            };
          } else if (this.lastSeq !== undefined) {
            this.position = { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.lastSeq.toString() };
          }
          if (records.length > 0) await this.o.onRecords(records); // back-pressure: the stream waits for us
          if (!event.ContinuationSequenceNumber && (event.ChildShards?.length ?? 0) > 0) {
            this.ended = true; // closed parent shard, read to its end
            break;
          }
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        const name = (err as Error).name;
        if (abort.signal.aborted) {
          // our own re-subscribe timer
        } else if (name === 'ResourceInUseException') {
          // The previous subscription is released a moment after it is dropped.
          inUse += 1;
          if (inUse % 10 === 0)
            this.o.log(
              `subscription ${this.o.shardId}: still in use by an earlier subscriber after ${inUse} tries`,
            );
          await sleep(500);
        } else {
          failures += 1;
          this.o.log(`subscription ${this.o.shardId}: ${name}: ${(err as Error).message}; re-subscribing`);
          await sleep(Math.min(5_000, 200 * 2 ** Math.min(failures, 5)));
        }
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
