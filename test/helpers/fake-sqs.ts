/** A stand-in SQS client for unit tests: records SendMessageBatch entries; faults can be injected. */
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface SentMessage {
  queueUrl: string;
  body: Record<string, unknown>;
  attributes: Record<string, { StringValue?: string }>;
}

export class FakeSqs {
  readonly messages: SentMessage[] = [];
  /** Entry ids (per request) to report as failed in the next request. */
  failEntriesNext: string[] = [];
  failNextRequest?: Error;

  asClient(): SQSClient {
    return {
      send: (command: { input: Record<string, unknown> }) => this.send(command),
    } as unknown as SQSClient;
  }

  async send(command: { input: Record<string, unknown> }): Promise<Record<string, unknown>> {
    if (this.failNextRequest) {
      const error = this.failNextRequest;
      this.failNextRequest = undefined;
      throw error;
    }
    const entries = command.input.Entries as Array<{
      Id: string;
      MessageBody: string;
      MessageAttributes: SentMessage['attributes'];
    }>;
    const failing = new Set(this.failEntriesNext);
    this.failEntriesNext = [];
    const failed = [];
    for (const entry of entries) {
      if (failing.has(entry.Id)) {
        failed.push({ Id: entry.Id, Code: 'InternalError', SenderFault: false });
        continue;
      }
      this.messages.push({
        queueUrl: command.input.QueueUrl as string,
        body: JSON.parse(entry.MessageBody),
        attributes: entry.MessageAttributes,
      });
    }
    return { Successful: [], Failed: failed };
  }
}
