import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { shardIdOf } from '../../../services/shared/kinesis.js';

// shardIdOf remembers the last few shards it returned; whatever came before, it must split like this.
const reference = (eventID: string) => {
  const colon = eventID.lastIndexOf(':');
  return colon > 0 ? eventID.slice(0, colon) : eventID;
};
const recordWith = (eventID: string) => ({ eventID }) as KinesisStreamRecord;

// Few characters, colons among them, so ids often share a prefix, repeat, or end or start in ':'.
const part = fc.string({ unit: fc.constantFrom('a', 'b', ':', '0'), maxLength: 6 });
const eventIds = fc.array(
  fc.oneof(
    part,
    fc.tuple(part, part).map(([shard, seq]) => `${shard}:${seq}`),
  ),
  { maxLength: 30 },
);

describe('shardIdOf', () => {
  it('splits every eventID at its last colon, whatever ids came before', () => {
    fc.assert(
      fc.property(eventIds, (ids) => {
        for (const id of ids) expect(shardIdOf(recordWith(id))).toBe(reference(id));
      }),
    );
  });

  it('hands back the same shard for a run of records of one shard', () => {
    const ids = ['shardId-000000000001:495903', 'shardId-000000000001:495904', 'shardId-000000000002:1'];
    expect(ids.map((id) => shardIdOf(recordWith(id)))).toEqual([
      'shardId-000000000001',
      'shardId-000000000001',
      'shardId-000000000002',
    ]);
  });
});
