import { type MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { datumBytes } from '../../../services/metrics-emitter/emitter.js';
import {
  aggregateSegments,
  bucketMinute,
  eventTypeLabels,
  isUsableDimensionValue,
  MAX_AGE_MS,
  MAX_AHEAD_MS,
  minuteOf,
  OTHER_EVENT_TYPE,
  type WindowContext,
} from '../../../services/metrics-emitter/windows.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import type { InvalidRecord, ValidRecord } from '../../../services/shared/kinesis.js';
import { anEvent, aPurchase, MINUTE, nextSequenceNumber, T0 } from '../../helpers/records.js';

const NOW = T0 + 10 * MINUTE + 30_000;
const HOUR = 60 * MINUTE;

function valid(event: PulseEvent, arrivalMs = T0 + 1_000): ValidRecord {
  return { shardId: 'shardId-000000000000', sequenceNumber: nextSequenceNumber(), arrivalMs, event };
}

function invalid(arrivalMs: number): InvalidRecord {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber: nextSequenceNumber(),
    arrivalMs,
    reason: 'data is not valid JSON',
    rawData: 'e30=',
    partitionKey: 'user-1',
  };
}

function context(records: ValidRecord[] = [], overrides: Partial<WindowContext> = {}): WindowContext {
  return {
    environment: 'test',
    functionName: 'pulse-test-metrics-emitter',
    nowMs: NOW,
    labelOf: eventTypeLabels(records, 50).labelOf,
    ...overrides,
  };
}

function find(
  datums: MetricDatum[],
  metric: string,
  minute: number,
  dims: Record<string, string>,
): MetricDatum[] {
  const wanted = Object.entries(dims).sort().join(';');
  return datums.filter(
    (d) =>
      d.MetricName === metric &&
      d.Timestamp?.getTime() === minute &&
      (d.Dimensions ?? [])
        .map((x) => [x.Name, x.Value])
        .sort()
        .join(';') === wanted,
  );
}

function only(
  datums: MetricDatum[],
  metric: string,
  minute: number,
  dims: Record<string, string>,
): MetricDatum {
  const found = find(datums, metric, minute, dims);
  expect(found).toHaveLength(1);
  return found[0] as MetricDatum;
}

describe('bucketMinute', () => {
  it('floors the event time to its minute', () => {
    expect(bucketMinute(T0 + 59_999, T0 + 2 * MINUTE, NOW)).toEqual({ minute: T0, displaced: false });
    expect(bucketMinute(T0 + 60_000, T0 + 2 * MINUTE, NOW)).toEqual({
      minute: T0 + MINUTE,
      displaced: false,
    });
    expect(minuteOf(T0 - 1)).toBe(T0 - MINUTE);
  });

  it('uses the arrival minute for event times older than 14 days', () => {
    expect(bucketMinute(NOW - MAX_AGE_MS - 1, T0 + 90_000, NOW)).toEqual({
      minute: T0 + MINUTE,
      displaced: true,
    });
    // Just inside the limit (with the safety margin) the event time is kept.
    expect(bucketMinute(NOW - MAX_AGE_MS + 11 * MINUTE, T0, NOW).displaced).toBe(false);
  });

  it('uses the arrival minute for event times more than 2 hours ahead', () => {
    expect(bucketMinute(NOW + MAX_AHEAD_MS + 1, T0 + 90_000, NOW)).toEqual({
      minute: T0 + MINUTE,
      displaced: true,
    });
    expect(bucketMinute(NOW + HOUR, T0, NOW)).toEqual({ minute: minuteOf(NOW + HOUR), displaced: false });
  });

  it('falls back to the processing minute when the arrival time is out of range too', () => {
    expect(bucketMinute(NOW + 3 * HOUR, NOW + 3 * HOUR, NOW)).toEqual({
      minute: minuteOf(NOW),
      displaced: true,
    });
  });
});

