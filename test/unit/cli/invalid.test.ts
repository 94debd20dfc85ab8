import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePayload } from '../../../cli/src/invalid.js';
import { type Handlers, run } from './support.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
function message(id: string, reason: string, raw: string | Buffer) {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: JSON.stringify({
      reason,
      function: 'pulse-local-session-updater',
      shardId: 'shardId-000000000000',
      sequenceNumber: `4960${id}`,
      partitionKey: 'u1',
      approximateArrivalTimestamp: '2026-11-28T11:00:00.000Z',
      rawData: b64(raw),
      rawDataBytes: Buffer.byteLength(raw),
      rawDataTruncated: false,
    }),
  };
}

function queue(messages: ReturnType<typeof message>[]): Handlers {
  let served = false;
  return {
    ReceiveMessageCommand: () => {
      const out = served ? [] : messages;
      served = true;
      return { Messages: out };
    },
    ChangeMessageVisibilityBatchCommand: () => ({}),
    DeleteMessageBatchCommand: () => ({ Successful: [], Failed: [] }),
  };
}

const three = () => [
  message('1', 'not valid JSON: Unexpected token', '{"userId": "u1", '),
  message('2', 'eventType: required', '{"userId":"u1","eventId":"e2"}'),
  message('3', 'not valid JSON: bytes', Buffer.from([0xff, 0xfe, 0x00])),
];

test('decodes each payload as far as it goes: JSON, text, bytes', () => {
  expect(decodePayload(b64('{"a":1}'))).toEqual({ stage: 'json', json: { a: 1 } });
  expect(decodePayload(b64('{"a":'))).toMatchObject({ stage: 'text', text: '{"a":' });
  expect(decodePayload(b64(Buffer.from([0xff, 0x00])))).toMatchObject({ stage: 'bytes', hex: 'ff00' });
  expect(decodePayload(undefined)).toMatchObject({ stage: 'none' });
});

test('lists reasons, positions and decoded payloads; reading gives the messages back, deletes nothing', async () => {
  const r = await run(['invalid'], { handlers: queue(three()) });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('3 invalid record(s) in pulse-local-invalid-records');
  expect(r.stdout).toContain('eventType: required');
  expect(r.stdout).toContain('payload json {"userId":"u1","eventId":"e2"}');
  expect(r.stdout).toContain('payload text (not JSON');
  expect(r.stdout).toContain('payload bytes (not UTF-8) fffe00');
  const receive = r.calls.find((c) => c.command === 'ReceiveMessageCommand')!;
  expect(receive.input.VisibilityTimeout).toBe(30);
  expect(r.calls.some((c) => c.command === 'DeleteMessageBatchCommand')).toBe(false);
  const back = r.calls.find((c) => c.command === 'ChangeMessageVisibilityBatchCommand')!;
  expect((back.input.Entries as unknown[]).length).toBe(3);
});

test('--json and --export give the same entries', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pulse-invalid-')), 'out.jsonl');
  const r = await run(['invalid', '--json', '--export', file], { handlers: queue(three()) });
  expect(r.code).toBe(0);
  const printed = JSON.parse(r.stdout);
  const exported = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(exported).toEqual(printed);
  expect(printed.map((e: { payload: { stage: string } }) => e.payload.stage)).toEqual([
    'text',
    'json',
    'bytes',
  ]);
  expect(printed[1]).toMatchObject({
    reason: 'eventType: required',
    shardId: 'shardId-000000000000',
    partitionKey: 'u1',
  });
});

test('--delete without --yes in a non-interactive shell is refused and deletes nothing', async () => {
  const r = await run(['invalid', '--delete'], { handlers: queue(three()) });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain('Refusing without --yes');
  expect(r.calls.some((c) => c.command === 'DeleteMessageBatchCommand')).toBe(false);
});

test('--delete asks on a terminal; "y" deletes what was read', async () => {
  const no = await run(['invalid', '--delete'], { handlers: queue(three()), interactive: true, answer: 'n' });
  expect(no.code).toBe(3);
  const yes = await run(['invalid', '--delete'], {
    handlers: queue(three()),
    interactive: true,
    answer: 'y',
  });
  expect(yes.code).toBe(0);
  const del = yes.calls.find((c) => c.command === 'DeleteMessageBatchCommand')!;
  expect((del.input.Entries as Array<{ ReceiptHandle: string }>).map((e) => e.ReceiptHandle)).toEqual([
    'rh-1',
    'rh-2',
    'rh-3',
  ]);
  expect(yes.calls.some((c) => c.command === 'ChangeMessageVisibilityBatchCommand')).toBe(false);
});

test.each([
  [['--limit', '0'], '--limit must be a whole number from 1 to 10000, got "0"'],
  [['--limit', 'ten'], '--limit must be a whole number from 1 to 10000, got "ten"'],
  [['--yes'], '--yes only applies to --delete'],
  [['extra'], 'unexpected argument "extra"'],
])('argument error %p', async (args, message) => {
  const r = await run(['invalid', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.calls).toEqual([]);
});
