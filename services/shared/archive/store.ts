/**
 * The archive bucket's I/O contract. Everything that reads or rewrites archive objects (writer,
 * compactor, replay, erasure) goes through these calls:
 * - a file is written whole with one PUT (S3 PUTs are atomic: a reader sees the old or the new
 *   object, never half of one), so rewriting a file in place with rows removed is safe;
 * - rows of one partition may be spread over several files and may repeat (re-deliveries with other
 *   batch boundaries); `readPartitionEvents` returns them de-duplicated by (userId, eventId), the first
 *   archived copy (lowest shard/sequence position) winning;
 * - a file that two writers may rewrite (compacted.parquet by compaction, any file by erasure) is
 *   written conditionally on the ETag it was read at, so the later of two racing rewrites fails
 *   with `ArchiveObjectChanged` instead of silently putting back rows the other removed, or
 *   dropping rows the other merged in.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../batch.js';
import type { InvalidRecord, ValidRecord } from '../kinesis.js';
import { compareSequence } from '../sequence.js';
import { type BatchIndex, indexKey, parseArchiveKey, parseIndexKey, shardIndexPrefix } from './layout.js';
import { decodeEvents, decodeInvalid, encodeEvents, encodeInvalid } from './parquet.js';

export interface ArchiveObject {
  key: string;
  size: number;
  /** As S3 gives it (quoted); what a conditional rewrite of this object is made against. */
  etag?: string;
}

/** What a write requires of the object's current state: unchanged since read, or still absent. */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' };

/**
 * The object is not as it was read: another writer replaced or deleted it (S3 412, or 409 for a
 * conditional write racing another, or 404 for one that is gone). Nothing was written.
 */
export class ArchiveObjectChanged extends Error {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`archive object ${key} changed since it was read`, options);
    this.name = 'ArchiveObjectChanged';
  }
}

/**
 * S3's answers to a precondition that no longer holds, or to a GET of an object gone since the
 * list. Only these: a missing bucket (also 404) or another conflict (also 409) stays an error.
 */
function changedError(key: string, err: unknown): ArchiveObjectChanged | undefined {
  const name = err instanceof Error ? err.name : undefined;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (
    name === 'PreconditionFailed' ||
    name === 'ConditionalRequestConflict' ||
    name === 'NoSuchKey' ||
    status === 412
  )
    return new ArchiveObjectChanged(key, { cause: err });
  return undefined;
}

/** Runs one S3 call on `key`, translating "changed or gone" into ArchiveObjectChanged. */
async function onObject<T>(key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw changedError(key, err) ?? err;
  }
}

/**
 * The rows of a file read after a list, or none when it is gone since: compaction deleted it after
 * writing its rows to compacted.parquet (a walk over the list reads that file too).
 */
export async function unlessGone<R>(read: Promise<R[]>): Promise<R[]> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ArchiveObjectChanged) return [];
    throw err;
  }
}

/** Attempts at a conditional rewrite before giving up: each lost race means another writer progressed. */
const REWRITE_ATTEMPTS = 5;
/** Pause before attempt n + 1 (n × this): lets a compaction finish deleting the parts it replaced. */
const RETRY_PAUSE_MS = 200;
/** GETs in flight per partition read (an uncompacted hour can hold hundreds of parts). */
const READ_CONCURRENCY = 16;

const DELETE_BATCH = 1000;

export class ArchiveStore {
  constructor(private readonly o: { s3: S3Client; bucket: string; retryPauseMs?: number }) {}

