/**
 * What real SQS refuses in SendMessageBatch, written from the SQS API reference independently of
 * the sender, because moto stores whatever it is given:
 * - body and string attribute values: only #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
 *   #x10000–#x10FFFF (a lone surrogate is none of these), and neither may be empty;
 * - one message (body + every attribute's name, data type and value, in UTF-8 bytes) at most the
 *   queue's MaximumMessageSize;
 * - one request at most 10 entries, distinct ids of [A-Za-z0-9_-]{1,80}, and at most 1 MiB in total.
 */
import resources from '../../services/resources.json' with { type: 'json' };

export const QUEUE_MAX_MESSAGE_BYTES = resources.queues['invalid-records'].maxMessageBytes;
export const REQUEST_MAX_BYTES = 1_048_576;
export const REQUEST_MAX_ENTRIES = 10;

export interface EntryInput {
  Id?: string;
  MessageBody?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }>;
}

function allowed(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** The first character SQS would refuse, as "#xHHHH", or undefined when the text is legal. */
export function firstIllegalCharacter(text: string): string | undefined {
  // for..of walks code points; a lone surrogate comes out alone, as a value in D800–DFFF.
  for (const char of text) {
    const codePoint = char.codePointAt(0) as number;
    if (!allowed(codePoint)) return `#x${codePoint.toString(16).toUpperCase()}`;
  }
  return undefined;
}

function bytes(text: string | undefined): number {
  return Buffer.byteLength(text ?? '', 'utf8');
}

/** The size SQS counts against MaximumMessageSize. */
export function messageBytes(entry: EntryInput): number {
  let total = bytes(entry.MessageBody);
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    total +=
      bytes(name) + bytes(value.DataType) + bytes(value.StringValue) + (value.BinaryValue?.byteLength ?? 0);
  }
  return total;
}

export interface Refusal {
  code: string;
  message: string;
}

/** Why SQS would refuse this entry, or undefined if it would accept it. */
export function entryRefusal(
  entry: EntryInput,
  maxMessageBytes = QUEUE_MAX_MESSAGE_BYTES,
): Refusal | undefined {
  const body = entry.MessageBody ?? '';
  if (body === '') return { code: 'InvalidParameterValue', message: 'message body must not be empty' };
  const bad = firstIllegalCharacter(body);
  if (bad) return { code: 'InvalidMessageContents', message: `invalid character ${bad} in the message body` };
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith('AWS.') || name.startsWith('Amazon.')) {
      return { code: 'InvalidParameterValue', message: `invalid attribute name ${JSON.stringify(name)}` };
    }
    if (!value.DataType)
      return { code: 'InvalidParameterValue', message: `attribute ${name} has no data type` };
    if (value.DataType.startsWith('String')) {
      if (!value.StringValue) return { code: 'InvalidParameterValue', message: `attribute ${name} is empty` };
      const badValue = firstIllegalCharacter(value.StringValue);
      if (badValue) {
        return {
          code: 'InvalidParameterValue',
          message: `invalid character ${badValue} in attribute ${name}`,
        };
      }
    }
  }
  const size = messageBytes(entry);
  if (size > maxMessageBytes) {
    return {
      code: 'InvalidParameterValue',
      message: `message is ${size} bytes; it must be shorter than ${maxMessageBytes + 1} bytes`,
    };
  }
  return undefined;
}

/** Why SQS would refuse the whole request, or undefined. */
export function requestRefusal(entries: readonly EntryInput[]): Refusal | undefined {
  if (entries.length === 0) return { code: 'EmptyBatchRequest', message: 'no entries' };
  if (entries.length > REQUEST_MAX_ENTRIES) {
    return { code: 'TooManyEntriesInBatchRequest', message: `${entries.length} entries` };
  }
  const ids = entries.map((e) => e.Id ?? '');
  if (ids.some((id) => !/^[A-Za-z0-9_-]{1,80}$/.test(id))) {
    return { code: 'InvalidBatchEntryId', message: 'bad entry id' };
  }
  if (new Set(ids).size !== ids.length) return { code: 'BatchEntryIdsNotDistinct', message: 'duplicate ids' };
  const total = entries.reduce((sum, e) => sum + messageBytes(e), 0);
  if (total > REQUEST_MAX_BYTES) {
    return {
      code: 'BatchRequestTooLong',
      message: `request is ${total} bytes; the limit is ${REQUEST_MAX_BYTES}`,
    };
  }
  return undefined;
}

/** An error shaped like the SDK's: `name` is the code, `$fault` says whose fault it is. */
export function sqsError(code: string, fault: 'client' | 'server', message = code): Error {
  return Object.assign(new Error(message), { name: code, $fault: fault, $metadata: {} });
}
