/**
 * Fuzzing the shared decoder and the invalid-records sender (issue 8, "How to prove it"): for any
 * bytes, strings or mutated events, decoding never throws and ends either valid (and then the event
 * meets the documented schema, checked by an independent reference) or invalid with a reason; and
 * every message the sender makes for the invalid ones is one real SQS accepts (the strict fake in
 * test/helpers refuses illegal characters, oversized messages and requests), sent exactly once,
 * without a batch failure. Seeds are fixed so a failure reproduces; fast-check prints the
 * counterexample.
 */

import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { isCountryCode } from '../../../services/shared/countries.js';
import { isCurrencyCode } from '../../../services/shared/currencies.js';
import { sendInvalidRecords } from '../../../services/shared/invalid-records.js';
import { type DecodeOptions, decodeBatch, decodeRecord } from '../../../services/shared/kinesis.js';
import { createLogger } from '../../../services/shared/logger.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aRawRecord, STREAM_ARN, T0 } from '../../helpers/records.js';
import { firstIllegalCharacter } from '../../helpers/sqs-rules.js';

const TOLERANCE_MS = 300_000;
const decode: DecodeOptions = { maxEventAheadMs: TOLERANCE_MS };
const SEED = 8_2026;

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters that broke things before: controls, lone surrogates, non-characters, JSON syntax. */
const hostileChar = fc.oneof(
  fc.constantFrom(
    '\u0000',
    '\u0001',
    '\u0008',
    '\u000b',
    '\u000c',
    '\u001b',
    '\u001f',
    '\u007f',
    '\t',
    '\n',
    '\r',
  ),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\ufffe', '\uffff', '\ufffd', '\u2028', '\u2029', '\ufeff', '\u0085', '\u00a0'),
  fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '-', '.', 'e', 'E', '0', '1', '9', 'n', 't', 'u'),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xfffd }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
const hostileString = (maxLength: number) => fc.string({ unit: hostileChar, maxLength });

/** Kinesis partition keys are 1-256 Unicode characters; the consumer sees whatever the producer sent. */
const partitionKey = fc.oneof(
  hostileString(256).filter((s) => s.length > 0),
  fc.constant('user-1'),
);

/** Ids around the 128-byte bound, in 1-, 2-, 3- and 4-byte characters. */
const idNearBound = fc
  .tuple(fc.constantFrom('a', 'é', '€', '\u{1F600}'), fc.integer({ min: 1, max: 140 }))
  .map(([char, count]) => char.repeat(count));

const MIN_TS = Date.UTC(2000, 0, 1);
const MAX_TS = Date.UTC(2100, 0, 1);
const edgeNumber = fc.constantFrom(
  0,
  -0,
  -1,
  0.5,
  1e-7,
  1e-6,
  1e9,
  1e9 + 1e-6,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  MIN_TS - 1,
  MIN_TS,
  MAX_TS - 1,
  MAX_TS,
  T0,
  T0 + TOLERANCE_MS,
  T0 + TOLERANCE_MS + 1,
  1_700_000_000,
);

