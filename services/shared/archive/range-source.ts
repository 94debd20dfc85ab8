/**
 * Serves a shard's sequence range from the archive, for when the stream no longer holds it (the
 * re-drive's fallback source, and `pulse archive replay`). The batch index (layout.ts) names the
 * partitions the range's batches wrote; their files (parts, or the compacted file that replaced
 * them) are read and filtered to the shard and range. Valid events come back as the JSON the
 * functions decode to the same event; invalid records as the exact bytes that arrived.
 *
 * Same shape as the stream source: pages of records in sequence order, `from` first when the
 * archive holds it.
 */
import { compareSequence } from '../sequence.js';
import type { ArchiveStore } from './store.js';

export interface ArchivedRangeRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  arrivalMs: number;
}

const encoder = new TextEncoder();

export class ArchiveRangeSource {
  constructor(private readonly o: { store: ArchiveStore; pageSize?: number }) {}

  async *pages(
    at: { streamArn: string; shardId: string },
    from: string,
    to: string,
  ): AsyncIterable<ArchivedRangeRecord[]> {
    const records = await this.range(at.shardId, from, to);
    const size = this.o.pageSize ?? 1000;
    for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
  }

  /** The whole range at once, in sequence order, each sequence number once. */
  async range(shardId: string, from: string, to: string): Promise<ArchivedRangeRecord[]> {
    const inRange = (r: { shardId: string; sequenceNumber: string }) =>
      r.shardId === shardId &&
      compareSequence(r.sequenceNumber, from) >= 0 &&
      compareSequence(r.sequenceNumber, to) <= 0;
    const batches = await this.o.store.indexOverlapping(shardId, from, to);
    const prefixes = [...new Set(batches.flatMap((b) => b.partitions))];
    const bySequence = new Map<string, ArchivedRangeRecord>();
    for (const prefix of prefixes) {
      if (prefix.startsWith('events/')) {
        const { records } = await this.o.store.readPartitionEvents(prefix);
        for (const r of records.filter(inRange)) {
          bySequence.set(r.sequenceNumber, {
            shardId: r.shardId,
            sequenceNumber: r.sequenceNumber,
            partitionKey: r.event.userId,
            data: encoder.encode(JSON.stringify(r.event)),
            arrivalMs: r.arrivalMs,
          });
        }
      } else {
        for (const r of (await this.o.store.readPartitionInvalid(prefix)).filter(inRange)) {
          bySequence.set(r.sequenceNumber, {
            shardId: r.shardId,
            sequenceNumber: r.sequenceNumber,
            partitionKey: r.partitionKey,
            data: Buffer.from(r.rawData, 'base64'),
            arrivalMs: r.arrivalMs,
          });
        }
      }
    }
    return [...bySequence.values()].sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber));
  }
}