describe('eventTypeLabels', () => {
  it('keeps known types first, then the most frequent unknown ones, folding the rest into other', () => {
    const records = [
      valid(anEvent({ eventType: 'page_view' })),
      valid(anEvent({ eventType: 'zeta' })),
      valid(anEvent({ eventType: 'zeta' })),
      valid(anEvent({ eventType: 'alpha' })),
      valid(anEvent({ eventType: 'beta' })),
      valid(anEvent({ eventType: 'beta' })),
      valid(anEvent({ eventType: 'beta' })),
    ];
    const { labelOf, folded } = eventTypeLabels(records, 3);
    expect(['page_view', 'beta', 'zeta', 'alpha'].map(labelOf)).toEqual([
      'page_view',
      'beta',
      'zeta',
      OTHER_EVENT_TYPE,
    ]);
    expect(folded).toBe(1);
  });

  it('breaks count ties by name so the choice is deterministic', () => {
    const records = ['b', 'a', 'c'].map((eventType) => valid(anEvent({ eventType })));
    const { labelOf } = eventTypeLabels(records, 2);
    expect(['a', 'b', 'c'].map(labelOf)).toEqual(['a', 'b', OTHER_EVENT_TYPE]);
  });

  it('folds values CloudWatch cannot take as a dimension value', () => {
    expect(isUsableDimensionValue('clíck')).toBe(false);
    expect(isUsableDimensionValue('   ')).toBe(false);
    expect(isUsableDimensionValue('video_play')).toBe(true);
    const { labelOf, folded } = eventTypeLabels([valid(anEvent({ eventType: 'clíck' }))], 50);
    expect(labelOf('clíck')).toBe(OTHER_EVENT_TYPE);
    expect(folded).toBe(1);
  });
});

