import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  chunkEntries,
  InvalidEventError,
  MAX_RECORD_BYTES,
  PublishError,
  prepareEvent,
  publishBatch,
  publishEvent,
  RecordTooLargeError,
} from '../../../services/producer/index.js';
import { anEvent } from '../../helpers/records.js';

type Outcome = 'ok' | string;
/** A Kinesis client whose PutRecords answers from a script: per call, per record 'ok' or an error code. */
function scriptedKinesis(script: Array<(count: number) => Outcome[] | Error>) {
  const calls: Array<{ partitionKeys: string[]; eventIds: string[] }> = [];
  const client = {
    send: async (command: PutRecordsCommand) => {
      const records = command.input.Records ?? [];
      calls.push({
        partitionKeys: records.map((r) => r.PartitionKey as string),
        eventIds: records.map((r) => JSON.parse(Buffer.from(r.Data as Uint8Array).toString()).eventId),
      });
      const step = script[calls.length - 1] ?? ((n: number) => Array<Outcome>(n).fill('ok'));
      const outcome = step(records.length);
      if (outcome instanceof Error) throw outcome;
      return {
        FailedRecordCount: outcome.filter((o) => o !== 'ok').length,
        Records: outcome.map((o, i) =>
          o === 'ok'
            ? { SequenceNumber: String(i), ShardId: 's' }
            : { ErrorCode: o, ErrorMessage: `${o} happened` },
        ),
      };
    },
  } as unknown as KinesisClient;
  return { client, calls };
}

const noSleep = async () => {};

describe('prepareEvent', () => {
  it('assigns an eventId and a timestamp when absent', () => {
    const event = prepareEvent({ userId: 'u', eventType: 'page_view' }, () => 1_764_000_000_000);
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.timestamp).toBe(1_764_000_000_000);
    expect(event.data).toEqual({});
  });

  it('keeps a given eventId', () => {
    expect(prepareEvent({ ...anEvent(), eventId: 'mine' }).eventId).toBe('mine');
  });

  it('rejects an event that breaks the schema with the reason', () => {
    expect(() => prepareEvent({ userId: 'u', eventType: 'purchase', data: { amount: -5 } })).toThrow(
      new InvalidEventError('data.amount must be a finite number >= 0'),
    );
  });

  it('bounds ids by UTF-8 bytes through the shared schema, as the consumers do', () => {
    expect(() => prepareEvent({ userId: 'ü'.repeat(65), eventType: 'page_view' })).toThrow(
      new InvalidEventError('userId must be at most 128 bytes (UTF-8)'),
    );
  });
});

describe('chunkEntries', () => {
  it('starts a new request after 500 records', () => {
    const chunks = chunkEntries(Array.from({ length: 1_001 }, () => ({ bytes: 10 })));
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 1]);
  });

  it('starts a new request before 5 MiB', () => {
    const chunks = chunkEntries(Array.from({ length: 6 }, () => ({ bytes: 1_000_000 })));
    expect(chunks.map((c) => c.length)).toEqual([5, 1]);
  });
});

describe('publishBatch', () => {
  it('keys every record by userId and sends in one request', async () => {
    const { client, calls } = scriptedKinesis([]);
    const result = await publishBatch([anEvent({ userId: 'a' }), anEvent({ userId: 'b' })], {
      kinesis: client,
      stream: 's',
    });
    expect(result).toEqual({ sent: 2, failed: [], requests: 1 });
    expect(calls[0]?.partitionKeys).toEqual(['a', 'b']);
  });

  it('re-sends only the records that failed', async () => {
    const events = [anEvent(), anEvent(), anEvent()];
    const { client, calls } = scriptedKinesis([() => ['ok', 'ProvisionedThroughputExceededException', 'ok']]);
    const result = await publishBatch(events, { kinesis: client, stream: 's', sleep: noSleep });
    expect(result).toEqual({ sent: 3, failed: [], requests: 2 });
    expect(calls[1]?.eventIds).toEqual([events[1]?.eventId]);
  });

  it('backs off exponentially with jitter between attempts', async () => {
    const delays: number[] = [];
    const failing = () => ['InternalFailure'];
    const { client } = scriptedKinesis([failing, failing, failing, failing]);
    await publishBatch([anEvent()], {
      kinesis: client,
      stream: 's',
      maxAttempts: 4,
      baseDelayMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(delays).toEqual([100, 200, 400]);
  });

  it('reports what still fails after the last attempt instead of throwing', async () => {
    const event = anEvent();
    const failing = () => ['ProvisionedThroughputExceededException'];
    const { client, calls } = scriptedKinesis([failing, failing, failing]);
    const result = await publishBatch([event], {
      kinesis: client,
      stream: 's',
      maxAttempts: 3,
      sleep: noSleep,
    });
    expect(calls).toHaveLength(3);
    expect(result.sent).toBe(0);
    expect(result.failed).toEqual([
      {
        event,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'ProvisionedThroughputExceededException happened',
      },
    ]);
  });

  it('retries a request that threw, and gives up at once on a permanent error', async () => {
    const transient = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const missing = Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException' });
    const { client, calls } = scriptedKinesis([() => transient, () => missing]);
    const result = await publishBatch([anEvent()], { kinesis: client, stream: 's', sleep: noSleep });
    expect(calls).toHaveLength(2);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['ResourceNotFoundException']);
  });

  it('reports an oversized record and still sends the rest', async () => {
    const big = anEvent({ data: { blob: 'x'.repeat(MAX_RECORD_BYTES) } });
    const small = anEvent();
    const { client, calls } = scriptedKinesis([]);
    const result = await publishBatch([big, small], { kinesis: client, stream: 's' });
    expect(result.sent).toBe(1);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['RecordTooLargeError']);
    expect(calls[0]?.eventIds).toEqual([small.eventId]);
  });
});

describe('publishEvent', () => {
  it('throws a clear error for a record over 1 MiB', async () => {
    const { client } = scriptedKinesis([]);
    await expect(
      publishEvent(anEvent({ data: { blob: 'x'.repeat(MAX_RECORD_BYTES) } }), {
        kinesis: client,
        stream: 's',
      }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
  });

  it('hands back the prepared event when it finally fails, so a retry keeps its eventId', async () => {
    const failing = () => ['InternalFailure'];
    const { client } = scriptedKinesis([failing, failing]);
    const error = await publishEvent(
      { userId: 'u', eventType: 'page_view' },
      { kinesis: client, stream: 's', maxAttempts: 2, sleep: noSleep },
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect((error as PublishError).errorCode).toBe('InternalFailure');
  });

  it('returns the completed event once it is on the stream', async () => {
    const { client } = scriptedKinesis([]);
    const event = await publishEvent(
      { userId: 'u', eventType: 'page_view' },
      { kinesis: client, stream: 's' },
    );
    expect(event.userId).toBe('u');
  });
});