/** Any JSON-representable value, with the edges and hostile strings mixed in. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: edgeNumber },
  { weight: 3, arbitrary: hostileString(40) },
  { weight: 2, arbitrary: idNearBound },
  {
    weight: 1,
    arbitrary: fc.constantFrom(undefined, null, true, [], {}, 'USD', 'usd', 'US', 'UK', 'ZZ', 'purchase'),
  },
);

const eventType = fc.constantFrom('page_view', 'product_view', 'add_to_cart', 'purchase', 'video_play');

/** A valid-looking event, then one to three fields replaced by anything. */
const mutatedEvent = fc
  .record({
    eventId: fc.oneof(fc.uuid(), idNearBound),
    userId: fc.oneof(fc.constantFrom('u-1', 'ユーザー-😀'), idNearBound),
    eventType,
    timestamp: fc.oneof(fc.integer({ min: MIN_TS, max: MAX_TS - 1 }), edgeNumber),
    amount: fc.oneof(fc.double({ min: 0, max: 2e9, noNaN: true }), edgeNumber),
    currency: fc.constantFrom('USD', 'EUR', 'KWD'),
    orderId: fc.oneof(fc.uuid(), idNearBound),
    productId: fc.oneof(fc.uuid(), idNearBound),
    country: fc.constantFrom(undefined, 'US', 'DE'),
    page: hostileString(30),
    mutations: fc.array(
      fc.tuple(
        fc.constantFrom(
          'eventId',
          'userId',
          'eventType',
          'timestamp',
          'data',
          'data.amount',
          'data.currency',
          'data.orderId',
          'data.productId',
          'data.country',
        ),
        anyValue,
      ),
      { maxLength: 3 },
    ),
    arrivalOffset: fc.oneof(
      fc.constantFrom(-TOLERANCE_MS - 1, -TOLERANCE_MS, 0, 1, 1_000, 30 * 86_400_000),
      fc.integer({ min: -365 * 86_400_000, max: 365 * 86_400_000 }),
    ),
    keyMatches: fc.boolean(),
    otherKey: partitionKey,
  })
  .map((g) => {
    const data: Record<string, unknown> =
      g.eventType === 'purchase'
        ? {
            amount: g.amount,
            currency: g.currency,
            orderId: g.orderId,
            ...(g.country ? { country: g.country } : {}),
          }
        : g.eventType === 'product_view'
          ? { productId: g.productId }
          : { page: g.page };
    const event: Record<string, unknown> = {
      eventId: g.eventId,
      userId: g.userId,
      eventType: g.eventType,
      timestamp: g.timestamp,
      data,
    };
    for (const [path, value] of g.mutations) {
      if (path.startsWith('data.')) {
        if (typeof event.data === 'object' && event.data !== null && !Array.isArray(event.data)) {
          (event.data as Record<string, unknown>)[path.slice(5)] = value;
        }
      } else event[path] = value;
    }
    const text = JSON.stringify(event);
    const key =
      g.keyMatches && typeof event.userId === 'string' && event.userId !== '' ? event.userId : g.otherKey;
    // Arrival relative to the event time when there is one, else to T0.
    const base =
      typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? event.timestamp : T0;
    return { event, text, key, arrivalMs: base - g.arrivalOffset };
  });

// ---------------------------------------------------------------------------------------------
// The reference: the schema as docs/event.md documents it, written independently of event.ts.

function idOk(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.byteLength(value, 'utf8') <= 128 &&
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)
  );
}

function referenceValid(value: unknown, key: string, arrivalMs: number): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  if (!idOk(e.eventId) || !idOk(e.userId) || !idOk(e.eventType)) return false;
  const ts = e.timestamp;
  if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < MIN_TS || ts >= MAX_TS) return false;
  const data = e.data === undefined ? {} : e.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const d = data as Record<string, unknown>;
  if (e.eventType === 'product_view' && !idOk(d.productId)) return false;
  if (e.eventType === 'purchase') {
    const a = d.amount;
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a > 1e9 || (a > 0 && a < 1e-6)) return false;
    if (!isCurrencyCode(d.currency)) return false;
    if (!idOk(d.orderId)) return false;
    if (d.country !== undefined && !isCountryCode(d.country)) return false;
  }
  if (e.userId !== key) return false;
  return ts - arrivalMs <= TOLERANCE_MS;
}

