/**
 * The invalid-records queue: a record that is not valid JSON or breaks the schema is never
 * retried and never dropped. It is sent here with the reason, its raw data and its position.
 *
 * Every message must be one SQS accepts, or the record could never leave the shard:
 * - only characters SQS allows (#x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF) in the
 *   body and attribute values: the payload stays base64, the reason is cleaned, and the body's
 *   JSON escapes anything else (JSON.stringify leaves U+FFFE and U+FFFF raw);
 * - at most the queue's maximum message size (body + attributes), from services/resources.json,
 *   the number Terraform and the local stack create the queue with; base64 rawData is truncated
 *   to fit and flagged, and the whole record stays readable from the stream by its position;
 * - SendMessageBatch requests of at most 10 entries and SQS's total payload limit.
 * A message SQS still refuses as the sender's fault is sent again without its payload; if even
 * that is refused, the record is logged by position and the batch goes on (it stays readable from
 * the stream until the retention period ends). Throttling, server and network errors are
 * transient: those records are reported as batch failures and Lambda re-delivers them.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import resources from '../resources.json' with { type: 'json' };
import { mapWithConcurrency, packRequests } from './batch.js';
import type { InvalidRecord } from './kinesis.js';
import type { Logger } from './logger.js';

/** SQS's own limits on one SendMessageBatch request, whatever the queue's settings. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 1_048_576;

/** The queue's maximum message size: Terraform and the local stack create the queue with it. */
export const MAX_MESSAGE_BYTES: number = Math.min(
  resources.queues['invalid-records'].maxMessageBytes,
  SQS_MAX_BATCH_BYTES,
);

/** Reasons are ours and short; the bound keeps a future long one from crowding out the payload. */
const MAX_REASON_CHARS = 1_000;
/** SQS shows attributes in listings and filters; a short reason is what they are for. */
const MAX_REASON_ATTRIBUTE_CHARS = 256;
const REQUEST_CONCURRENCY = 4;

/** Characters outside the set SQS accepts in a body or a string attribute value. */
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text SQS accepts: each character it would refuse becomes U+FFFD. */
export function sqsSafeText(text: string): string {
  return text.replace(NOT_SQS_TEXT, '\uFFFD');
}

/**
 * JSON SQS accepts, with every string kept exactly: JSON.stringify escapes control characters and
 * lone surrogates but leaves U+FFFE/U+FFFF raw, and those can only occur inside strings, where a
 * \uXXXX escape means the same thing.
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    NOT_SQS_TEXT,
    (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
}

export interface InvalidRecordMessage {
  reason: string;
  function: string;
  streamArn: string;
  shardId: string;
  sequenceNumber: string;
  /** Exactly as the producer gave it (any Unicode; the JSON escapes what SQS would refuse). */
  partitionKey?: string;
  approximateArrivalTimestamp: string;
  /** The record's data, base64; a prefix (whole base64 quads) when `rawDataTruncated`. */
  rawData: string;
  /** The record's data size in bytes, before base64. */
  rawDataBytes: number;
  rawDataTruncated: boolean;
  /** Set on the fallback message: the SQS error that refused the full one; rawData is empty. */
  refusedWith?: string;
}

interface Outgoing {
  record: InvalidRecord;
  body: string;
  attributes: NonNullable<SendMessageBatchRequestEntry['MessageAttributes']>;
  /** What SQS counts against the message size: body + every attribute's name, type and value. */
  bytes: number;
}

export interface SendOptions {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  functionName: string;
  streamArn: string;
  logger: Logger;
  /** The queue's maximum message size; tests lower it to exercise truncation cheaply. */
  maxMessageBytes?: number;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function attributesFor(reason: string, functionName: string): Outgoing['attributes'] {
  const attributes: Outgoing['attributes'] = {
    // Sliced first and cleaned after: a slice can cut a surrogate pair in half.
    reason: { DataType: 'String', StringValue: cleanReason(reason.slice(0, MAX_REASON_ATTRIBUTE_CHARS)) },
  };
  // SQS refuses an empty attribute value.
  const fn = sqsSafeText(functionName);
  if (fn !== '') attributes.function = { DataType: 'String', StringValue: fn };
  return attributes;
}

function attributesBytes(attributes: Outgoing['attributes']): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? '');
  }
  return bytes;
}

function cleanReason(reason: string): string {
  const cleaned = sqsSafeText(reason.slice(0, MAX_REASON_CHARS));
  return cleaned === '' ? 'invalid record' : cleaned;
}

function positionFields(record: InvalidRecord, options: SendOptions) {
  return {
    reason: cleanReason(record.reason),
    function: options.functionName,
    streamArn: options.streamArn,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
  };
}

