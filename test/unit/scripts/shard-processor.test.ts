/**
 * The local runner's emulation of Lambda's retry settings: -1 retries and -1 record age never
 * give up (the shard waits, in order), a finite budget still ends at the on-failure destination,
 * the back-off between retries grows exponentially up to its cap, and a stop ends a back-off.
 */
import type { EventSourceMappingSpec } from '../../../lib/config.js';
import type { FailureCondition, StreamRecord } from '../../../lib/lambda-event.js';
import type { InvokeOutcome } from '../../../scripts/local/sandbox.js';
import {
  exponentialBackoff,
  LOCAL_BACKOFF,
  retriesExhausted,
  ShardProcessor,
} from '../../../scripts/local/shard-processor.js';

const ESM: EventSourceMappingSpec = {
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
  maximumRetryAttempts: -1,
  bisectBatchOnFunctionError: true,
  maximumRecordAgeInSeconds: -1,
};

function records(n: number, arrivalMs = Date.now()): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    shardId: 'shardId-0',
    sequenceNumber: String(1000 + i),
    partitionKey: `user-${i % 3}`,
    data: new Uint8Array([i]),
    arrivalMs,
  }));
}

const ok = (): InvokeOutcome => ({ ok: true, response: undefined, durationMs: 1 });
const thrown = (): InvokeOutcome => ({
  ok: false,
  errorType: 'ServiceUnavailable',
  errorMessage: 'DynamoDB is down',
  durationMs: 1,
});

/** A processor whose function fails while `down()` is true, recording every invocation. */
function harness(
  esm: Partial<EventSourceMappingSpec>,
  behaviour: (batch: StreamRecord[], call: number) => InvokeOutcome,
  backoff: (attempt: number) => number = () => 1,
) {
  const calls: string[][] = [];
  const committed: string[] = [];
  const destination: Array<{ seqs: string[]; condition: FailureCondition; invokeCount: number }> = [];
  const waits: number[] = [];
  const processor = new ShardProcessor(
    'shardId-0',
    { ...ESM, ...esm },
    {
      invoke: async (batch) => {
        calls.push(batch.map((r) => r.sequenceNumber));
        return behaviour(batch, calls.length);
      },
      sendToDestination: async (batch, condition, invokeCount) => {
        destination.push({ seqs: batch.map((r) => r.sequenceNumber), condition, invokeCount });
      },
      commit: (_last, processed) => committed.push(...processed.map((r) => r.sequenceNumber)),
      log: () => undefined,
      backoffMs: (attempt) => {
        waits.push(backoff(attempt));
        return backoff(attempt);
      },
    },
  );
  return { processor, calls, committed, destination, waits };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('retry settings', () => {
  test('-1 retries: a failing batch is retried past any finite budget, then applied in order, nothing to the destination', async () => {
    const FAILURES = 250; // far past Lambda's largest finite budget of a typical setting (10)
    let failuresLeft = FAILURES;
    const h = harness({ bisectBatchOnFunctionError: false }, () => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return thrown();
      }
      return ok();
    });
    h.processor.start();
    await h.processor.push(records(5));
    await until(() => h.committed.length === 5);
    await h.processor.stop();
    expect(h.destination).toEqual([]);
    expect(h.committed).toEqual(['1000', '1001', '1002', '1003', '1004']);
    expect(h.calls).toHaveLength(FAILURES + 1);
    expect(h.processor.stats).toMatchObject({
      retries: FAILURES,
      maxAttempts: FAILURES + 1,
      sentToDestination: 0,
    });
  });

  test('-1 retries with bisect: the halves wait for the head, and order is kept', async () => {
    let down = true;
    const h = harness({}, () => (down ? thrown() : ok()));
    h.processor.start();
    await h.processor.push(records(8));
    await until(() => h.calls.length > 60);
    expect(h.committed).toEqual([]);
    // Bisected to the first record, which is retried alone: nothing after it is invoked meanwhile.
    expect(h.calls.slice(-20).every((c) => c.length === 1 && c[0] === '1000')).toBe(true);
    down = false;
    await until(() => h.committed.length === 8);
    await h.processor.stop();
    expect(h.committed).toEqual(records(8).map((r) => r.sequenceNumber));
    expect(h.destination).toEqual([]);
  });

  test('-1 retries with partial batch failures: resumes from the reported record until it succeeds', async () => {
    let reports = 40;
    const h = harness({}, (batch) => {
      if (reports === 0) return ok();
      reports -= 1;
      const failed = batch.find((r) => r.sequenceNumber === '1003');
      return {
        ok: true,
        response: { batchItemFailures: failed ? [{ itemIdentifier: '1003' }] : [] },
        durationMs: 1,
      };
    });
    h.processor.start();
    await h.processor.push(records(6));
    await until(() => h.committed.length === 6);
    await h.processor.stop();
    expect(h.committed).toEqual(['1000', '1001', '1002', '1003', '1004', '1005']);
    expect(h.destination).toEqual([]);
    expect(h.calls.slice(1).every((c) => c[0] === '1003')).toBe(true);
  });

  test('a finite budget still ends at the destination after 1 + maximumRetryAttempts invocations', async () => {
    const h = harness({ maximumRetryAttempts: 3, bisectBatchOnFunctionError: false }, () => thrown());
    h.processor.start();
    await h.processor.push(records(2));
    await until(() => h.destination.length === 1);
    await h.processor.stop();
    expect(h.calls).toHaveLength(4);
    expect(h.destination).toEqual([
      { seqs: ['1000', '1001'], condition: 'RetryAttemptsExhausted', invokeCount: 4 },
    ]);
  });

  test('0 retries: one invocation, then the destination', async () => {
    const h = harness({ maximumRetryAttempts: 0, bisectBatchOnFunctionError: false }, () => thrown());
    h.processor.start();
    await h.processor.push(records(1));
    await until(() => h.destination.length === 1);
    await h.processor.stop();
    expect(h.calls).toHaveLength(1);
  });

  test('-1 record age: records of any age are invoked, never expired', async () => {
    const h = harness({}, () => ok());
    h.processor.start();
    await h.processor.push(records(3, Date.now() - 30 * 24 * 3_600_000));
    await until(() => h.committed.length === 3);
    await h.processor.stop();
    expect(h.destination).toEqual([]);
  });

  test('a finite record age sends records past it to the destination, unlimited retries or not', async () => {
    const h = harness({ maximumRecordAgeInSeconds: 60 }, () => ok());
    h.processor.start();
    await h.processor.push(records(2, Date.now() - 61_000));
    await until(() => h.destination.length === 1);
    await h.processor.stop();
    expect(h.calls).toEqual([]);
    expect(h.destination[0]).toMatchObject({ seqs: ['1000', '1001'], condition: 'RecordAgeExceeded' });
  });

  test.each([
    [{ maximumRetryAttempts: -2 }, /maximumRetryAttempts/],
    [{ maximumRetryAttempts: 10_001 }, /maximumRetryAttempts/],
    [{ maximumRetryAttempts: 1.5 }, /maximumRetryAttempts/],
    [{ maximumRecordAgeInSeconds: 0 }, /maximumRecordAgeInSeconds/],
    [{ maximumRecordAgeInSeconds: 604_801 }, /maximumRecordAgeInSeconds/],
  ])('refuses %j', (esm, message) => {
    expect(() => harness(esm, () => ok())).toThrow(message);
  });

  test('retriesExhausted: -1 never, n after n + 1 invocations', () => {
    expect(retriesExhausted(1_000_000, -1)).toBe(false);
    expect(retriesExhausted(3, 2)).toBe(true);
    expect(retriesExhausted(3, 3)).toBe(false);
  });
});

