/**
 * The re-drive's source with the archive behind the stream: a set-aside range is read from the
 * stream while the stream holds it; the part the stream no longer holds (its head, or all of it,
 * after the retention period or a deleted shard) is read from the archive, which keeps every
 * record of every shard (valid events and invalid records) under the same shard and sequence
 * numbers. Pages still come in sequence order, `from` first, so the re-drive's checks are unchanged.
 */

import type { RangeRecord, RangeSource } from '../failure/range-source.js';
import { compareSequence } from '../sequence.js';
import { ArchiveRangeSource } from './range-source.js';
import type { ArchiveStore } from './store.js';

const isGoneError = (err: unknown) =>
  ['InvalidArgumentException', 'ResourceNotFoundException', 'ExpiredIteratorException'].includes(
    (err as { name?: string }).name ?? '',
  );

export class StreamThenArchiveSource implements RangeSource {
  private readonly archive: ArchiveRangeSource;

  constructor(private readonly o: { stream: RangeSource; store: ArchiveStore; pageSize?: number }) {
    this.archive = new ArchiveRangeSource({ store: o.store, pageSize: o.pageSize });
  }

  async *pages(
    at: { streamArn: string; shardId: string },
    from: string,
    to: string,
  ): AsyncIterable<RangeRecord[]> {
    const pages = this.o.stream.pages(at, from, to)[Symbol.asyncIterator]();
    let first: IteratorResult<RangeRecord[]> | undefined;
    try {
      // The first non-empty page tells whether the stream still holds the head of the range.
      do first = await pages.next();
      while (!first.done && first.value.length === 0);
    } catch (err) {
      if (!isGoneError(err)) throw err;
      first = undefined;
    }
    const head = first && !first.done ? (first.value[0] as RangeRecord) : undefined;
    if (head && head.sequenceNumber === from) {
      yield (first as IteratorResult<RangeRecord[]>).value as RangeRecord[];
      for (let next = await pages.next(); !next.done; next = await pages.next()) yield next.value;
      return;
    }
    // The stream lost the head (or all) of the range: the archive serves what comes before the
    // stream's first record, then the stream goes on from there.
    const archived = await this.archive.range(at.shardId, from, to);
    const before = head
      ? archived.filter((r) => compareSequence(r.sequenceNumber, head.sequenceNumber) < 0)
      : archived;
    const size = this.o.pageSize ?? 1000;
    for (let i = 0; i < before.length; i += size) yield before.slice(i, i + size);
    if (!head) return;
    yield (first as IteratorResult<RangeRecord[]>).value as RangeRecord[];
    for (let next = await pages.next(); !next.done; next = await pages.next()) yield next.value;
  }
}

/** The re-drive source for a function: the stream, with the archive behind it when one is configured. */
export function redriveSource(stream: RangeSource, store: ArchiveStore | undefined): RangeSource {
  return store ? new StreamThenArchiveSource({ stream, store }) : stream;
}
