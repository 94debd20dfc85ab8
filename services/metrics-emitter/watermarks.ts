/**
 * Per-shard sequence watermarks (pk = `<functionName>#<shardId>`): the last sequence number whose
 * metrics are in CloudWatch, and 64-bit hashes of the (userId, eventId) pairs emitted from the shard lately, so
 * a producer retry (same eventId, new record) is not counted twice. Writes carry an
 * optimistic-lock condition on `version`, so a writer that read a stale watermark cannot move it.
 *
 * The hashes are kept in blocks, one per watermark write, each stamped with the newest arrival
 * time among its records: a block older than the duplicate window (a producer's retry span) is
 * dropped, so the item grows with the traffic of the last window only, never past
 * `RECENT_EVENT_IDS_LIMIT` hashes (8 bytes each).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, isConditionalCheckFailed } from '../shared/errors.js';
import { idPairHash } from '../shared/id-hash.js';
import { EVENT_HASH_BYTES } from '../shared/idempotency.js';

/** Hashes of one watermark write: `at` is the newest arrival among them (epoch seconds). */
export interface HashBlock {
  at: number;
  /** EVENT_HASH_BYTES per eventId, concatenated. */
  h: Uint8Array;
}

export interface Watermark {
  lastSequenceNumber: string;
  /** 0 when no watermark exists yet. */
  version: number;
  /** Oldest block first. */
  recent: HashBlock[];
}

export const NO_WATERMARK: Watermark = { lastSequenceNumber: '', version: 0, recent: [] };

/**
 * The hash a record is de-duplicated by: its user and eventId together. eventIds are unique per
 * user only (session-updater and fraud-rules de-duplicate per user), so two users' events that
 * share one are two events here too.
 */
export function userEventHash(userId: string, eventId: string): Buffer {
  return Buffer.from(userEventHashKey(userId, eventId), 'latin1');
}

/** userEventHash as latin1 text (the set key the processor looks duplicates up by). */
export function userEventHashKey(userId: string, eventId: string): string {
  return idPairHash(userId, eventId);
}

export function watermarkKey(functionName: string, shardId: string): string {
  return `${functionName}#${shardId}`;
}

/**
 * Blocks kept at most: small batches write a block each, and each block costs ~15 bytes besides
 * its hashes, so the oldest blocks are merged (keeping the newer stamp: a merged block stays a
 * little longer, never shorter) to bound that overhead at about 1 KB.
 */
export const MAX_HASH_BLOCKS = 64;

/**
 * `blocks` without what falls outside the window (older than `windowSeconds` before the newest
 * block) or beyond the newest `limit` hashes (the oldest block is cut on a hash boundary), with
 * at most MAX_HASH_BLOCKS blocks.
 */
export function trimBlocks(blocks: readonly HashBlock[], limit: number, windowSeconds: number): HashBlock[] {
  const newest = Math.max(0, ...blocks.map((b) => b.at));
  const kept: HashBlock[] = [];
  let room = limit * EVENT_HASH_BYTES;
  for (let i = blocks.length - 1; i >= 0 && room > 0; i--) {
    const block = blocks[i] as HashBlock;
    if (block.at < newest - windowSeconds) break;
    if (block.h.length === 0) continue;
    const h = block.h.length <= room ? block.h : block.h.subarray(block.h.length - room);
    room -= h.length;
    kept.push({ at: block.at, h });
  }
  kept.reverse();
  while (kept.length > MAX_HASH_BLOCKS) {
    const [first, second] = kept.splice(0, 2) as [HashBlock, HashBlock];
    kept.unshift({ at: second.at, h: new Uint8Array(Buffer.concat([first.h, second.h])) });
  }
  return kept;
}

function blocksOf(value: unknown): HashBlock[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (b): b is HashBlock => typeof b === 'object' && b !== null && b.h instanceof Uint8Array,
  );
}

export class WatermarkStore {
  constructor(
    private readonly options: {
      db: Pick<DynamoDBDocumentClient, 'send'>;
      tableName: string;
      now?: () => number;
    },
  ) {}

  async read(pk: string): Promise<Watermark> {
    const { db, tableName } = this.options;
    const out = await db.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }));
    if (!out.Item) return NO_WATERMARK;
    return {
      lastSequenceNumber: String(out.Item.lastSequenceNumber),
      version: Number(out.Item.version),
      // Items written before the hashes were binary have `recentEventIds`: those are dropped; the
      // sequence watermark alone still stops re-deliveries.
      recent: blocksOf(out.Item.recentEventHashes),
    };
  }

  /**
   * Moves the watermark to `sequenceNumber` if it is still at `expected.version`, remembering
   * `recent` (already trimmed by the caller); returns the new watermark. Throws
   * ConcurrentUpdateError when another writer moved it first.
   */
  async advance(
    pk: string,
    sequenceNumber: string,
    expected: Watermark,
    recent: HashBlock[] = expected.recent,
  ): Promise<Watermark> {
    const { db, tableName } = this.options;
    const version = expected.version + 1;
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk,
            lastSequenceNumber: sequenceNumber,
            version,
            recentEventHashes: recent,
            updatedAt: (this.options.now ?? Date.now)(),
          },
          ConditionExpression: expected.version === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
          ExpressionAttributeValues: expected.version === 0 ? undefined : { ':expected': expected.version },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err))
        throw new ConcurrentUpdateError(`${tableName}/${pk}`, { cause: err });
      throw err;
    }
    return { lastSequenceNumber: sequenceNumber, version, recent };
  }
}