/** Every reason the decoder gives: fixed text, numbers and field names only, never the input. */
const REASON =
  /^(data is not valid UTF-8|data is not valid JSON(: it ends early|: error at character \d+)?|data could not be parsed as JSON|schema: [a-zA-Z.]+ [ -~]+|timestamp is \d+ s ahead of the record's arrival time; the tolerance is \d+ s)$/;

// ---------------------------------------------------------------------------------------------
// Checks shared by the properties

const quiet = createLogger('fuzz', 'ERROR', () => undefined);

function decodeChecked(record: KinesisStreamRecord) {
  const decoded = decodeRecord(record, decode);
  if (!decoded.ok) {
    expect(decoded.record.reason).toMatch(REASON);
    expect(decoded.record.rawData).toBe(record.kinesis.data);
  }
  return decoded;
}

/** Sends the batch's invalid records to a strict fake SQS and checks each arrives once, legal. */
async function quarantineChecked(records: KinesisStreamRecord[], fake = new FakeSqs()) {
  const { invalid } = decodeBatch(records, decode);
  const failed = await sendInvalidRecords(invalid, {
    sqs: fake.asClient(),
    queueUrl: 'q',
    functionName: 'fuzz',
    streamArn: STREAM_ARN,
    logger: quiet,
  });
  expect(failed).toEqual([]);
  expect(fake.refusals).toEqual([]);
  expect(fake.messages.map((m) => `${m.body.shardId}/${m.body.sequenceNumber}`).sort()).toEqual(
    invalid.map((r) => `${r.shardId}/${r.sequenceNumber}`).sort(),
  );
  const byPosition = new Map(invalid.map((r) => [`${r.shardId}/${r.sequenceNumber}`, r]));
  for (const message of fake.messages) {
    expect(firstIllegalCharacter(message.rawBody)).toBeUndefined();
    const record = byPosition.get(`${message.body.shardId}/${message.body.sequenceNumber}`)!;
    expect(message.body.partitionKey).toBe(record.partitionKey);
    expect(message.body.reason).toMatch(REASON);
    const raw = message.body.rawData as string;
    if (message.body.rawDataTruncated) expect(record.rawData.startsWith(raw)).toBe(true);
    else expect(raw).toBe(record.rawData);
  }
  return { invalid, fake };
}

const shardId = fc.constantFrom('shardId-000000000000', 'shardId-000000000001');

// ---------------------------------------------------------------------------------------------

describe('decoder fuzzing', () => {
  it('arbitrary bytes under arbitrary partition keys: valid or quarantined, never a throw or a refusal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            bytes: fc.oneof(
              fc.uint8Array({ maxLength: 200 }),
              // Invalid UTF-8 shapes: CESU-8 surrogates, overlongs, truncated sequences.
              fc.constantFrom(
                Uint8Array.of(0xed, 0xa0, 0xbd),
                Uint8Array.of(0xc0, 0xaf),
                Uint8Array.of(0xe2, 0x82),
                Uint8Array.of(0xef, 0xbf, 0xbf),
                Uint8Array.of(0x00),
              ),
            ),
            key: partitionKey,
            shard: shardId,
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (items) => {
          const records = items.map((i) =>
            aRawRecord(Buffer.from(i.bytes), { partitionKey: i.key, shardId: i.shard }),
          );
          for (const record of records) decodeChecked(record);
          await quarantineChecked(records);
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });

  it('arbitrary strings, raw or inside JSON, with control characters, lone surrogates and U+FFFF', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileString(120),
        fc.constantFrom('raw', 'in-string', 'escaped-in-string', 'as-user'),
        partitionKey,
        async (s, shape, key) => {
          const event = { eventId: 'e-1', userId: 'u-1', eventType: 'page_view', timestamp: T0, data: {} };
          const text =
            shape === 'raw'
              ? s
              : shape === 'in-string'
                ? `{"eventId":"${s}","userId":"u-1","eventType":"page_view","timestamp":${T0}}`
                : shape === 'escaped-in-string'
                  ? JSON.stringify({ ...event, data: { page: s } })
                  : JSON.stringify({ ...event, userId: s });
          // Buffer.from(text) writes a lone surrogate as U+FFFD, as any UTF-8 encoder would.
          const record = aRawRecord(text, {
            partitionKey: shape === 'as-user' ? s || key : 'u-1',
            arrivalMs: T0,
          });
          const decoded = decodeChecked(record);
          if (decoded.ok) expect(decoded.record.event.userId).toBe(record.kinesis.partitionKey);
          await quarantineChecked([record]);
        },
      ),
      { numRuns: 1500, seed: SEED },
    );
  });

  it('valid events with mutated fields and numbers at the edges agree with the documented schema', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutatedEvent, { minLength: 1, maxLength: 8 }), async (cases) => {
        const records = cases.map((c) => aRawRecord(c.text, { partitionKey: c.key, arrivalMs: c.arrivalMs }));
        records.forEach((record, i) => {
          const c = cases[i]!;
          const decoded = decodeChecked(record);
          // The reference sees what was sent: the JSON text parsed again (undefined fields dropped).
          const expected = referenceValid(JSON.parse(c.text), record.kinesis.partitionKey, c.arrivalMs);
          if (decoded.ok !== expected) {
            throw new Error(
              `decoder says ${decoded.ok ? 'valid' : `invalid (${decoded.record.reason})`}, the schema says ${
                expected ? 'valid' : 'invalid'
              }: ${c.text.slice(0, 300)} key=${JSON.stringify(c.key)} arrival=${c.arrivalMs}`,
            );
          }
        });
        await quarantineChecked(records);
      }),
      { numRuns: 800, seed: SEED },
    );
  });

  it('deeply nested and huge JSON: no stack overflow, and what is quarantined fits the queue', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 120_000 }),
        fc.constantFrom('array', 'object', 'as-data', 'unclosed', 'long-string', 'many-keys'),
        partitionKey,
        async (size, shape, key) => {
          const head = `{"eventId":"e","userId":"u-1","eventType":"page_view","timestamp":${T0},"data":{"x":`;
          const text =
            shape === 'array'
              ? `${'['.repeat(size)}${']'.repeat(size)}`
              : shape === 'object'
                ? `${'{"a":'.repeat(size)}1${'}'.repeat(size)}`
                : shape === 'as-data'
                  ? `${head}${'['.repeat(size)}${']'.repeat(size)}}}`
                  : shape === 'unclosed'
                    ? '['.repeat(size * 6)
                    : shape === 'long-string'
                      ? JSON.stringify({
                          eventId: 'e',
                          userId: 'u-1',
                          eventType: 'x',
                          timestamp: T0,
                          data: { s: 'é'.repeat(size * 3) },
                        })
                      : `{${Array.from({ length: Math.min(size, 40_000) }, (_, i) => `"k${i}":${i}`).join(',')}}`;
          const record = aRawRecord(text, {
            partitionKey: shape === 'as-data' || shape === 'long-string' ? 'u-1' : key,
          });
          const decoded = decodeChecked(record);
          if (shape === 'as-data' || shape === 'long-string') expect(decoded.ok).toBe(true);
          await quarantineChecked([record]);
        },
      ),
      { numRuns: 25, seed: SEED },
    );
  });

  it('batches of invalid records of any size up to the largest Kinesis record are packed into legal requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            size: fc.oneof(
              { weight: 4, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
              { weight: 2, arbitrary: fc.integer({ min: 100_000, max: 400_000 }) },
              { weight: 1, arbitrary: fc.integer({ min: 780_000, max: 1_048_576 - 8 }) },
            ),
            key: partitionKey.filter((k) => k.length <= 8),
            fill: fc.integer({ min: 0, max: 255 }),
          }),
          { minLength: 1, maxLength: 24 },
        ),
        fc.constantFrom<'entry' | 'request'>('entry', 'request'),
        async (items, contentRefusals) => {
          const records = items.map((i) => aRawRecord(Buffer.alloc(i.size, i.fill), { partitionKey: i.key }));
          const fake = new FakeSqs({ contentRefusals });
          const { invalid } = await quarantineChecked(records, fake);
          // Every record is invalid bytes, JSON or schema-wise, so each is one message.
          expect(fake.messages).toHaveLength(records.length - decodeBatch(records, decode).valid.length);
          expect(invalid).toHaveLength(fake.messages.length);
        },
      ),
      { numRuns: 25, seed: SEED },
    );
  });

  it('when SQS refuses messages anyway, each record is quarantined without payload or logged, and the batch never fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 60 }), fc.integer({ min: 0, max: 2 })), {
          minLength: 1,
          maxLength: 15,
        }),
        fc.constantFrom<'entry' | 'request'>('entry', 'request'),
        async (items, contentRefusals) => {
          const records = items.map(([bytes]) => aRawRecord(Buffer.from([0x7b, ...bytes])));
          // 0: accepted; 1: the full message refused; 2: the minimal one refused too.
          const fate = new Map(records.map((r, i) => [r.kinesis.sequenceNumber, items[i]![1]]));
          const fake = new FakeSqs({ contentRefusals });
          fake.refuseWhen = (body) => {
            const message = JSON.parse(body) as { sequenceNumber: string; refusedWith?: string };
            const f = fate.get(message.sequenceNumber) ?? 0;
            return f === 2 || (f === 1 && message.refusedWith === undefined)
              ? 'InvalidMessageContents'
              : undefined;
          };
          const errors: string[] = [];
          const logger = createLogger('fuzz', 'ERROR', (line) =>
            errors.push(JSON.parse(line).sequenceNumber),
          );
          const { invalid } = decodeBatch(records, decode);
          const failed = await sendInvalidRecords(invalid, {
            sqs: fake.asClient(),
            queueUrl: 'q',
            functionName: 'fuzz',
            streamArn: STREAM_ARN,
            logger,
          });
          expect(failed).toEqual([]);
          for (const record of invalid) {
            const f = fate.get(record.sequenceNumber);
            const sent = fake.messages.filter((m) => m.body.sequenceNumber === record.sequenceNumber);
            if (f === 2) {
              expect(sent).toEqual([]);
              expect(errors).toContain(record.sequenceNumber);
            } else {
              expect(sent).toHaveLength(1);
              expect(sent[0]!.body.refusedWith !== undefined).toBe(f === 1);
            }
          }
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});
