/** BASELINE, not production code: the seed producer, one PutRecord per event, in order. */
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { PulseEvent } from '../../../services/shared/event.js';

export async function seedPublish(
  events: readonly PulseEvent[],
  options: { kinesis: Pick<KinesisClient, 'send'>; stream: string },
): Promise<number> {
  let sent = 0;
  for (const event of events) {
    await options.kinesis.send(
      new PutRecordCommand({
        StreamName: options.stream,
        PartitionKey: event.userId,
        Data: Buffer.from(JSON.stringify(event), 'utf8'),
      }),
    );
    sent += 1;
  }
  return sent;
}