  private pause(attempt: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, attempt * (this.o.retryPauseMs ?? RETRY_PAUSE_MS)));
  }

  get bucket(): string {
    return this.o.bucket;
  }

  /** Archive files (events/, invalid/) under the prefix. */
  async list(prefix: string): Promise<ArchiveObject[]> {
    return (await this.listKeys(prefix)).filter((o) => parseArchiveKey(o.key));
  }

  private async listKeys(prefix: string): Promise<ArchiveObject[]> {
    const objects: ArchiveObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.o.s3.send(
        new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  private async get(key: string): Promise<Uint8Array> {
    return (await this.getWithTag(key)).bytes;
  }

  private async getWithTag(key: string): Promise<{ bytes: Uint8Array; etag?: string }> {
    const { Body, ETag } = await onObject(key, () =>
      this.o.s3.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key })),
    );
    if (!Body) throw new Error(`archive object ${key} has no body`);
    return { bytes: await Body.transformToByteArray(), etag: ETag };
  }

  async putIndex(index: BatchIndex): Promise<void> {
    const key = indexKey(index.shardId, index.firstSequence, index.lastSequence);
    await this.o.s3.send(
      new PutObjectCommand({
        Bucket: this.o.bucket,
        Key: key,
        Body: new TextEncoder().encode(JSON.stringify(index)),
        ContentType: 'application/json',
      }),
    );
  }

  /** The shard's batch index entries whose sequence range overlaps [from, to]. */
  async indexOverlapping(shardId: string, from: string, to: string): Promise<BatchIndex[]> {
    const overlapping = (await this.listKeys(shardIndexPrefix(shardId)))
      .map((o) => ({ key: o.key, range: parseIndexKey(o.key) }))
      .filter(
        ({ range }) =>
          range !== undefined &&
          compareSequence(range.lastSequence, from) >= 0 &&
          compareSequence(range.firstSequence, to) <= 0,
      );
    return Promise.all(
      overlapping.map(
        async ({ key }) => JSON.parse(new TextDecoder().decode(await this.get(key))) as BatchIndex,
      ),
    );
  }

  private async put(key: string, body: Uint8Array, condition?: WriteCondition): Promise<void> {
    await onObject(key, () =>
      this.o.s3.send(
        new PutObjectCommand({
          Bucket: this.o.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/vnd.apache.parquet',
          IfMatch: condition && 'ifMatch' in condition ? condition.ifMatch : undefined,
          IfNoneMatch: condition && 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined,
        }),
      ),
    );
  }

  /** Writes a file whole; with a condition, throws ArchiveObjectChanged when it no longer holds. */
  putEvents(key: string, records: readonly ValidRecord[], condition?: WriteCondition): Promise<void> {
    return this.put(key, encodeEvents(records), condition);
  }

  putInvalid(key: string, records: readonly InvalidRecord[]): Promise<void> {
    return this.put(key, encodeInvalid(records));
  }

  /** Throws ArchiveObjectChanged when the object is gone (compaction deleted it after a list). */
  async readEvents(key: string): Promise<ValidRecord[]> {
    return decodeEvents(await this.get(key));
  }

  async readInvalid(key: string): Promise<InvalidRecord[]> {
    return decodeInvalid(await this.get(key));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const { Errors } = await this.o.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.o.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (Errors && Errors.length > 0) {
        throw new Error(
          `archive delete failed for ${Errors.length} objects, e.g. ${Errors[0]?.Key}: ${Errors[0]?.Code}`,
        );
      }
    }
  }

  /**
   * Rewrites one events file keeping only the rows `keep` accepts (erasure): same key, one PUT
   * conditional on the ETag it was read at; the file is deleted (on the same condition) when no row
   * is left. A lost race (compaction replaced the file meanwhile) reads it again; a file gone since
   * the list holds nothing any more. Returns how many rows were removed.
   */
  rewriteEvents(key: string, keep: (record: ValidRecord) => boolean): Promise<number> {
    return this.rewrite(key, decodeEvents, encodeEvents, keep);
  }

  /** Same for an invalid-records file. */
  rewriteInvalid(key: string, keep: (record: InvalidRecord) => boolean): Promise<number> {
    return this.rewrite(key, decodeInvalid, encodeInvalid, keep);
  }

  private async rewrite<R>(
    key: string,
    decode: (bytes: Uint8Array) => Promise<R[]>,
    encode: (rows: readonly R[]) => Uint8Array,
    keep: (row: R) => boolean,
  ): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { bytes, etag } = await this.getWithTag(key);
        const rows = await decode(bytes);
        const kept = rows.filter(keep);
        if (kept.length === rows.length) return 0;
        if (!etag) throw new Error(`archive object ${key} came without an ETag`);
        if (kept.length === 0) await this.deleteIfUnchanged(key, etag);
        else await this.put(key, encode(kept), { ifMatch: etag });
        return rows.length - kept.length;
      } catch (err) {
        if (!(err instanceof ArchiveObjectChanged) || attempt >= REWRITE_ATTEMPTS) throw err;
        if (!(await this.exists(key))) return 0;
        await this.pause(attempt);
      }
    }
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.listKeys(key)).some((o) => o.key === key);
  }

  private async deleteIfUnchanged(key: string, etag: string): Promise<void> {
    await onObject(key, () =>
      this.o.s3.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key, IfMatch: etag })),
    );
  }

  /** Every archive file under the prefix as stored (bytes), listed and read as one snapshot. */
  async readFiles(prefix: string): Promise<Array<{ key: string; bytes: Uint8Array }>> {
    return (await this.readListed(prefix, async (key) => [{ key, bytes: await this.get(key) }])).rows;
  }

  /** Every invalid record under the prefix (all files), once per (shard, sequence number). */
  async readPartitionInvalid(prefix: string): Promise<InvalidRecord[]> {
    const { rows: all } = await this.readListed(prefix, (k) => this.readInvalid(k));
    const seen = new Set<string>();
    return all.filter((r) => {
      const id = `${r.shardId}:${r.sequenceNumber}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  /**
   * Every event of the partition (all its files, or the `listed` ones), once per (userId, eventId),
   * in stream order. Given `listed`, a file gone since throws ArchiveObjectChanged (the compactor
   * must not act on a partial read).
   */
  async readPartitionEvents(
    prefix: string,
    listed?: readonly string[],
  ): Promise<{ keys: string[]; records: ValidRecord[] }> {
    const read = (k: string) => this.readEvents(k);
    const { keys, rows } = listed
      ? { keys: [...listed], rows: (await mapWithConcurrency(listed, READ_CONCURRENCY, read)).flat() }
      : await this.readListed(prefix, read);
    return { keys, records: dedupeEvents(rows) };
  }

  /**
   * Reads every file the prefix lists. A compaction that finishes between the list and the reads
   * has moved a part's rows into compacted.parquet and deleted the part; the partition is then
   * listed and read again, so a reader never returns a mix that misses those rows.
   */
  private async readListed<R>(
    prefix: string,
    read: (key: string) => Promise<R[]>,
  ): Promise<{ keys: string[]; rows: R[] }> {
    for (let attempt = 1; ; attempt += 1) {
      const keys = (await this.list(prefix)).map((o) => o.key);
      try {
        return { keys, rows: (await mapWithConcurrency(keys, READ_CONCURRENCY, read)).flat() };
      } catch (err) {
        if (!(err instanceof ArchiveObjectChanged) || attempt >= REWRITE_ATTEMPTS) throw err;
        await this.pause(attempt);
      }
    }
  }
}

/**
 * Orders records by sequence number, then shard: a user's records are on one shard at a time and
 * a child shard's numbers start above its parent's, so this is each user's order on the stream.
 */
export function compareRecords(a: ValidRecord, b: ValidRecord): number {
  const bySequence = compareSequence(a.sequenceNumber, b.sequenceNumber);
  if (bySequence !== 0) return bySequence;
  return a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0;
}

/**
 * One record per (userId, eventId) (the first on the stream), in stream order. eventIds are unique
 * per user only, and a partition holds many users (a user bucket), so the id alone is not a key.
 */
export function dedupeEvents(records: readonly ValidRecord[]): ValidRecord[] {
  const sorted = [...records].sort(compareRecords);
  const seen = new Map<string, Set<string>>();
  const out: ValidRecord[] = [];
  for (const r of sorted) {
    const { userId, eventId } = r.event;
    let ids = seen.get(userId);
    if (!ids) {
      ids = new Set<string>();
      seen.set(userId, ids);
    }
    if (ids.has(eventId)) continue;
    ids.add(eventId);
    out.push(r);
  }
  return out;
}
