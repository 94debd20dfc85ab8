/**
 * The archive bucket's I/O contract. Everything that reads or rewrites archive objects (writer,
 * compactor, replay, erasure) goes through these calls:
 * - a file is written whole with one PUT (S3 PUTs are atomic: a reader sees the old or the new
 *   object, never half of one), so rewriting a file in place with rows removed is safe;
 * - rows of one partition may be spread over several files and may repeat (re-deliveries with other
 *   batch boundaries); `readPartitionEvents` returns them de-duplicated by (userId, eventId), the first
 *   archived copy (lowest shard/sequence position) winning.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { InvalidRecord, ValidRecord } from '../kinesis.js';
import { compareSequence } from '../sequence.js';
import { type BatchIndex, indexKey, parseArchiveKey, parseIndexKey, shardIndexPrefix } from './layout.js';
import { decodeEvents, decodeInvalid, encodeEvents, encodeInvalid } from './parquet.js';

export interface ArchiveObject {
  key: string;
  size: number;
}

const DELETE_BATCH = 1000;

export class ArchiveStore {
  constructor(private readonly o: { s3: S3Client; bucket: string }) {}

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
        if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  private async get(key: string): Promise<Uint8Array> {
    const { Body } = await this.o.s3.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key }));
    if (!Body) throw new Error(`archive object ${key} has no body`);
    return Body.transformToByteArray();
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

  private async put(key: string, body: Uint8Array): Promise<void> {
    await this.o.s3.send(
      new PutObjectCommand({
        Bucket: this.o.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
  }

  putEvents(key: string, records: readonly ValidRecord[]): Promise<void> {
    return this.put(key, encodeEvents(records));
  }

  putInvalid(key: string, records: readonly InvalidRecord[]): Promise<void> {
    return this.put(key, encodeInvalid(records));
  }

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
   * Rewrites one events file keeping only the rows `keep` accepts (erasure): same key, one PUT;
   * the file is deleted when no row is left. Returns how many rows were removed.
   */
  async rewriteEvents(key: string, keep: (record: ValidRecord) => boolean): Promise<number> {
    const rows = await this.readEvents(key);
    const kept = rows.filter(keep);
    if (kept.length === rows.length) return 0;
    if (kept.length === 0) await this.delete([key]);
    else await this.putEvents(key, kept);
    return rows.length - kept.length;
  }

  /** Same for an invalid-records file. */
  async rewriteInvalid(key: string, keep: (record: InvalidRecord) => boolean): Promise<number> {
    const rows = await this.readInvalid(key);
    const kept = rows.filter(keep);
    if (kept.length === rows.length) return 0;
    if (kept.length === 0) await this.delete([key]);
    else await this.putInvalid(key, kept);
    return rows.length - kept.length;
  }

  /** Every invalid record under the prefix (all files), once per (shard, sequence number). */
  async readPartitionInvalid(prefix: string): Promise<InvalidRecord[]> {
    const keys = (await this.list(prefix)).map((o) => o.key);
    const all = (await Promise.all(keys.map((k) => this.readInvalid(k)))).flat();
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
   * in stream order.
   */
  async readPartitionEvents(
    prefix: string,
    listed?: readonly string[],
  ): Promise<{ keys: string[]; records: ValidRecord[] }> {
    const keys = listed ? [...listed] : (await this.list(prefix)).map((o) => o.key);
    const all = (await Promise.all(keys.map((k) => this.readEvents(k)))).flat();
    return { keys, records: dedupeEvents(all) };
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
