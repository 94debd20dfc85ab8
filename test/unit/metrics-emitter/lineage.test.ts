import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { shardLineage } from '../../../services/shared/lineage.js';

const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/pulse-test-events';

/** ListShards over two pages: two closed parents, a split child of each and a merge of two children. */
function fakeKinesis() {
  const calls: Array<Record<string, unknown>> = [];
  const pages = [
    {
      Shards: [
        { ShardId: 'shardId-000000000000' },
        { ShardId: 'shardId-000000000001' },
        { ShardId: 'shardId-000000000002', ParentShardId: 'shardId-000000000000' },
      ],
      NextToken: 'page-2',
    },
    {
      Shards: [
        { ShardId: 'shardId-000000000003', ParentShardId: 'shardId-000000000001' },
        {
          ShardId: 'shardId-000000000004',
          ParentShardId: 'shardId-000000000002',
          AdjacentParentShardId: 'shardId-000000000003',
        },
      ],
    },
  ];
  const send = async (command: ListShardsCommand) => {
    expect(command).toBeInstanceOf(ListShardsCommand);
    calls.push(command.input as Record<string, unknown>);
    return command.input.NextToken ? pages[1] : pages[0];
  };
  return { kinesis: { send } as never, calls };
}

describe('shardLineage', () => {
  it('names both parents of a merged shard, follows pages, and lists again only for an unknown shard', async () => {
    const { kinesis, calls } = fakeKinesis();
    const parentsOf = shardLineage(kinesis);
    expect(await parentsOf(ARN, 'shardId-000000000004')).toEqual([
      'shardId-000000000002',
      'shardId-000000000003',
    ]);
    expect(await parentsOf(ARN, 'shardId-000000000002')).toEqual(['shardId-000000000000']);
    expect(await parentsOf(ARN, 'shardId-000000000000')).toEqual([]);
    expect(calls).toEqual([{ StreamARN: ARN }, { NextToken: 'page-2' }]);
    // A shard created after the list was read: listed again, then known.
    expect(await parentsOf(ARN, 'shardId-000000000009')).toEqual([]);
    expect(calls).toHaveLength(4);
  });
});
