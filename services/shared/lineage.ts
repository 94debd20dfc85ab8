/**
 * Which shards a shard was split or merged from (ListShards: ParentShardId and, after a merge,
 * AdjacentParentShardId). A child's first watermark starts from its parents' recent hashes, so a
 * producer retry whose first copy went to the parent and whose second lands in the child after a
 * reshard is still recognised. Cached for the life of the execution environment: lineage never
 * changes, and a shard not in the cache is new, which is the only time the list is read again.
 */
import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';

export type ParentShards = (streamArn: string, shardId: string) => Promise<string[]>;

export function shardLineage(kinesis: Pick<KinesisClient, 'send'>): ParentShards {
  const parents = new Map<string, string[]>();
  return async (streamArn, shardId) => {
    const known = parents.get(`${streamArn}|${shardId}`);
    if (known) return known;
    let NextToken: string | undefined;
    do {
      const out = await kinesis.send(
        new ListShardsCommand(NextToken ? { NextToken } : { StreamARN: streamArn }),
      );
      for (const shard of out.Shards ?? []) {
        const ids = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (id): id is string => id !== undefined,
        );
        parents.set(`${streamArn}|${shard.ShardId}`, ids);
      }
      NextToken = out.NextToken;
    } while (NextToken);
    return parents.get(`${streamArn}|${shardId}`) ?? [];
  };
}
