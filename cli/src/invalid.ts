/**
 * `pulse invalid`: what is in the invalid-records queue, with each record's reason and its payload
 * decoded as far as it decodes (base64 → UTF-8 → JSON). Reading does not consume: messages are
 * received with a short visibility timeout and made visible again at the end, unless --delete.
 */
import { writeFileSync } from 'node:fs';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { chunk } from '../../services/shared/batch.js';
import {
  COMMON_OPTIONS,
  confirm,
  defineCommand,
  EXIT,
  envOption,
  intOption,
  printJson,
  println,
  progress,
  UsageError,
  WRITE_OPTIONS,
} from './command.js';

const USAGE = `Usage: pulse invalid [--limit N] [--export file.jsonl] [--delete --yes] [--env E] [--json]

Reads the invalid-records queue (pulse-<env>-invalid-records): records that were not valid JSON or
broke the event schema, with the reason, where they were on the stream, and the payload decoded
as far as it decodes. Nothing is consumed: messages are read with a 30-second visibility timeout
and made visible again before the command ends — unless --delete is given (asks, or --yes).

Options:
  --limit N            read at most N messages (default 50, at most 10000)
  --export <file>      also write one JSON object per line (the message and its decoding)
  --delete             delete the messages read (after the export is written)
  -y, --yes            do not ask before deleting
  --env <name>         local | dev | staging | prod (default $PULSE_ENV, else local)
  --json               print the records as a JSON array
  -h, --help           this help`;

const VISIBILITY_SECONDS = 30;

export interface DecodedPayload {
  /** How far decoding got: base64 → bytes → UTF-8 text → JSON. */
  stage: 'none' | 'bytes' | 'text' | 'json';
  json?: unknown;
  text?: string;
  /** Hex of the first bytes when they are not UTF-8 text. */
  hex?: string;
  error?: string;
}

export interface InvalidEntry {
  messageId: string;
  reason: string;
  function?: string;
  shardId?: string;
  sequenceNumber?: string;
  partitionKey?: string;
  arrival?: string;
  rawDataBytes?: number;
  rawDataTruncated?: boolean;
  payload: DecodedPayload;
  /** The message body as sent, when it is not the expected JSON document. */
  body?: string;
}

export function decodePayload(rawData: unknown): DecodedPayload {
  if (typeof rawData !== 'string') return { stage: 'none', error: 'no rawData in the message' };
  const bytes = Buffer.from(rawData, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { stage: 'bytes', hex: bytes.subarray(0, 64).toString('hex'), error: 'not UTF-8 text' };
  }
  try {
    return { stage: 'json', json: JSON.parse(text) };
  } catch (err) {
    return {
      stage: 'text',
      text: text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text,
      error: (err as Error).message,
    };
  }
}

export function toEntry(message: Message): InvalidEntry {
  const body = message.Body ?? '';
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {
      messageId: message.MessageId ?? '',
      reason: message.MessageAttributes?.reason?.StringValue ?? '(message body is not JSON)',
      payload: { stage: 'none' },
      body,
    };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    messageId: message.MessageId ?? '',
    reason: str(doc.reason) ?? message.MessageAttributes?.reason?.StringValue ?? '(no reason)',
    function: str(doc.function),
    shardId: str(doc.shardId),
    sequenceNumber: str(doc.sequenceNumber),
    partitionKey: str(doc.partitionKey),
    arrival: str(doc.approximateArrivalTimestamp),
    rawDataBytes: typeof doc.rawDataBytes === 'number' ? doc.rawDataBytes : undefined,
    rawDataTruncated: doc.rawDataTruncated === true ? true : undefined,
    payload: decodePayload(doc.rawData),
  };
}

function describePayload(p: DecodedPayload): string {
  const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);
  if (p.stage === 'json') return `json ${clip(JSON.stringify(p.json))}`;
  if (p.stage === 'text') return `text (not JSON: ${p.error}) ${clip(JSON.stringify(p.text))}`;
  if (p.stage === 'bytes') return `bytes (not UTF-8) ${p.hex}`;
  return `(${p.error ?? 'nothing to decode'})`;
}

export const command = defineCommand({
  name: 'invalid',
  summary: 'Read the invalid-records queue',
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...WRITE_OPTIONS,
    limit: { type: 'string' },
    export: { type: 'string' },
    delete: { type: 'boolean' },
  },
  async run({ values }, io) {
    const env = envOption(values.env, io);
    const limit = intOption('--limit', values.limit, 50, 10_000);
    if (values.export !== undefined && values.export.trim() === '')
      throw new UsageError('--export needs a file name');
    if (values.yes && !values.delete) throw new UsageError('--yes only applies to --delete');

    const target = await io.connect(env);
    const queueUrl = await target.queueUrl(target.names.queue('invalid-records'));
    const received: Message[] = [];
    const seen = new Set<string>();
    const bar = progress(io);
    try {
      while (received.length < limit) {
        const out = await target.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, limit - received.length),
            VisibilityTimeout: VISIBILITY_SECONDS,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
          }),
        );
        const batch = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (batch.length === 0) break;
        for (const m of batch) seen.add(m.MessageId!);
        received.push(...batch);
        if (received.length >= 100) bar.update(`read ${received.length} message(s)…`);
      }
      bar.done();
      const entries = received.map(toEntry);
      if (values.export) {
        writeFileSync(values.export, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      }
      if (values.json) printJson(io, entries);
      else {
        println(
          io,
          `${entries.length} invalid record(s) in ${target.names.queue('invalid-records')}${entries.length === limit ? ` (--limit ${limit} reached; there may be more)` : ''}`,
        );
        for (const e of entries) {
          println(io, '');
          println(io, `  ${e.reason}`);
          println(
            io,
            `    at ${e.shardId ?? '?'} / ${e.sequenceNumber ?? '?'}  key ${e.partitionKey ?? '?'}  arrived ${e.arrival ?? '?'}  (${e.function ?? '?'})`,
          );
          println(
            io,
            `    payload ${describePayload(e.payload)}${e.rawDataTruncated ? ' [truncated in the message; whole record on the stream]' : ''}`,
          );
        }
        if (values.export) println(io, `\nwritten to ${values.export}`);
      }
      if (values.delete && received.length > 0) {
        await confirm(
          io,
          values.yes,
          `Delete these ${received.length} message(s) from the invalid-records queue?`,
        );
        for (const group of chunk(received, 10)) {
          const out = await target.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: group.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
          if (out.Failed?.length)
            throw new Error(
              `${out.Failed.length} message(s) could not be deleted: ${out.Failed[0]?.Message}`,
            );
        }
        io.stderr.write(`deleted ${received.length} message(s)\n`);
        received.length = 0;
      }
      return EXIT.ok;
    } finally {
      // Give back what was only read, so other readers need not wait out the visibility timeout.
      for (const group of chunk(received, 10)) {
        await target.sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: group.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle!,
                VisibilityTimeout: 0,
              })),
            }),
          )
          .catch(() => undefined);
      }
      target.close();
    }
  },
});
