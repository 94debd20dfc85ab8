import resources from '../../../services/resources.json' with { type: 'json' };
import {
  MAX_MESSAGE_BYTES,
  packBatches,
  SQS_MAX_BATCH_BYTES,
  sendInvalidRecords,
  sqsSafeJson,
  sqsSafeText,
} from '../../../services/shared/invalid-records.js';
import { decodeBatch, type InvalidRecord } from '../../../services/shared/kinesis.js';
import { createLogger } from '../../../services/shared/logger.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aRawRecord, STREAM_ARN } from '../../helpers/records.js';
import { entryRefusal, firstIllegalCharacter, sqsError } from '../../helpers/sqs-rules.js';

function setup(fake = new FakeSqs()) {
  const logs: Array<Record<string, unknown>> = [];
  const options = {
    sqs: fake.asClient(),
    queueUrl: 'q',
    functionName: 'fn',
    streamArn: STREAM_ARN,
    logger: createLogger('test', 'DEBUG', (line) => logs.push(JSON.parse(line))),
  };
  return { sqs: fake, logs, options };
}

const invalidOf = (...records: Parameters<typeof decodeBatch>[0]) => decodeBatch(records).invalid;

/** The largest record Kinesis accepts: 1 MiB of data and partition key together. */
const ONE_MIB = 1024 * 1024;

describe('sendInvalidRecords', () => {
  it('sends each invalid record with its reason, position and raw data', async () => {
    const { sqs, options } = setup();
    const record = aRawRecord('oops', { shardId: 'shardId-000000000001', sequenceNumber: '77' });
    expect(await sendInvalidRecords(invalidOf(record), options)).toEqual([]);
    expect(sqs.messages).toHaveLength(1);
    expect(sqs.messages[0]?.body).toMatchObject({
      function: 'fn',
      streamArn: STREAM_ARN,
      shardId: 'shardId-000000000001',
      sequenceNumber: '77',
      partitionKey: 'user-1',
      rawData: Buffer.from('oops').toString('base64'),
      rawDataBytes: 4,
      rawDataTruncated: false,
    });
    expect(sqs.messages[0]?.body.reason).toBe('data is not valid JSON');
    expect(sqs.messages[0]?.attributes.reason?.StringValue).toBe('data is not valid JSON');
  });

  it('returns the sequence numbers of entries SQS did not accept for a server reason', async () => {
    const { sqs, options } = setup();
    const invalid = invalidOf(
      aRawRecord('x', { sequenceNumber: '1' }),
      aRawRecord('y', { sequenceNumber: '2' }),
    );
    sqs.failEntriesNext = ['1'];
    expect(await sendInvalidRecords(invalid, options)).toEqual(['2']);
  });

  it('returns every sequence number of a request that failed in transit', async () => {
    const { sqs, options } = setup();
    const invalid = invalidOf(
      aRawRecord('x', { sequenceNumber: '1' }),
      aRawRecord('y', { sequenceNumber: '2' }),
    );
    sqs.failNextRequest = new Error('socket hang up');
    expect(await sendInvalidRecords(invalid, options)).toEqual(['1', '2']);
  });

  it.each([
    ['throttling', sqsError('RequestThrottled', 'client')],
    ['a server fault', sqsError('InternalError', 'server')],
    ['a KMS key the function may not use', sqsError('KmsAccessDenied', 'client')],
    ['a missing queue', sqsError('QueueDoesNotExist', 'client')],
  ])('treats %s as transient: the records are reported as failures, not dropped', async (_name, error) => {
    const { sqs, options, logs } = setup();
    sqs.failNextRequest = error;
    const invalid = invalidOf(aRawRecord('x', { sequenceNumber: '5' }));
    expect(await sendInvalidRecords(invalid, options)).toEqual(['5']);
    expect(logs.filter((l) => l.level === 'ERROR')).toEqual([]);
  });
});