describe('back-off', () => {
  test('exponential from the base, capped', () => {
    const b = exponentialBackoff(500, 30_000);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map(b)).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
    expect(() => exponentialBackoff(0, 10)).toThrow(/baseMs/);
    expect(() => exponentialBackoff(10, 5)).toThrow(/capMs/);
  });

  test('the local default: 500 ms doubling to 30 s', () => {
    expect(LOCAL_BACKOFF).toEqual({ baseMs: 500, capMs: 30_000 });
  });

  test('the processor waits the back-off of each consecutive attempt, restarting after progress', async () => {
    let call = 0;
    const h = harness(
      { bisectBatchOnFunctionError: false },
      (batch) => {
        call += 1;
        // Three failures of the head, then the first two records succeed and 1002 fails twice.
        if (call <= 3) return thrown();
        if (call === 4)
          return { ok: true, response: { batchItemFailures: [{ itemIdentifier: '1002' }] }, durationMs: 1 };
        if (call <= 6)
          return {
            ok: true,
            response: { batchItemFailures: [{ itemIdentifier: batch[0]!.sequenceNumber }] },
            durationMs: 1,
          };
        return ok();
      },
      exponentialBackoff(1, 8),
    );
    h.processor.start();
    await h.processor.push(records(4));
    await until(() => h.committed.length === 4);
    await h.processor.stop();
    expect(h.waits).toEqual([1, 2, 4, 1, 2, 4]);
  });

  test('stop() ends a long back-off at once', async () => {
    const h = harness(
      { bisectBatchOnFunctionError: false },
      () => thrown(),
      () => 3_600_000,
    );
    h.processor.start();
    await h.processor.push(records(1));
    await until(() => h.waits.length === 1);
    // Without the interruption, stop() would wait the hour and the test would time out.
    await h.processor.stop();
    expect(h.calls).toHaveLength(1);
    expect(h.committed).toEqual([]);
  });
});