function arrivalIso(record: InvalidRecord): string {
  const date = new Date(record.arrivalMs);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/**
 * The message for an invalid record, at most `maxMessageBytes` (body + attributes): the raw data
 * whole if it fits, else its longest whole-quad base64 prefix that does.
 */
export function toMessage(
  record: InvalidRecord,
  options: SendOptions,
): { message: InvalidRecordMessage; body: string; attributes: Outgoing['attributes']; bytes: number } {
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const attributes = attributesFor(record.reason, options.functionName);
  const message: InvalidRecordMessage = {
    ...positionFields(record, options),
    partitionKey: record.partitionKey,
    approximateArrivalTimestamp: arrivalIso(record),
    rawData: '',
    rawDataBytes: Buffer.byteLength(record.rawData, 'base64'),
    rawDataTruncated: true,
  };
  // base64 is ASCII, one byte a character, so the room left is exact. It is measured with
  // `rawDataTruncated: true`; the untruncated message says "false", one byte more.
  const room = maxBytes - utf8Bytes(sqsSafeJson(message)) - attributesBytes(attributes);
  if (record.rawData.length <= room - 1) {
    message.rawData = record.rawData;
    message.rawDataTruncated = false;
  } else {
    message.rawData = record.rawData.slice(0, Math.max(0, Math.floor(room / 4) * 4));
  }
  const body = sqsSafeJson(message);
  return { message, body, attributes, bytes: utf8Bytes(body) + attributesBytes(attributes) };
}

/** The fallback: position, reason and the refusing error, no payload or partition key. */
export function toMinimalMessage(
  record: InvalidRecord,
  options: SendOptions,
  refusedWith: string,
): { message: InvalidRecordMessage; body: string; attributes: Outgoing['attributes']; bytes: number } {
  const attributes = attributesFor(record.reason, options.functionName);
  const message: InvalidRecordMessage = {
    ...positionFields(record, options),
    approximateArrivalTimestamp: arrivalIso(record),
    rawData: '',
    rawDataBytes: Buffer.byteLength(record.rawData, 'base64'),
    rawDataTruncated: true,
    refusedWith: sqsSafeText(refusedWith.slice(0, 100)),
  };
  const body = sqsSafeJson(message);
  return { message, body, attributes, bytes: utf8Bytes(body) + attributesBytes(attributes) };
}

/** Groups messages into SendMessageBatch requests: ≤ 10 entries and ≤ SQS's total payload each. */
export function packBatches<T extends { bytes: number }>(items: readonly T[]): T[][] {
  return packRequests(items, SQS_MAX_BATCH_ENTRIES, SQS_MAX_BATCH_BYTES);
}

/**
 * Sender faults that a retry can cure once an operator fixes something (throttling, credentials,
 * IAM, KMS, a missing queue). They affect every message alike, so dropping payloads over them
 * would lose every invalid record; they are retried like server faults instead.
 */
const RETRYABLE_SENDER_CODES =
  /Throttl|RequestThrottled|OverLimit|Kms|KMS|AccessDenied|NonExistentQueue|QueueDoesNotExist|InvalidSecurity|Token|Signature|Credential|UnrecognizedClient|RequestExpired|InvalidAddress/;

function isRefusal(senderFault: boolean, code: string): boolean {
  return senderFault && !RETRYABLE_SENDER_CODES.test(code);
}

function errorCode(err: unknown): string {
  return (err as { name?: string })?.name ?? 'UnknownError';
}

type Status = { kind: 'sent' } | { kind: 'retry'; code: string } | { kind: 'refused'; code: string };

async function sendBatch(batch: readonly Outgoing[], options: SendOptions): Promise<Status[]> {
  let out: SendMessageBatchCommandOutput;
  try {
    out = await options.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: batch.map((item, i) => ({
          Id: String(i),
          MessageBody: item.body,
          MessageAttributes: item.attributes,
        })),
      }),
    );
  } catch (err) {
    const code = errorCode(err);
    const senderFault = (err as { $fault?: string }).$fault === 'client';
    if (!isRefusal(senderFault, code)) return batch.map(() => ({ kind: 'retry', code }));
    // A refusal of the whole request may be one entry's fault: try each alone to find it.
    if (batch.length > 1) return (await Promise.all(batch.map((item) => sendBatch([item], options)))).flat();
    return [{ kind: 'refused', code }];
  }
  const statuses: Status[] = batch.map(() => ({ kind: 'sent' }));
  for (const failure of out.Failed ?? []) {
    const index = Number(failure.Id);
    if (!Number.isInteger(index) || index < 0 || index >= batch.length) continue;
    const code = String(failure.Code ?? 'UnknownError');
    statuses[index] = isRefusal(failure.SenderFault === true, code)
      ? { kind: 'refused', code }
      : { kind: 'retry', code };
  }
  return statuses;
}

async function sendAll(
  items: readonly Outgoing[],
  options: SendOptions,
): Promise<Array<{ item: Outgoing; status: Status }>> {
  const batches = packBatches(items);
  const results = await mapWithConcurrency(batches, REQUEST_CONCURRENCY, async (batch) => {
    const statuses = await sendBatch(batch, options);
    return batch.map((item, i) => ({ item, status: statuses[i] as Status }));
  });
  return results.flat();
}

/**
 * Sends invalid records to the queue. Returns the sequence numbers that could not be sent for a
 * transient reason; the caller reports them as batch failures so Lambda re-delivers them.
 */
export async function sendInvalidRecords(
  records: readonly InvalidRecord[],
  options: SendOptions,
): Promise<string[]> {
  const failed: string[] = [];
  const full = records.map((record) => ({ record, ...toMessage(record, options) }));
  const refused: Array<{ record: InvalidRecord; code: string }> = [];
  for (const { item, status } of await sendAll(full, options)) {
    if (status.kind === 'retry') failed.push(item.record.sequenceNumber);
    else if (status.kind === 'refused') refused.push({ record: item.record, code: status.code });
  }
  if (refused.length === 0) return failed;

  const minimal = refused.map(({ record, code }) => {
    options.logger.warn('invalid record refused by SQS, sending it without its payload', {
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      code,
    });
    return { record, ...toMinimalMessage(record, options, code) };
  });
  for (const { item, status } of await sendAll(minimal, options)) {
    if (status.kind === 'retry') failed.push(item.record.sequenceNumber);
    else if (status.kind === 'refused') {
      // Retrying cannot help, and failing the batch would stall the shard: the record stays
      // readable from the stream by this position until the stream's retention ends.
      options.logger.error('invalid record could not be quarantined', {
        streamArn: options.streamArn,
        shardId: item.record.shardId,
        sequenceNumber: item.record.sequenceNumber,
        code: status.code,
      });
    }
  }
  return failed;
}