describe('SQS-safe messages (issue 8, item 3)', () => {
  const hostile: Array<[string, Buffer]> = [
    ['a raw ESC (an ANSI log line)', Buffer.from('\u001b[31mERROR\u001b[0m something broke')],
    ['a NUL first byte', Buffer.from([0x00, 0x7b, 0x7d])],
    ['a control character inside a JSON string', Buffer.from('{"eventId":"a\u0001b"}')],
    ['U+FFFF', Buffer.from('\uffff{')],
    ['U+FFFE inside a JSON string', Buffer.from('{"eventId":"\ufffe", "x": }')],
    ['a lone surrogate written as an escape', Buffer.from('["\\ud83d", ')],
    ['the bytes of a lone surrogate (CESU-8)', Buffer.from([0x22, 0xed, 0xa0, 0xbd, 0x22])],
  ];

  it.each(hostile)(
    'quarantines a record with %s, with a reason that quotes none of it',
    async (_name, data) => {
      const { sqs, options } = setup();
      const record = aRawRecord(data, { sequenceNumber: '9' });
      expect(await sendInvalidRecords(invalidOf(record), options)).toEqual([]);
      expect(sqs.refusals).toEqual([]);
      expect(sqs.messages).toHaveLength(1);
      const message = sqs.messages[0]!;
      expect(message.body).toMatchObject({ sequenceNumber: '9', rawData: data.toString('base64') });
      expect(message.body.reason).toMatch(/^data is not valid (JSON|UTF-8)/);
      expect(firstIllegalCharacter(message.rawBody)).toBeUndefined();
    },
  );

  it('keeps a partition key made of any Unicode exactly, escaped in the JSON body', async () => {
    const { sqs, options } = setup();
    const partitionKey = 'k\u0000\u001b\uffff\ufffe\ud800\udfff-\u{1F600}';
    const record = aRawRecord('{', { partitionKey, sequenceNumber: '3' });
    expect(await sendInvalidRecords(invalidOf(record), options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages[0]?.body.partitionKey).toBe(partitionKey);
  });

  it('cleans a reason with characters SQS refuses, in the body and the attribute', async () => {
    const { sqs, options } = setup();
    const [record] = invalidOf(aRawRecord('{'));
    const dirty: InvalidRecord = { ...(record as InvalidRecord), reason: 'bad \u0000 \uffff \ud800 end' };
    expect(await sendInvalidRecords([dirty], options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages[0]?.body.reason).toBe('bad \ufffd \ufffd \ufffd end');
    expect(sqs.messages[0]?.attributes.reason?.StringValue).toBe('bad \ufffd \ufffd \ufffd end');
  });

  it('never sends an empty reason attribute, which SQS refuses', async () => {
    const { sqs, options } = setup();
    const [record] = invalidOf(aRawRecord('{'));
    expect(await sendInvalidRecords([{ ...(record as InvalidRecord), reason: '' }], options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages[0]?.attributes.reason?.StringValue).toBe('invalid record');
  });

  it('does not cut a surrogate pair in half when it shortens the reason attribute', async () => {
    const { sqs, options } = setup();
    const [record] = invalidOf(aRawRecord('{'));
    const reason = `${'r'.repeat(255)}\u{1F600}tail`;
    expect(await sendInvalidRecords([{ ...(record as InvalidRecord), reason }], options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages[0]?.attributes.reason?.StringValue).toBe(`${'r'.repeat(255)}\ufffd`);
  });

  it('escapes U+FFFE and U+FFFF that JSON.stringify leaves raw, and keeps the value', () => {
    const value = { s: 'a\uffffb\ufffe\u{10FFFF}' };
    expect(firstIllegalCharacter(JSON.stringify(value))).toBe('#xFFFF');
    const json = sqsSafeJson(value);
    expect(firstIllegalCharacter(json)).toBeUndefined();
    expect(JSON.parse(json)).toEqual(value);
    expect(sqsSafeText('\u0008ok\t\n\r')).toBe('\ufffdok\t\n\r');
  });
});

describe('refusals are permanent: fall back, never stall (issue 8, item 3)', () => {
  it('sends a minimal message (position and reason, no payload) when SQS refuses the full one', async () => {
    const { sqs, options, logs } = setup();
    sqs.refuseWhen = (body) => (body.includes('"rawData":"e30=') ? 'InvalidMessageContents' : undefined);
    const invalid = invalidOf(
      aRawRecord('{}', { sequenceNumber: '11' }),
      aRawRecord('x', { sequenceNumber: '12' }),
    );
    expect(await sendInvalidRecords(invalid, options)).toEqual([]);
    expect(sqs.messages.map((m) => m.body.sequenceNumber).sort()).toEqual(['11', '12']);
    const minimal = sqs.messages.find((m) => m.body.sequenceNumber === '11')!.body;
    expect(minimal).toMatchObject({
      shardId: 'shardId-000000000000',
      rawData: '',
      rawDataBytes: 2,
      rawDataTruncated: true,
      refusedWith: 'InvalidMessageContents',
    });
    expect(minimal.reason).toBe('schema: eventId must be a string');
    expect(minimal).not.toHaveProperty('partitionKey');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'WARN', sequenceNumber: '11' }));
  });

  it('logs the position and does not fail the batch when even the minimal message is refused', async () => {
    const { sqs, options, logs } = setup();
    sqs.refuseWhen = (body) =>
      body.includes('"sequenceNumber":"21"') ? 'InvalidMessageContents' : undefined;
    const invalid = invalidOf(
      aRawRecord('{', { sequenceNumber: '21' }),
      aRawRecord('{', { sequenceNumber: '22' }),
    );
    expect(await sendInvalidRecords(invalid, options)).toEqual([]);
    expect(sqs.messages.map((m) => m.body.sequenceNumber)).toEqual(['22']);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'invalid record could not be quarantined',
        shardId: 'shardId-000000000000',
        sequenceNumber: '21',
        code: 'InvalidMessageContents',
      }),
    );
  });

  it('finds the refused entry when SQS refuses the whole request, and sends the others whole', async () => {
    const { sqs, options } = setup(new FakeSqs({ contentRefusals: 'request' }));
    sqs.refuseWhen = (body) =>
      body.includes('"sequenceNumber":"32"') && body.includes('"rawData":"e')
        ? 'InvalidMessageContents'
        : undefined;
    const invalid = invalidOf(
      aRawRecord('{1', { sequenceNumber: '31' }),
      aRawRecord('{2', { sequenceNumber: '32' }),
      aRawRecord('{3', { sequenceNumber: '33' }),
    );
    expect(await sendInvalidRecords(invalid, options)).toEqual([]);
    const bySeq = new Map(sqs.messages.map((m) => [m.body.sequenceNumber, m.body]));
    expect([...bySeq.keys()].sort()).toEqual(['31', '32', '33']);
    expect(bySeq.get('31')?.rawData).toBe(Buffer.from('{1').toString('base64'));
    expect(bySeq.get('32')).toMatchObject({ rawData: '', refusedWith: 'InvalidMessageContents' });
  });

  it('reports a minimal message that failed for a transient reason, so Lambda retries it', async () => {
    const { sqs, options } = setup();
    sqs.refuseWhen = (body) => {
      if (body.includes('"refusedWith"')) return undefined;
      sqs.failEntriesNext = ['0']; // the fallback request then fails on the server side
      return 'InvalidMessageContents';
    };
    const invalid = invalidOf(aRawRecord('{', { sequenceNumber: '41' }));
    expect(await sendInvalidRecords(invalid, options)).toEqual(['41']);
    expect(sqs.messages).toEqual([]);
  });
});

