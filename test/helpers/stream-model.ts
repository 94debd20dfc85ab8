/**
 * Generated Kinesis streams and an in-memory Lambda event source mapping, for property-based
 * tests of the functions against a plain reference model.
 *
 * A stream: several users over two shards, resharded at a generated point (each parent splits
 * in two; a user's later records go to a child shard whose sequence numbers are BELOW the
 * parent's, which AWS does not rule out), producer duplicates (the same event put again later,
 * possibly after the reshard), late and out-of-order event times, and invalid records.
 *
 * Delivery plays Lambda: a child shard only after its parents are done, shards interleaved,
 * arbitrary batch sizes, partial batch failures resume from the earliest reported record,
 * function errors bisect (or retry) the batch, and lost responses re-deliver a batch that
 * already took effect. Faults are armed by the test before each invocation.
 */
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import type { PulseEvent } from '../../services/shared/event.js';
import type { RangeRecord, RangeSource } from '../../services/shared/failure/range-source.js';
import { compareSequence } from '../../services/shared/sequence.js';
import { aRawRecord, aRecord, MINUTE, T0 } from './records.js';

export interface ModelShard {
  id: string;
  parents: string[];
  records: KinesisStreamRecord[];
}

export interface GeneratedStream {
  shards: ModelShard[];
  /** Every distinct valid event, in the order its first copy is on the stream (per user: application order). */
  unique: PulseEvent[];
  /** Records put on the stream, duplicates and invalid ones included. */
  puts: number;
  invalid: number;
}

const USERS = ['ann', 'bob', 'cyd', 'dee', 'eve'];
/** When the stream starts arriving: ten days after T0, past every generated event time. */
export const ARRIVAL0 = T0 + 10 * 24 * 60 * MINUTE;
const TYPES = ['page_view', 'product_view', 'add_to_cart', 'purchase', 'video_play'] as const;

interface Step {
  user: number;
  type: (typeof TYPES)[number];
  /** Minutes after (or, negative, before: a late event) the user's previous event. */
  gap: number;
  amount: number;
  product: number;
  /** Put again this many steps later (a producer retry), if set. */
  duplicateAfter: number | null;
  invalidBefore: boolean;
}

const step: fc.Arbitrary<Step> = fc.record({
  user: fc.nat(USERS.length - 1),
  type: fc.constantFrom(...TYPES),
  gap: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -45, max: 90 })),
  amount: fc.integer({ min: 1, max: 500 }),
  product: fc.nat(6),
  duplicateAfter: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 4 }),
  invalidBefore: fc.nat(9).map((n) => n === 0),
});

export const streams: fc.Arbitrary<GeneratedStream> = fc
  .record({ steps: fc.array(step, { minLength: 1, maxLength: 45 }), reshardAt: fc.nat(50) })
  .map(({ steps, reshardAt }) => build(steps, reshardAt));

function build(steps: Step[], reshardAt: number): GeneratedStream {
  const parents = ['shardId-000000000000', 'shardId-000000000001'];
  const children = [
    'shardId-000000000002',
    'shardId-000000000003',
    'shardId-000000000004',
    'shardId-000000000005',
  ];
  const shards = new Map<string, ModelShard>([
    ...parents.map((id): [string, ModelShard] => [id, { id, parents: [], records: [] }]),
    ...children.map((id, i): [string, ModelShard] => [
      id,
      { id, parents: [parents[i >> 1] as string], records: [] },
    ]),
  ]);
  // Children's sequence numbers start below the parents': only per-shard comparison is safe.
  let parentSeq = 9_000_000;
  let childSeq = 1_000_000;
  const clocks = USERS.map(() => T0);
  const unique: PulseEvent[] = [];
  const pending: Array<{ at: number; event: PulseEvent }> = [];
  let puts = 0;
  let invalid = 0;
  let time = 0;

  const put = (event: PulseEvent | undefined, user: number) => {
    const resharded = time >= reshardAt;
    const parent = parents[user % 2] as string;
    const shardId = resharded ? (children[(user % 2) * 2 + ((user >> 1) % 2)] as string) : parent;
    const seq = String(resharded ? childSeq++ : parentSeq++).padStart(20, '0');
    // Arrival after every event time: all events are late or on time, never ahead of arrival.
    const arrivalMs = ARRIVAL0 + time * 1000;
    const record = event
      ? aRecord(event, { shardId, sequenceNumber: seq, arrivalMs })
      : aRawRecord(`{not json ${time}`, {
          shardId,
          sequenceNumber: seq,
          arrivalMs,
          partitionKey: USERS[user],
        });
    shards.get(shardId)?.records.push(record);
    puts += 1;
    time += 1;
  };

  steps.forEach((s, i) => {
    for (const due of pending.filter((p) => p.at === i)) put(due.event, USERS.indexOf(due.event.userId));
    if (s.invalidBefore) {
      put(undefined, s.user);
      invalid += 1;
    }
    const userId = USERS[s.user] as string;
    clocks[s.user] = Math.max(T0 - 600 * MINUTE, (clocks[s.user] as number) + s.gap * MINUTE);
    const data: Record<string, unknown> =
      s.type === 'purchase'
        ? { amount: s.amount, currency: 'USD', orderId: `o${i}` }
        : s.type === 'product_view'
          ? { productId: `p${s.product}` }
          : {};
    const event: PulseEvent = {
      eventId: `e${i}`,
      userId,
      eventType: s.type,
      timestamp: clocks[s.user] as number,
      data,
    } as PulseEvent;
    unique.push(event);
    put(event, s.user);
    if (s.duplicateAfter !== null) pending.push({ at: i + 1 + s.duplicateAfter, event: { ...event } });
  });
  for (const due of pending.filter((p) => p.at >= steps.length))
    put(due.event, USERS.indexOf(due.event.userId));
  return { shards: [...shards.values()], unique, puts, invalid };
}