describe('aggregateSegments', () => {
  it('counts events per event-time minute, in total and per type including unknown types', () => {
    const records = [
      valid(anEvent({ timestamp: T0 + 5_000 })),
      valid(anEvent({ timestamp: T0 + 59_000, eventType: 'video_play' })),
      valid(anEvent({ timestamp: T0 + 61_000 })),
      valid(anEvent({ timestamp: T0 + 62_000, eventType: 'add_to_cart' })),
      valid(anEvent({ timestamp: T0 + 63_000 })),
    ];
    const [segment, ...rest] = aggregateSegments(records, context(records));
    expect(rest).toEqual([]);
    const datums = segment?.datums ?? [];
    const env = { Environment: 'test' };
    expect(only(datums, 'Events', T0, env).StatisticValues).toEqual({
      SampleCount: 2,
      Sum: 2,
      Minimum: 1,
      Maximum: 1,
    });
    expect(only(datums, 'Events', T0 + MINUTE, env).StatisticValues?.Sum).toBe(3);
    expect(only(datums, 'Events', T0, { ...env, EventType: 'page_view' }).StatisticValues?.Sum).toBe(1);
    expect(only(datums, 'Events', T0, { ...env, EventType: 'video_play' }).StatisticValues?.Sum).toBe(1);
    expect(only(datums, 'Events', T0 + MINUTE, { ...env, EventType: 'page_view' }).StatisticValues?.Sum).toBe(
      2,
    );
    expect(
      only(datums, 'Events', T0 + MINUTE, { ...env, EventType: 'add_to_cart' }).StatisticValues?.Sum,
    ).toBe(1);
    expect(only(datums, 'Events', T0, env).Unit).toBe('Count');
    expect(find(datums, 'Purchases', T0, env)).toEqual([]);
    // 2 totals + 4 per-type + 1 lag: one datum per (metric, dimensions, minute).
    expect(datums).toHaveLength(7);
    expect(segment?.records).toBe(5);
    expect(segment?.firstSequenceNumber).toBe(records[0]?.sequenceNumber);
    expect(segment?.lastSequenceNumber).toBe(records[4]?.sequenceNumber);
  });

  it('folds event types beyond the cap into other', () => {
    const records = Array.from({ length: 5 }, (_, i) => valid(anEvent({ eventType: `custom_${i}` })));
    const ctx = context([], { labelOf: eventTypeLabels(records, 2).labelOf });
    const datums = aggregateSegments(records, ctx)[0]?.datums ?? [];
    const perType = datums.filter((d) => d.Dimensions?.some((x) => x.Name === 'EventType'));
    expect(perType.map((d) => [d.Dimensions?.[1]?.Value, d.StatisticValues?.Sum])).toEqual([
      ['custom_0', 1],
      ['custom_1', 1],
      ['other', 3],
    ]);
  });

  it('records purchases, revenue and order value as statistic sets', () => {
    const records = [
      valid(aPurchase({ amount: 10, timestamp: T0 + 1_000 })),
      valid(aPurchase({ amount: 30.5, timestamp: T0 + 2_000 })),
      valid(aPurchase({ amount: 19.5, timestamp: T0 + 3_000 })),
      valid(anEvent({ timestamp: T0 + 4_000 })),
      valid(aPurchase({ amount: 7, timestamp: T0 + MINUTE })),
    ];
    const datums = aggregateSegments(records, context(records))[0]?.datums ?? [];
    const env = { Environment: 'test' };
    const usd = { ...env, Currency: 'USD' };
    expect(only(datums, 'Purchases', T0, env).StatisticValues).toEqual({
      SampleCount: 3,
      Sum: 3,
      Minimum: 1,
      Maximum: 1,
    });
    expect(only(datums, 'Revenue', T0, usd).StatisticValues).toEqual({
      SampleCount: 3,
      Sum: 60,
      Minimum: 10,
      Maximum: 30.5,
    });
    expect(only(datums, 'Revenue', T0, usd).Unit).toBe('None');
    expect(only(datums, 'OrderValue', T0, usd).StatisticValues).toEqual({
      SampleCount: 3,
      Sum: 60,
      Minimum: 10,
      Maximum: 30.5,
    });
    expect(only(datums, 'Revenue', T0 + MINUTE, usd).StatisticValues).toEqual({
      SampleCount: 1,
      Sum: 7,
      Minimum: 7,
      Maximum: 7,
    });
    expect(only(datums, 'Events', T0, env).StatisticValues?.Sum).toBe(4);
  });

  it('counts a purchase too large for a CloudWatch value but keeps it out of revenue', () => {
    const records = [
      valid(aPurchase({ amount: 1e200, timestamp: T0 })),
      valid(aPurchase({ amount: 5, timestamp: T0 })),
    ];
    const [segment] = aggregateSegments(records, context(records));
    const env = { Environment: 'test' };
    const usd = { ...env, Currency: 'USD' };
    expect(only(segment?.datums ?? [], 'Purchases', T0, env).StatisticValues?.Sum).toBe(2);
    expect(only(segment?.datums ?? [], 'Revenue', T0, usd).StatisticValues).toEqual({
      SampleCount: 1,
      Sum: 5,
      Minimum: 5,
      Maximum: 5,
    });
    expect(segment?.unrepresentable).toBe(1);
  });

  it('counts invalid records by arrival minute', () => {
    const items = [
      invalid(T0 + 2 * MINUTE + 5_000),
      invalid(T0 + 2 * MINUTE + 50_000),
      invalid(T0 + 3 * MINUTE),
    ];
    const datums = aggregateSegments(items, context())[0]?.datums ?? [];
    const env = { Environment: 'test' };
    expect(only(datums, 'InvalidRecords', T0 + 2 * MINUTE, env).StatisticValues?.Sum).toBe(2);
    expect(only(datums, 'InvalidRecords', T0 + 3 * MINUTE, env).StatisticValues?.Sum).toBe(1);
    expect(datums.filter((d) => d.MetricName === 'Events')).toEqual([]);
  });

  it('measures pipeline lag as processing time minus arrival time, per function', () => {
    const items = [
      valid(anEvent(), NOW - 2_000),
      valid(anEvent(), NOW - 500),
      invalid(NOW - 9_000),
      valid(anEvent(), NOW + 1_000), // clock skew: never a negative lag
    ];
    const datums = aggregateSegments(items, context())[0]?.datums ?? [];
    const lag = only(datums, 'PipelineLagMs', minuteOf(NOW), {
      Environment: 'test',
      Function: 'pulse-test-metrics-emitter',
    });
    expect(lag.Unit).toBe('Milliseconds');
    expect(lag.StatisticValues).toEqual({ SampleCount: 4, Sum: 11_500, Minimum: 0, Maximum: 9_000 });
  });

  it('counts events CloudWatch would reject at their arrival minute', () => {
    const records = [
      valid(anEvent({ timestamp: NOW - 20 * 24 * HOUR }), T0 + 30_000),
      valid(anEvent({ timestamp: NOW + 5 * HOUR }), T0 + 90_000),
      valid(anEvent({ timestamp: T0 }), T0 + 1_000),
    ];
    const [segment] = aggregateSegments(records, context(records));
    const env = { Environment: 'test' };
    expect(only(segment?.datums ?? [], 'Events', T0, env).StatisticValues?.Sum).toBe(2);
    expect(only(segment?.datums ?? [], 'Events', T0 + MINUTE, env).StatisticValues?.Sum).toBe(1);
    expect(segment?.displaced).toBe(2);
    for (const d of segment?.datums ?? [])
      expect(Math.abs((d.Timestamp?.getTime() ?? 0) - NOW)).toBeLessThan(HOUR);
  });

  it('cuts segments at 1000 datums on record boundaries, in sequence order', () => {
    // Every event in its own minute: 2 new datums (total + per type) each, plus 1 lag per segment.
    const records = Array.from({ length: 600 }, (_, i) => valid(anEvent({ timestamp: T0 - i * MINUTE })));
    const segments = aggregateSegments(records, context(records));
    expect(segments.map((s) => s.records)).toEqual([499, 101]);
    expect(segments.map((s) => s.datums.length)).toEqual([999, 203]);
    expect(segments[0]?.lastSequenceNumber).toBe(records[498]?.sequenceNumber);
    expect(segments[1]?.firstSequenceNumber).toBe(records[499]?.sequenceNumber);
    expect(segments[1]?.lastSequenceNumber).toBe(records[599]?.sequenceNumber);
    const events = segments
      .flatMap((s) => s.datums)
      .filter((d) => d.MetricName === 'Events' && d.Dimensions?.length === 1);
    expect(events.reduce((n, d) => n + (d.StatisticValues?.Sum ?? 0), 0)).toBe(600);
  });

  it('cuts segments at the byte budget too', () => {
    const records = Array.from({ length: 10 }, (_, i) => valid(anEvent({ timestamp: T0 - i * MINUTE })));
    const segments = aggregateSegments(records, context(records), { maxDatums: 1000, maxBytes: 2_000 });
    expect(segments.length).toBeGreaterThan(1);
    expect(segments.reduce((n, s) => n + s.records, 0)).toBe(10);
    for (const s of segments) expect(s.datums.length).toBeLessThanOrEqual(5);
  });

  it("bounds each segment's serialised size from above, so it is sent without sizing", () => {
    const printable = fc.string({
      // Any printable ASCII, and often the two characters JSON escapes, which double in size.
      unit: fc.oneof(
        fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('"', '\\'),
      ),
      minLength: 1,
      maxLength: 255,
    });
    const record = fc.oneof(
      fc
        .record({ type: printable, at: fc.integer({ min: -3 * HOUR, max: HOUR }) })
        .map(({ type, at }) => valid(anEvent({ eventType: type, timestamp: T0 + at }))),
      fc
        .record({
          amount: fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constant(1e101)),
          currency: fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'),
          at: fc.integer({ min: -3 * HOUR, max: HOUR }),
        })
        .map(({ amount, currency, at }) => {
          const event = aPurchase({ amount, timestamp: T0 + at });
          return valid({ ...event, data: { ...event.data, currency } });
        }),
    );
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 60 }), printable, (records, environment) => {
        const segments = aggregateSegments(records, context(records, { environment }));
        for (const segment of segments) {
          const exact = segment.datums.reduce((n, d) => n + datumBytes(d), 0);
          expect(segment.bytes).toBeGreaterThanOrEqual(exact);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('returns no segment for no records', () => {
    expect(aggregateSegments([], context())).toEqual([]);
  });
});

describe('metric units (pinned: CloudWatch refuses a whole PutMetricData for one invalid unit)', () => {
  it('gives every datum the exact unit of its metric, each one CloudWatch accepts', () => {
    const items = [
      valid(anEvent({ eventType: 'page_view', timestamp: T0 })),
      valid(aPurchase({ amount: 12.5, timestamp: T0 })),
      valid(aPurchase({ amount: 1e200, timestamp: T0 })),
      invalid(T0 + 1_000),
    ];
    const datums = aggregateSegments(
      items,
      context(items.filter((i): i is ValidRecord => 'event' in i)),
    ).flatMap((s) => s.datums);
    const expected: Record<string, string> = {
      Events: 'Count',
      Purchases: 'Count',
      InvalidRecords: 'Count',
      Revenue: 'None',
      OrderValue: 'None',
      PipelineLagMs: 'Milliseconds',
    };
    expect([...new Set(datums.map((d) => d.MetricName))].sort()).toEqual(Object.keys(expected).sort());
    for (const d of datums) {
      expect({ metric: d.MetricName, unit: d.Unit }).toEqual({
        metric: d.MetricName,
        unit: expected[String(d.MetricName)],
      });
      expect(Object.values(StandardUnit)).toContain(d.Unit);
    }
    // Events: the total and one per type (page_view, purchase).
    expect(datums.filter((d) => d.MetricName === 'Events')).toHaveLength(3);
  });
});