describe('sizes (issue 8, item 4)', () => {
  it('takes the message limit from services/resources.json, the number the queue is created with', () => {
    expect(MAX_MESSAGE_BYTES).toBe(resources.queues['invalid-records'].maxMessageBytes);
    expect(MAX_MESSAGE_BYTES).toBe(1_048_576);
  });

  it('fits the largest Kinesis record (1 MiB) into one message of at most the limit, truncated and flagged', async () => {
    const { sqs, options } = setup();
    const data = Buffer.alloc(ONE_MIB - 'user-1'.length, 0x61);
    const record = aRawRecord(data, { sequenceNumber: '51' });
    expect(await sendInvalidRecords(invalidOf(record), options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    const message = sqs.messages[0]!;
    expect(message.body).toMatchObject({ rawDataBytes: data.length, rawDataTruncated: true });
    const raw = message.body.rawData as string;
    expect(raw.length % 4).toBe(0);
    expect(data.toString('base64').startsWith(raw)).toBe(true);
    const size =
      Buffer.byteLength(message.rawBody) +
      Object.entries(message.attributes).reduce(
        (n, [k, v]) => n + Buffer.byteLength(k) + 'String'.length + Buffer.byteLength(v.StringValue ?? ''),
        0,
      );
    expect(size).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    // The truncation leaves less than one base64 quad unused.
    expect(MAX_MESSAGE_BYTES - size).toBeLessThan(4);
  });

  it('sends a payload whole when it fits, and flags nothing', async () => {
    const { sqs, options } = setup();
    const data = Buffer.alloc(700_000, 0x62);
    expect(await sendInvalidRecords(invalidOf(aRawRecord(data)), options)).toEqual([]);
    expect(sqs.messages[0]?.body).toMatchObject({
      rawData: data.toString('base64'),
      rawDataTruncated: false,
    });
  });

  it('sizes to a smaller queue limit too', async () => {
    const fake = new FakeSqs({ maxMessageBytes: 262_144 });
    const { sqs, options } = setup(fake);
    const data = Buffer.alloc(300_000, 0x63);
    expect(
      await sendInvalidRecords(invalidOf(aRawRecord(data)), { ...options, maxMessageBytes: 262_144 }),
    ).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages[0]?.body.rawDataTruncated).toBe(true);
  });

  it('packs requests by total size: ten 200 KB records need four requests, none over 1 MiB', async () => {
    const { sqs, options } = setup();
    const records = Array.from({ length: 10 }, (_, i) =>
      aRawRecord(Buffer.alloc(200_000, 0x61 + i), { sequenceNumber: String(100 + i) }),
    );
    expect(await sendInvalidRecords(invalidOf(...records), options)).toEqual([]);
    expect(sqs.refusals).toEqual([]);
    expect(sqs.messages).toHaveLength(10);
    // 200 KB is ~267 KB in base64: three fit in 1 MiB, so 10 records take four requests.
    expect(sqs.requests).toBe(4);
  });

  it('packs at most ten entries per request', () => {
    const batches = packBatches(Array.from({ length: 25 }, () => ({ bytes: 10 })));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('starts a new request before the total would pass SQS_MAX_BATCH_BYTES', () => {
    const batches = packBatches([
      { bytes: SQS_MAX_BATCH_BYTES - 5 },
      { bytes: 5 },
      { bytes: 1 },
      { bytes: 1 },
    ]);
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('the strict fake knows the documented character set at every boundary', () => {
    const legal = ['\t', '\n', '\r', ' ', '\ud7ff', '\ue000', '\ufffd', '\u{10000}', '\u{10FFFF}', 'é', '😀'];
    const illegal: Array<[string, string]> = [
      ['\u0000', '#x0'],
      ['\u0008', '#x8'],
      ['\u000b', '#xB'],
      ['\u001f', '#x1F'],
      ['\ud800', '#xD800'],
      ['\udfff', '#xDFFF'],
      ['\ufffe', '#xFFFE'],
      ['\uffff', '#xFFFF'],
    ];
    for (const char of legal) expect(firstIllegalCharacter(`a${char}b`)).toBeUndefined();
    for (const [char, name] of illegal) expect(firstIllegalCharacter(`a${char}b`)).toBe(name);
  });

  it('refuses in the strict fake what real SQS refuses: a message one byte over the limit', () => {
    const body = 'x'.repeat(MAX_MESSAGE_BYTES + 1);
    expect(entryRefusal({ Id: '0', MessageBody: body })).toMatchObject({ code: 'InvalidParameterValue' });
    expect(entryRefusal({ Id: '0', MessageBody: body.slice(1) })).toBeUndefined();
  });
});
