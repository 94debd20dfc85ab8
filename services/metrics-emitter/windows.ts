/**
 * Pure aggregation of a batch into CloudWatch datums: one datum per (metric, dimensions, minute),
 * each a statistic set, so a batch of thousands of events becomes a few dozen datums.
 *
 * Records are cut into *segments*: consecutive runs of records (in sequence order) whose datums
 * fit in one PutMetricData request. A segment is the unit of emission and of the watermark, so
 * when a request fails, everything before that segment's first record has been emitted exactly
 * once and everything from it on has not been emitted at all.
 */
import type { Dimension, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { isPurchase, KNOWN_EVENT_TYPES } from '../shared/event.js';
import type { InvalidRecord, ValidRecord } from '../shared/kinesis.js';
import { microsToNumber, toMicros } from '../shared/money.js';

export const MINUTE_MS = 60_000;
/** CloudWatch rejects datums older than two weeks ... */
export const MAX_AGE_MS = 14 * 24 * 60 * MINUTE_MS;
/** ... or more than two hours in the future. */
export const MAX_AHEAD_MS = 2 * 60 * MINUTE_MS;
/** Margin inside those limits, so a datum accepted here is still accepted when (re)sent. */
export const TIMESTAMP_MARGIN_MS = 10 * MINUTE_MS;
/** PutMetricData limits: 1000 datums and 1 MB per request (the byte budget leaves headroom). */
export const MAX_DATUMS_PER_REQUEST = 1000;
export const MAX_REQUEST_BYTES = 900_000;
/**
 * CloudWatch rejects values beyond ±2^360 (about 2.3e108). Larger amounts are valid events but
 * would make every retry of the request fail and stall the shard, so they count as purchases and
 * stay out of Revenue/OrderValue (reported as `unrepresentable`). 5000 amounts up to this bound
 * still sum to far less than the limit.
 */
export const MAX_METRIC_AMOUNT = 1e100;
/** EventType value for types beyond the per-batch cap or not usable as a dimension value. */
export const OTHER_EVENT_TYPE = 'other';

export const METRICS = {
  events: 'Events',
  purchases: 'Purchases',
  revenue: 'Revenue',
  orderValue: 'OrderValue',
  invalidRecords: 'InvalidRecords',
  pipelineLag: 'PipelineLagMs',
} as const;

/**
 * Money metrics: one series per currency (`Currency` dimension), because amounts in different
 * currencies must never add up. Their cells sum exact micro-units and turn the sum into the one
 * double CloudWatch gets at the end, so no rounding accumulates over a minute's purchases.
 */
const MONEY_METRICS: ReadonlySet<string> = new Set([METRICS.revenue, METRICS.orderValue]);

export type BatchItem = ValidRecord | InvalidRecord;

export function isValidItem(item: BatchItem): item is ValidRecord {
  return 'event' in item;
}

export interface WindowContext {
  environment: string;
  functionName: string;
  /** Processing time (epoch ms): lag is measured against it and it bounds acceptable timestamps. */
  nowMs: number;
  /** Maps a raw eventType to its EventType dimension value (see eventTypeLabels). */
  labelOf: (eventType: string) => string;
}

export interface Segment {
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  records: number;
  /** Events whose event time CloudWatch would reject, bucketed by arrival time instead. */
  displaced: number;
  /** Purchases whose amount is too large for a CloudWatch value (counted, not summed). */
  unrepresentable: number;
  datums: MetricDatum[];
  /** An upper bound on the datums' serialised bytes (datumBytesBound, summed). */
  bytes: number;
}

export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** True if CloudWatch accepts a datum stamped `ms` when sent at about `nowMs`. */
export function isAcceptedTimestamp(ms: number, nowMs: number): boolean {
  return ms >= nowMs - MAX_AGE_MS + TIMESTAMP_MARGIN_MS && ms <= nowMs + MAX_AHEAD_MS - TIMESTAMP_MARGIN_MS;
}

/**
 * The minute a record counts in: its event time's minute when CloudWatch accepts it; otherwise
 * its arrival minute (a replay of old data, or a producer clock far off), and if even that is out
 * of range, the processing minute.
 */
export function bucketMinute(
  eventMs: number,
  arrivalMs: number,
  nowMs: number,
): { minute: number; displaced: boolean } {
  const eventMinute = minuteOf(eventMs);
  if (isAcceptedTimestamp(eventMinute, nowMs)) return { minute: eventMinute, displaced: false };
  const arrivalMinute = minuteOf(arrivalMs);
  if (isAcceptedTimestamp(arrivalMinute, nowMs)) return { minute: arrivalMinute, displaced: true };
  return { minute: minuteOf(nowMs), displaced: true };
}

/** CloudWatch dimension values must be printable ASCII with at least one non-space character. */
export function isUsableDimensionValue(value: string): boolean {
  return value.length > 0 && value.length <= 255 && /^[\x20-\x7e]+$/.test(value) && value.trim() !== '';
}

/**
 * EventType dimension values for a batch. Each distinct value is a separate (billed) metric, so
 * only the environment's allow-listed types (EVENT_TYPES) get their own; any other type folds into
 * `other`, which bounds the EventType metrics to the allow-list plus one whatever producers send.
 * Within that, a batch keeps at most `maxTypes`: the known types first, then the most frequent
 * others (ties by name, so the choice is deterministic). Values CloudWatch cannot take fold too.
 */
export function eventTypeLabels(
  records: readonly ValidRecord[],
  maxTypes: number,
  allowed?: ReadonlySet<string>,
): { labelOf: (eventType: string) => string; folded: number } {
  // The known types are tallied by position (no Map look-up for the usual record), the rest by
  // Map; the ranking below is a total order, so the order they enter `counts` does not matter.
  const knownCounts = KNOWN_EVENT_TYPES.map(() => 0);
  const counts = new Map<string, number>();
  for (const { event } of records) {
    const type = event.eventType;
    const at = (KNOWN_EVENT_TYPES as readonly string[]).indexOf(type);
    if (at >= 0) knownCounts[at] = (knownCounts[at] as number) + 1;
    else counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  for (const [at, type] of KNOWN_EVENT_TYPES.entries()) {
    const count = knownCounts[at] as number;
    if (count > 0) counts.set(type, count);
  }
  const known = new Set<string>(KNOWN_EVENT_TYPES);
  const ranked = [...counts]
    .filter(
      ([type]) =>
        isUsableDimensionValue(type) &&
        type !== OTHER_EVENT_TYPE &&
        (allowed === undefined || allowed.has(type)),
    )
    .sort(
      ([a, ca], [b, cb]) =>
        Number(known.has(b)) - Number(known.has(a)) || cb - ca || (a < b ? -1 : a > b ? 1 : 0),
    );
  const kept = new Set(ranked.slice(0, maxTypes).map(([type]) => type));
  let folded = 0;
  for (const [type, count] of counts) if (!kept.has(type)) folded += count;
  return { labelOf: (type) => (kept.has(type) ? type : OTHER_EVENT_TYPE), folded };
}

/**
 * One cell's identity: metric, unit, minute and dimensions, with its map key and its serialised
 * size. Built once per batch and shared by every record that lands in it, so the per-record work
 * is a few map look-ups and additions rather than new dimension objects and joined key strings.
 */
interface CellSpec {
  key: string;
  metric: string;
  unit: StandardUnit;
  minute: number;
  dimensions: Dimension[];
  bytes: number;
  /** A money metric (MONEY_METRICS): its values are integer micros, summed exactly. */
  money: boolean;
  /** The segment holding this cell's aggregate now, and the aggregate (see SegmentAggregate). */
  owner: object | undefined;
  cell: Cell | undefined;
}

interface Cell {
  spec: CellSpec;
  count: number;
  /** Plain metrics sum numbers; money metrics sum integer micros exactly in `micros`. */
  sum: number;
  min: number;
  max: number;
  micros?: bigint;
}

/**
 * An upper bound on a datum's serialised size (emitter.ts datumBytes): the fixed keys, a timestamp,
 * unit and four numbers at their longest, and every name and value as if each character were
 * escaped (dimension values are printable ASCII, where JSON escapes only `"` and `\`). A segment
 * within the request limit by this bound needs no sizing when it is sent.
 */
export function datumBytesBound(metric: string, dimensions: readonly Dimension[]): number {
  let bytes = 340 + 2 * metric.length;
  for (const d of dimensions) bytes += 30 + 2 * ((d.Name?.length ?? 0) + (d.Value?.length ?? 0));
  return bytes;
}

/**
 * The cells one record touches and the value it adds to each, filled in place for every record of
 * a batch (one scratch object, no per-record arrays): lag first, then the record's event cells.
 */
class RecordCells {
  readonly specs: CellSpec[] = [];
  readonly values: number[] = [];
  count = 0;
  /** The Events cell (index 1) is counted at arrival time: CloudWatch would reject the event time. */
  displaced = false;
  unrepresentable = false;

  push(spec: CellSpec, value: number): void {
    this.specs[this.count] = spec;
    this.values[this.count] = value;
    this.count += 1;
  }
}

/** The cells of one batch (one aggregateSegments call), created on first use and then reused. */
class CellCatalog {
  private readonly specs = new Map<string, CellSpec>();
  /**
   * The event cells a valid record touches, per minute, then per raw eventType (a non-purchase)
   * or per summable currency (a purchase; undefined when not summable): nested maps, so the
   * per-record look-up builds no key string and calls no labelOf.
   */
  private readonly eventCells = new Map<
    number,
    { types: Map<string, CellSpec[]>; purchases: Map<string | undefined, CellSpec[]> }
  >();
  private readonly env: Dimension;
  readonly lag: CellSpec;

  constructor(private readonly ctx: WindowContext) {
    this.env = { Name: 'Environment', Value: ctx.environment };
    this.lag = this.spec(METRICS.pipelineLag, 'Milliseconds', minuteOf(ctx.nowMs), [
      this.env,
      { Name: 'Function', Value: ctx.functionName },
    ]);
  }

  private spec(metric: string, unit: StandardUnit, minute: number, dimensions: Dimension[]): CellSpec {
    let key = `${metric}|${minute}`;
    for (const d of dimensions) key += `|${d.Value}`;
    let found = this.specs.get(key);
    if (!found) {
      found = {
        key,
        metric,
        unit,
        minute,
        dimensions,
        bytes: datumBytesBound(metric, dimensions),
        money: MONEY_METRICS.has(metric),
        owner: undefined,
        cell: undefined,
      };
      this.specs.set(key, found);
    }
    return found;
  }

  invalid(minute: number): CellSpec {
    return this.spec(METRICS.invalidRecords, 'Count', minute, [this.env]);
  }

  /**
   * Events, Events by EventType and, for a purchase, Purchases then (when its amount is summable)
   * Revenue and OrderValue in its currency: in that order, so callers find the cells by position.
   */
  events(minute: number, eventType: string, purchase: boolean, currency: string | undefined): CellSpec[] {
    let byMinute = this.eventCells.get(minute);
    if (!byMinute) {
      byMinute = { types: new Map(), purchases: new Map() };
      this.eventCells.set(minute, byMinute);
    }
    let cells = purchase ? byMinute.purchases.get(currency) : byMinute.types.get(eventType);
    if (!cells) {
      const label = this.ctx.labelOf(eventType);
      cells = [
        this.spec(METRICS.events, 'Count', minute, [this.env]),
        this.spec(METRICS.events, 'Count', minute, [this.env, { Name: 'EventType', Value: label }]),
      ];
      if (purchase) {
        cells.push(this.spec(METRICS.purchases, 'Count', minute, [this.env]));
        if (currency !== undefined) {
          const dims = [this.env, { Name: 'Currency', Value: currency }];
          cells.push(this.spec(METRICS.revenue, 'None', minute, dims));
          cells.push(this.spec(METRICS.orderValue, 'None', minute, dims));
        }
      }
      if (purchase) byMinute.purchases.set(currency, cells);
      else byMinute.types.set(eventType, cells);
    }
    return cells;
  }

  /** Fills `out` with the cells `item` touches and its value for each. */
  cellsOf(item: BatchItem, out: RecordCells): void {
    const { nowMs } = this.ctx;
    out.count = 0;
    out.displaced = false;
    out.unrepresentable = false;
    out.push(this.lag, Math.max(0, nowMs - item.arrivalMs));
    if (!isValidItem(item)) {
      out.push(this.invalid(bucketMinute(item.arrivalMs, item.arrivalMs, nowMs).minute), 1);
      return;
    }
    const { event } = item;
    // The usual case (event time accepted) without bucketMinute's result object.
    let minute = minuteOf(event.timestamp);
    let displaced = false;
    if (!isAcceptedTimestamp(minute, nowMs))
      ({ minute, displaced } = bucketMinute(event.timestamp, item.arrivalMs, nowMs));
    const purchase = isPurchase(event);
    const summable = purchase && event.data.amount <= MAX_METRIC_AMOUNT;
    const cells = this.events(minute, event.eventType, purchase, summable ? event.data.currency : undefined);
    out.displaced = displaced;
    out.unrepresentable = purchase && !summable;
    out.push(cells[0] as CellSpec, 1);
    out.push(cells[1] as CellSpec, 1);
    if (purchase) out.push(cells[2] as CellSpec, 1);
    if (summable) {
      const micros = toMicros(event.data.amount);
      out.push(cells[3] as CellSpec, micros);
      out.push(cells[4] as CellSpec, micros);
    }
  }
}

/**
 * One segment's cells. A spec points at its cell in the segment that owns it, so a record's cells
 * are found without a map look-up (specs are per batch, segments follow one another).
 */
class SegmentAggregate {
  readonly cells: Cell[] = [];
  bytes = 0;
  records = 0;
  displaced = 0;
  unrepresentable = 0;
  first = '';
  last = '';

  /** How many new cells, and their bytes, adding a record would cost. */
  newCells(record: RecordCells): { cells: number; bytes: number } {
    let cells = 0;
    let bytes = 0;
    for (let i = 0; i < record.count; i++) {
      const spec = record.specs[i] as CellSpec;
      if (spec.owner === this) continue;
      cells += 1;
      bytes += spec.bytes;
    }
    return { cells, bytes };
  }

  add(item: BatchItem, record: RecordCells): void {
    if (this.records === 0) this.first = item.sequenceNumber;
    this.last = item.sequenceNumber;
    this.records += 1;
    if (record.unrepresentable) this.unrepresentable += 1;
    if (record.displaced) this.displaced += 1;
    for (let i = 0; i < record.count; i++) {
      const spec = record.specs[i] as CellSpec;
      const value = record.values[i] as number;
      const cell = spec.owner === this ? spec.cell : undefined;
      if (cell) {
        cell.count += 1;
        if (cell.micros !== undefined) cell.micros += BigInt(value);
        else cell.sum += value;
        if (value < cell.min) cell.min = value;
        if (value > cell.max) cell.max = value;
      } else {
        const created: Cell = {
          spec,
          count: 1,
          sum: value,
          min: value,
          max: value,
          ...(spec.money ? { micros: BigInt(value) } : {}),
        };
        spec.owner = this;
        spec.cell = created;
        this.cells.push(created);
        this.bytes += spec.bytes;
      }
    }
  }

  toSegment(): Segment {
    const cells = [...this.cells].sort(
      (a, b) =>
        a.spec.minute - b.spec.minute ||
        compareText(a.spec.metric, b.spec.metric) ||
        compareText(dimsKey(a), dimsKey(b)),
    );
    return {
      firstSequenceNumber: this.first,
      lastSequenceNumber: this.last,
      records: this.records,
      displaced: this.displaced,
      unrepresentable: this.unrepresentable,
      bytes: this.bytes,
      datums: cells.map((c) => ({
        MetricName: c.spec.metric,
        Dimensions: c.spec.dimensions,
        Timestamp: new Date(c.spec.minute),
        StatisticValues:
          c.micros === undefined
            ? { SampleCount: c.count, Sum: c.sum, Minimum: c.min, Maximum: c.max }
            : {
                SampleCount: c.count,
                Sum: microsToNumber(c.micros),
                Minimum: microsToNumber(c.min),
                Maximum: microsToNumber(c.max),
              },
        Unit: c.spec.unit,
        StorageResolution: 60,
      })),
    };
  }
}

function dimsKey(cell: Cell): string {
  return cell.spec.dimensions.map((d) => `${d.Name}=${d.Value}`).join(',');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Aggregates one shard's records (in sequence order) into segments, each small enough for one
 * PutMetricData request. Counts are statistic sets of ones (SampleCount = Sum = count), amounts
 * are statistic sets of the amounts, lag is a statistic set of per-record lags.
 */
export function aggregateSegments(
  items: readonly BatchItem[],
  ctx: WindowContext,
  limits: { maxDatums: number; maxBytes: number } = {
    maxDatums: MAX_DATUMS_PER_REQUEST,
    maxBytes: MAX_REQUEST_BYTES,
  },
): Segment[] {
  const segments: Segment[] = [];
  const catalog = new CellCatalog(ctx);
  const record = new RecordCells();
  let current = new SegmentAggregate();
  for (const item of items) {
    // Computed once per record: both the size check and the aggregation need them.
    catalog.cellsOf(item, record);
    const { cells, bytes } = current.newCells(record);
    if (
      current.records > 0 &&
      (current.cells.length + cells > limits.maxDatums || current.bytes + bytes > limits.maxBytes)
    ) {
      segments.push(current.toSegment());
      current = new SegmentAggregate();
    }
    current.add(item, record);
  }
  if (current.records > 0) segments.push(current.toSegment());
  return segments;
}
