/**
 * What Lambda's event source mapping does with one shard's records: batch them by size and
 * batching window, invoke the function, and honour the answer — partial batch failures (resume
 * from the earliest reported sequence number), function errors (bisect, retry with back-off),
 * MaximumRetryAttempts and MaximumRecordAgeInSeconds (then the on-failure destination). The
 * checkpoint only moves past records that succeeded or were sent to the destination.
 */
import type { EventSourceMappingSpec } from '../../lib/config.js';
import type { FailureCondition, StreamRecord } from '../../lib/lambda-event.js';
import { sleep } from './processes.js';
import type { InvokeOutcome } from './sandbox.js';

export interface ShardProcessorHooks {
  invoke(records: StreamRecord[]): Promise<InvokeOutcome>;
  sendToDestination(
    records: StreamRecord[],
    condition: FailureCondition,
    invokeCount: number,
    error?: string,
  ): Promise<void>;
  commit(last: StreamRecord, processed: StreamRecord[]): void;
  log(message: string): void;
  /** Back-off before retry n (1-based); Lambda backs off exponentially. */
  backoffMs?: (attempt: number) => number;
}

export interface ShardStats {
  invocations: number;
  functionErrors: number;
  partialFailures: number;
  retries: number;
  bisects: number;
  sentToDestination: number;
}

export class ShardProcessor {
  private buffer: StreamRecord[] = [];
  private firstBufferedAt = 0;
  private wake?: () => void;
  private drained?: () => void;
  private stopped = false;
  private done?: Promise<void>;
  readonly stats: ShardStats = {
    invocations: 0,
    functionErrors: 0,
    partialFailures: 0,
    retries: 0,
    bisects: 0,
    sentToDestination: 0,
  };

  constructor(
    private readonly shardId: string,
    private readonly esm: EventSourceMappingSpec,
    private readonly hooks: ShardProcessorHooks,
  ) {}

  get buffered(): number {
    return this.buffer.length;
  }

  start(): void {
    this.done = this.loop();
  }

  /** Stops after the batch in flight (its outcome is applied); what is buffered stays unprocessed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.drained?.();
    await this.done;
  }

  /** Adds records; resolves when the buffer is small enough to take more (back-pressure). */
  async push(records: StreamRecord[]): Promise<void> {
    if (this.buffer.length === 0) this.firstBufferedAt = Date.now();
    this.buffer.push(...records);
    this.wake?.();
    while (!this.stopped && this.buffer.length > this.esm.batchSize * 4) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
  }

  private async loop(): Promise<void> {
    const windowMs = this.esm.maximumBatchingWindowInSeconds * 1000;
    while (!this.stopped) {
      const waitMs = this.buffer.length === 0 ? 1_000 : this.firstBufferedAt + windowMs - Date.now();
      if (this.buffer.length < this.esm.batchSize && (this.buffer.length === 0 || waitMs > 0)) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, Math.min(waitMs, 1_000)));
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.buffer.slice(0, this.esm.batchSize);
      await this.processRange(batch);
      if (this.stopped) break;
      this.buffer = this.buffer.slice(batch.length);
      this.firstBufferedAt = Date.now();
      if (this.buffer.length <= this.esm.batchSize * 4) this.drained?.();
    }
  }

  private backoff(attempt: number): Promise<void> {
    const ms = this.hooks.backoffMs?.(attempt) ?? Math.min(2_000, 100 * 2 ** (attempt - 1));
    return sleep(ms);
  }

  /** Processes the records until each one succeeded or went to the destination (or the processor stops). */
  private async processRange(records: StreamRecord[]): Promise<void> {
    let pending = records;
    let attempts = 0; // invocations of the current head record
    while (pending.length > 0 && !this.stopped) {
      const maxAgeMs = this.esm.maximumRecordAgeInSeconds * 1000;
      if (maxAgeMs > 0) {
        const now = Date.now();
        const expired = pending.filter((r) => now - r.arrivalMs > maxAgeMs);
        if (expired.length > 0) {
          // Arrival times grow along the shard, so expired records are a prefix.
          await this.toDestination(expired, 'RecordAgeExceeded', attempts);
          pending = pending.slice(expired.length);
          continue;
        }
      }
      this.stats.invocations += 1;
      attempts += 1;
      const outcome = await this.hooks.invoke(pending);
      if (this.stopped && !outcome.ok) return;
      let errorText: string | undefined;
      if (outcome.ok) {
        const failedAt = this.firstFailure(outcome.response, pending);
        if (failedAt === -1) {
          this.hooks.commit(pending[pending.length - 1]!, pending);
          return;
        }
        if (failedAt !== undefined) {
          this.stats.partialFailures += 1;
          if (failedAt > 0) {
            const ok = pending.slice(0, failedAt);
            this.hooks.commit(ok[ok.length - 1]!, ok);
            pending = pending.slice(failedAt);
            attempts = 0;
          }
          if (attempts > this.esm.maximumRetryAttempts) {
            await this.toDestination(pending, 'RetryAttemptsExhausted', attempts);
            return;
          }
          this.stats.retries += 1;
          await this.backoff(Math.max(1, attempts));
          continue;
        }
        errorText = 'invalid batchItemFailures response';
      } else {
        errorText = `${outcome.errorType}: ${outcome.errorMessage}`;
      }
      // Function error: the whole batch failed.
      this.stats.functionErrors += 1;
      this.hooks.log(`${this.shardId}: function error on ${pending.length} record(s): ${errorText}`);
      if (this.esm.bisectBatchOnFunctionError && pending.length > 1) {
        this.stats.bisects += 1;
        const mid = Math.ceil(pending.length / 2);
        await this.processRange(pending.slice(0, mid));
        if (this.stopped) return;
        await this.processRange(pending.slice(mid));
        return;
      }
      if (attempts > this.esm.maximumRetryAttempts) {
        await this.toDestination(pending, 'RetryAttemptsExhausted', attempts, errorText);
        return;
      }
      this.stats.retries += 1;
      await this.backoff(attempts);
    }
  }

  /**
   * Index of the earliest record reported failed; -1 when none; undefined when the response is
   * not a valid partial batch response (Lambda then treats the whole batch as failed).
   */
  private firstFailure(response: unknown, records: StreamRecord[]): number | undefined {
    if (response === null || response === undefined || typeof response !== 'object') return -1;
    const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return -1;
    if (!Array.isArray(failures)) return undefined;
    if (failures.length === 0) return -1;
    let earliest = Number.POSITIVE_INFINITY;
    for (const f of failures) {
      const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || id === '') return undefined;
      const index = records.findIndex((r) => r.sequenceNumber === id);
      if (index < 0) return undefined;
      earliest = Math.min(earliest, index);
    }
    return earliest;
  }

  private async toDestination(
    records: StreamRecord[],
    condition: FailureCondition,
    invokeCount: number,
    error?: string,
  ) {
    for (;;) {
      try {
        await this.hooks.sendToDestination(records, condition, invokeCount, error);
        break;
      } catch (err) {
        if (this.stopped) return;
        this.hooks.log(
          `${this.shardId}: on-failure destination unreachable (${(err as Error).message}); retrying`,
        );
        await sleep(1_000);
      }
    }
    this.stats.sentToDestination += records.length;
    this.hooks.commit(records[records.length - 1]!, []);
  }
}
