/**
 * Items written before watermarks were per shard carry one `lastSequenceNumber` of an unknown
 * shard. Letting it stand in for shards without a watermark of their own (as the review found
 * services/shared/idempotency.ts did) brings back the cross-shard comparison issue 8 item 7
 * removed: for a user whose item is still legacy when the stream reshards (on-demand streams do
 * so by themselves), every record of the child shard numbered below the parent's watermark was
 * dropped as a re-delivery, and since nothing "changed" the legacy watermark was never dropped.
 */
import { firstDeliveries, idempotencyFromItem } from '../../../services/shared/idempotency.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { anEvent, aRecord } from '../../helpers/records.js';

describe('legacy single watermark after a reshard', () => {
  it('applies a child shard’s first records even when their numbers are below the legacy watermark', () => {
    const state = idempotencyFromItem({
      userId: 'user-1',
      lastSequenceNumber: '49650000000000000000000000000000000000000000999999999999',
      recentEventIds: ['old-1', 'old-2'],
    });
    const { valid } = decodeBatch([
      aRecord(anEvent(), {
        shardId: 'shardId-000000000004',
        sequenceNumber: '49640000000000000000000000000000000000000000000000000001',
      }),
      aRecord(anEvent(), {
        shardId: 'shardId-000000000004',
        sequenceNumber: '49640000000000000000000000000000000000000000000000000002',
      }),
    ]);
    const result = firstDeliveries(state, valid, 200);
    expect(result.fresh).toHaveLength(2);
  });
});
