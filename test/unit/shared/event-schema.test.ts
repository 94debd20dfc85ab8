/**
 * One definition, three outputs: the validator, the published JSON Schema and the archive table's
 * columns. These tests fail when a committed file differs from what the code generates, when the
 * JSON Schema and validateEvent disagree on any generated event, and when an event a producer
 * could send under an older rule stops validating.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { repoRoot } from '../../../lib/paths.js';
import { EVENT_COLUMNS } from '../../../services/shared/archive/columns.js';
import {
  MAX_ID_BYTES,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  SCHEMA_VERSION,
  validateEvent,
} from '../../../services/shared/event.js';
import {
  eventJsonSchema,
  GENERATED_SCHEMA_FILES,
  renderSchemaFile,
} from '../../../services/shared/event-schema.js';

const ajv = new Ajv2020({ strict: false });
const schemaValid = ajv.compile(eventJsonSchema());
const oldEvents = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'events-v1.json'), 'utf8')) as Record<
  string,
  unknown
>[];

const validatorOk = (value: unknown) => validateEvent(structuredClone(value)).ok;

// ASCII ids: JSON Schema counts characters, the validator UTF-8 bytes; for ASCII they agree.
const idOfLength = (n: number) => 'i'.repeat(n);
const validBase = fc
  .record({
    eventId: fc.integer({ min: 1, max: MAX_ID_BYTES }).map(idOfLength),
    userId: fc.constantFrom('u-1', idOfLength(MAX_ID_BYTES)),
    timestamp: fc.integer({ min: MIN_TIMESTAMP, max: MAX_TIMESTAMP - 1 }),
    kind: fc.constantFrom('page_view', 'product_view', 'purchase', 'search'),
    amount: fc.constantFrom(0, 0.000_001, 19.99, 1_000_000_000),
    country: fc.constantFrom(undefined, 'DE'),
  })
  .map(({ kind, amount, country, ...rest }) => ({
    ...rest,
    eventType: kind,
    data:
      kind === 'purchase'
        ? { amount, currency: 'EUR', orderId: 'o-1', ...(country ? { country } : {}) }
        : kind === 'product_view'
          ? { productId: 'p-1' }
          : {},
  }));

/** One change to a valid event, each near a rule's edge, valid or not. */
const mutation = fc.oneof(
  fc.record({
    path: fc.constantFrom('eventId', 'userId', 'eventType', 'data.productId', 'data.orderId'),
    value: fc.constantFrom<unknown>('', idOfLength(MAX_ID_BYTES), idOfLength(MAX_ID_BYTES + 1), 7, null),
  }),
  fc.record({
    path: fc.constant('timestamp'),
    value: fc.constantFrom<unknown>(
      MIN_TIMESTAMP - 1,
      MIN_TIMESTAMP,
      MAX_TIMESTAMP - 1,
      MAX_TIMESTAMP,
      1.5e12 + 0.5,
      '1',
    ),
  }),
  fc.record({
    path: fc.constant('schemaVersion'),
    value: fc.constantFrom<unknown>(0, 1, SCHEMA_VERSION, SCHEMA_VERSION + 1, 1.5, '1', undefined),
  }),
  fc.record({
    path: fc.constant('data.amount'),
    value: fc.constantFrom<unknown>(
      0,
      -0.01,
      0.000_000_5,
      0.000_001,
      1_000_000_000,
      1_000_000_001,
      '12',
      undefined,
    ),
  }),
  fc.record({
    path: fc.constant('data.currency'),
    value: fc.constantFrom<unknown>('USD', 'ABC', 'eur', undefined),
  }),
  fc.record({
    path: fc.constant('data.country'),
    value: fc.constantFrom<unknown>('US', 'XX', 'de', undefined),
  }),
  fc.record({ path: fc.constant('data'), value: fc.constantFrom<unknown>([], 'x', null, undefined, {}) }),
  fc.record({
    path: fc.constant('eventType'),
    value: fc.constantFrom<unknown>('purchase', 'product_view', 'page_view'),
  }),
);

function apply(event: Record<string, unknown>, changes: Array<{ path: string; value: unknown }>) {
  const out: Record<string, unknown> = structuredClone(event);
  for (const { path, value } of changes) {
    const [head, key] = path.split('.') as [string, string | undefined];
    if (key === undefined) {
      if (value === undefined) delete out[head];
      else out[head] = value;
      continue;
    }
    const data = out.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
    if (value === undefined) delete (data as Record<string, unknown>)[key];
    else (data as Record<string, unknown>)[key] = value;
  }
  return out;
}

const eventArb = fc
  .tuple(validBase, fc.array(mutation, { maxLength: 2 }))
  .map(([event, changes]) => apply(event, changes));

describe('published event schema', () => {
  it.each(Object.keys(GENERATED_SCHEMA_FILES))(
    'committed %s is what the code generates (make schema)',
    (path) => {
      // Compared as JSON: Biome formats the committed file.
      const committed = JSON.parse(readFileSync(join(repoRoot(), path), 'utf8'));
      expect(committed).toEqual(
        JSON.parse(renderSchemaFile(GENERATED_SCHEMA_FILES[path] as () => Record<string, unknown>)),
      );
    },
  );

  it('the JSON Schema and the validator agree on every generated event', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        expect({ event, schema: schemaValid(event) }).toEqual({ event, schema: validatorOk(event) });
      }),
      { numRuns: 3000 },
    );
  });

  it('old events (schema version 1, with and without the field, extra fields) still validate', () => {
    for (const event of oldEvents) {
      expect({ eventId: event.eventId, validator: validatorOk(event), schema: schemaValid(event) }).toEqual({
        eventId: event.eventId,
        validator: true,
        schema: true,
      });
    }
  });

  it('a producer may add an optional field or a data key without breaking consumers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...oldEvents),
        fc.string({ minLength: 1 }),
        fc.jsonValue(),
        (event, key, value) => {
          fc.pre(!['eventId', 'userId', 'eventType', 'timestamp', 'data', 'schemaVersion'].includes(key));
          const added = { ...event, [key]: value };
          expect(validatorOk(added)).toBe(true);
          const data = { ...((event.data as Record<string, unknown>) ?? {}) };
          fc.pre(!['amount', 'currency', 'orderId', 'country', 'productId'].includes(key));
          expect(validatorOk({ ...event, data: { ...data, [key]: value } })).toBe(true);
        },
      ),
    );
  });

  it('a version newer than this code knows is refused with a reason, not misread', () => {
    const result = validateEvent({ ...oldEvents[0], schemaVersion: SCHEMA_VERSION + 1 });
    expect(result).toEqual({
      ok: false,
      reason: `schemaVersion must be an integer from 1 to ${SCHEMA_VERSION} when present`,
    });
  });

  it('the archive table carries every field of the event envelope', () => {
    const names = EVENT_COLUMNS.map((c) => c.name);
    for (const field of Object.keys(eventJsonSchema().properties as object)) {
      const column = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace('timestamp', 'event_time');
      expect(names).toContain(column);
    }
  });
});