/** A small seeded generator for delivery choices (batch sizes, faults, interleaving): the bench's. */
export { rng as prng } from '../../scripts/bench/data.js';

export interface DeliveryOptions {
  bisectOnError: boolean;
  maxBatch: number;
  rand: () => number;
  /** Called before each invocation: the test arms its faults here. */
  beforeInvoke?: (records: readonly KinesisStreamRecord[]) => void;
  /** Chance that a successful invocation's response is lost and the batch comes again. */
  redeliverChance?: number;
}

export interface DeliveryStats {
  invocations: number;
  functionErrors: number;
  partialFailures: number;
  redeliveries: number;
  bisects: number;
}

type Invoke = (records: KinesisStreamRecord[]) => Promise<KinesisStreamBatchResponse>;

/** Delivers every shard's records to `invoke` as Lambda would; throws if a record could never be processed. */
export async function deliver(
  shards: readonly ModelShard[],
  invoke: Invoke,
  o: DeliveryOptions,
): Promise<DeliveryStats> {
  const stats: DeliveryStats = {
    invocations: 0,
    functionErrors: 0,
    partialFailures: 0,
    redeliveries: 0,
    bisects: 0,
  };
  const done = new Set<string>();
  const position = new Map(shards.map((s) => [s.id, 0]));
  const call = async (records: KinesisStreamRecord[]) => {
    o.beforeInvoke?.(records);
    stats.invocations += 1;
    if (stats.invocations > 5_000) throw new Error('delivery does not converge');
    return invoke(records);
  };

  /** Processes `records` until all succeeded (Lambda's retry loop for one batch). */
  const processRange = async (records: KinesisStreamRecord[]): Promise<void> => {
    let pending = records;
    while (pending.length > 0) {
      let response: KinesisStreamBatchResponse;
      try {
        response = await call(pending);
      } catch {
        stats.functionErrors += 1;
        if (o.bisectOnError && pending.length > 1) {
          stats.bisects += 1;
          const mid = Math.ceil(pending.length / 2);
          await processRange(pending.slice(0, mid));
          await processRange(pending.slice(mid));
          return;
        }
        continue;
      }
      const failed = response.batchItemFailures.map((f) =>
        pending.findIndex((r) => r.kinesis.sequenceNumber === f.itemIdentifier),
      );
      if (failed.some((i) => i < 0)) throw new Error('batchItemFailures names a record not in the batch');
      if (failed.length === 0) {
        if (o.rand() < (o.redeliverChance ?? 0)) {
          stats.redeliveries += 1; // the response was lost: Lambda delivers the same batch again
          continue;
        }
        return;
      }
      stats.partialFailures += 1;
      pending = pending.slice(Math.min(...failed));
    }
  };

  for (;;) {
    const ready = shards.filter((s) => !done.has(s.id) && s.parents.every((p) => done.has(p)));
    if (ready.length === 0) break;
    const shard = ready[Math.floor(o.rand() * ready.length)] as ModelShard;
    const at = position.get(shard.id) as number;
    if (at >= shard.records.length) {
      done.add(shard.id);
      continue;
    }
    const size = 1 + Math.floor(o.rand() * o.maxBatch);
    await processRange(shard.records.slice(at, at + size));
    position.set(shard.id, at + size);
  }
  return stats;
}

/** The generated shards' lineage, as the functions' `ancestors` option asks for it. */
export function modelAncestors(shards: readonly ModelShard[]) {
  return async (_streamArn: string, shardId: string) => shards.find((s) => s.id === shardId)?.parents ?? [];
}

/** The generated stream as the re-drive reads it: pages of `pageSize` records. */
export function modelSource(
  shards: readonly ModelShard[],
  pageSize: number,
  reads?: { records: number },
): RangeSource {
  return {
    async *pages(at, from, to) {
      const records: RangeRecord[] = (shards.find((s) => s.id === at.shardId)?.records ?? [])
        .filter(
          (r) =>
            compareSequence(r.kinesis.sequenceNumber, from) >= 0 &&
            compareSequence(r.kinesis.sequenceNumber, to) <= 0,
        )
        .map((r) => ({
          shardId: at.shardId,
          sequenceNumber: r.kinesis.sequenceNumber,
          partitionKey: r.kinesis.partitionKey,
          data: Buffer.from(r.kinesis.data, 'base64'),
          arrivalMs: r.kinesis.approximateArrivalTimestamp * 1000,
        }));
      for (let i = 0; i < records.length; i += pageSize) {
        const page = records.slice(i, i + pageSize);
        if (reads) reads.records += page.length;
        yield page;
      }
    },
  };
}
