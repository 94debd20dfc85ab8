/**
 * docs/event.md: "The producer library validates with the same validateEvent, so it refuses
 * what the consumers would." The consumers also refuse an event more than MAX_EVENT_AHEAD_SECONDS
 * (300 s by default) ahead of its arrival; the review found prepareEvent/publishBatch accepting
 * any timestamp before 2100, so a producer got `sent` for events all three functions quarantine.
 * The producer now applies the same tolerance (option `maxEventAheadSeconds`) against its clock.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvalidEventError, prepareEvent, publishBatch } from '../../../services/producer/index.js';

const now = Date.UTC(2026, 10, 28, 12, 0, 0);
const at = (timestamp: number) => ({ userId: 'u-1', eventType: 'page_view', timestamp });

/** A Kinesis client that accepts every record and counts what it was sent. */
function acceptingKinesis() {
  const sent: string[] = [];
  const client = {
    send: async (command: { input: { Records?: Array<{ Data?: Uint8Array }> } }) => {
      const records = command.input.Records ?? [];
      for (const r of records) sent.push(JSON.parse(Buffer.from(r.Data as Uint8Array).toString()).eventId);
      return {
        FailedRecordCount: 0,
        Records: records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 's' })),
      };
    },
  } as unknown as KinesisClient;
  return { client, sent };
}

describe('producer vs the consumers on event time', () => {
  it('refuses an event dated a year ahead of now, as every consumer would', () => {
    const input = { userId: 'u-1', eventType: 'page_view', timestamp: now + 365 * 86_400_000 };
    expect(() => prepareEvent(input, () => now)).toThrow();
  });

  it('says how far ahead the event is and which tolerance it broke', () => {
    expect(() => prepareEvent(at(now + 301_000), () => now)).toThrow(
      new InvalidEventError(
        'timestamp is 301 s ahead of now; every consumer quarantines an event more than 300 s ahead ' +
          "(MAX_EVENT_AHEAD_SECONDS): check the producer's clock",
      ),
    );
  });

  it('accepts up to the tolerance ahead, and any late event', () => {
    expect(prepareEvent(at(now + 300_000), () => now).timestamp).toBe(now + 300_000);
    expect(prepareEvent(at(Date.UTC(2000, 0, 1)), () => now).timestamp).toBe(Date.UTC(2000, 0, 1));
  });

  it('takes the tolerance as maxEventAheadSeconds, with the consumers’ meaning and bounds', () => {
    expect(() => prepareEvent(at(now + 1_000), () => now, 0)).toThrow(InvalidEventError);
    expect(prepareEvent(at(now + 3_600_000), () => now, 3_600).timestamp).toBe(now + 3_600_000);
    for (const bad of [-1, 1.5, 86_401, Number.NaN])
      expect(() => prepareEvent(at(now), () => now, bad)).toThrow(RangeError);
  });

  it('publishBatch reports a future event in `failed` and never sends it', async () => {
    const { client, sent } = acceptingKinesis();
    const ok = { ...at(now), eventId: 'ok' };
    const ahead = { ...at(now + 86_400_000), eventId: 'ahead' };
    const result = await publishBatch([ok, ahead], { kinesis: client, stream: 's', now: () => now });
    expect(result.sent).toBe(1);
    expect(sent).toEqual(['ok']);
    expect(result.failed).toEqual([
      expect.objectContaining({
        errorCode: 'InvalidEventError',
        event: expect.objectContaining({ eventId: 'ahead' }),
      }),
    ]);
    const wider = await publishBatch([ahead], {
      kinesis: client,
      stream: 's',
      now: () => now,
      maxEventAheadSeconds: 86_400,
    });
    expect(wider.sent).toBe(1);
    await expect(
      publishBatch([ok], { kinesis: client, stream: 's', maxEventAheadSeconds: -5 }),
    ).rejects.toThrow(RangeError);
  });
});
