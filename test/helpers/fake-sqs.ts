/**
 * A stand-in SQS client for unit tests that refuses what real SQS refuses (see sqs-rules.ts):
 * illegal characters, oversized messages and requests. It records what it accepted and what it
 * refused; faults can be injected.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type EntryInput,
  entryRefusal,
  QUEUE_MAX_MESSAGE_BYTES,
  type Refusal,
  requestRefusal,
  sqsError,
} from './sqs-rules.js';

export interface SentMessage {
  queueUrl: string;
  body: Record<string, unknown>;
  /** The body exactly as sent. */
  rawBody: string;
  attributes: Record<string, { StringValue?: string }>;
}

export interface FakeSqsOptions {
  maxMessageBytes?: number;
  /**
   * How content refusals come back: per entry in `Failed` with SenderFault (the documented
   * SendMessageBatch behaviour), or as an error for the whole request (what some emulators do).
   */
  contentRefusals?: 'entry' | 'request';
}

export class FakeSqs {
  readonly messages: SentMessage[] = [];
  /** Every refusal, per entry or per request. */
  readonly refusals: Refusal[] = [];
  /** SendMessageBatch calls made, including refused ones. */
  requests = 0;
  /** Entry ids (per request) to report as failed (server side, retryable) in the next request. */
  failEntriesNext: string[] = [];
  failNextRequest?: Error;
  /** Refuses (sender fault, with this code) any entry whose body the predicate picks. */
  refuseWhen?: (body: string) => string | undefined;
  private readonly maxMessageBytes: number;
  private readonly contentRefusals: 'entry' | 'request';

  constructor(options: FakeSqsOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? QUEUE_MAX_MESSAGE_BYTES;
    this.contentRefusals = options.contentRefusals ?? 'entry';
  }

  asClient(): SQSClient {
    return {
      send: (command: { input: Record<string, unknown> }) => this.send(command),
    } as unknown as SQSClient;
  }

  async send(command: { input: Record<string, unknown> }): Promise<Record<string, unknown>> {
    this.requests += 1;
    if (this.failNextRequest) {
      const error = this.failNextRequest;
      this.failNextRequest = undefined;
      throw error;
    }
    const entries = (command.input.Entries ?? []) as EntryInput[];
    const whole = requestRefusal(entries);
    if (whole) {
      this.refusals.push(whole);
      throw sqsError(whole.code, 'client', whole.message);
    }
    const refusalOf = (entry: EntryInput): Refusal | undefined => {
      const injected = this.refuseWhen?.(entry.MessageBody ?? '');
      if (injected) return { code: injected, message: 'refused by the test' };
      return entryRefusal(entry, this.maxMessageBytes);
    };
    if (this.contentRefusals === 'request') {
      const refusal = entries.map(refusalOf).find((r) => r !== undefined);
      if (refusal) {
        this.refusals.push(refusal);
        throw sqsError(refusal.code, 'client', refusal.message);
      }
    }
    const failing = new Set(this.failEntriesNext);
    this.failEntriesNext = [];
    const successful = [];
    const failed = [];
    for (const entry of entries) {
      const id = entry.Id as string;
      if (failing.has(id)) {
        failed.push({ Id: id, Code: 'InternalError', SenderFault: false });
        continue;
      }
      const refusal = refusalOf(entry);
      if (refusal) {
        this.refusals.push(refusal);
        failed.push({ Id: id, Code: refusal.code, Message: refusal.message, SenderFault: true });
        continue;
      }
      const rawBody = entry.MessageBody as string;
      this.messages.push({
        queueUrl: command.input.QueueUrl as string,
        body: JSON.parse(rawBody),
        rawBody,
        attributes: (entry.MessageAttributes ?? {}) as SentMessage['attributes'],
      });
      successful.push({ Id: id, MessageId: `m-${this.messages.length}` });
    }
    return { Successful: successful, Failed: failed };
  }
}
