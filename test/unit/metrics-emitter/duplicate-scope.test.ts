/**
 * metrics-emitter drops producer duplicates per shard by hash; eventIds are unique per user only,
 * so the hash covers the user too. Otherwise two users' events sharing an eventId on one shard
 * would count once here while session-updater counts both.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { type EmitterDeps, emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, aPurchase, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import { FakeCloudWatch } from './fake-cloudwatch.js';

function setup() {
  const dynamo = new FakeDynamo({ watermarks: ['pk'] });
  const cloudwatch = new FakeCloudWatch();
  const now = T0 + 2 * MINUTE;
  const deps: EmitterDeps = {
    cloudwatch,
    watermarks: new WatermarkStore({ db: dynamo.asClient(), tableName: 'watermarks', now: () => now }),
    namespace: 'Pulse',
    environment: 'test',
    functionName: 'fn',
    maxEventTypes: 50,
    recentEventIdsLimit: 5000,
    duplicateWindowSeconds: 120,
    logger: silentLogger,
    now: () => now,
  };
  return { cloudwatch, deps };
}

describe('producer duplicates are per user', () => {
  it('two users’ purchases with the same eventId on one shard are both counted', async () => {
    const { cloudwatch, deps } = setup();
    const records: KinesisStreamRecord[] = [
      aRecord(aPurchase({ userId: 'u-a', eventId: 'same', amount: 10, timestamp: T0 })),
      aRecord(aPurchase({ userId: 'u-b', eventId: 'same', amount: 20, timestamp: T0 + 1 })),
    ];
    await emitBatchMetrics(aKinesisEvent(records), deps);
    expect(cloudwatch.total('Purchases', { Environment: 'test' })).toBe(2);
  });

  it('one user’s retried event (same eventId, new record) still counts once', async () => {
    const { cloudwatch, deps } = setup();
    const event = aPurchase({ userId: 'u-a', eventId: 'same', amount: 10, timestamp: T0 });
    await emitBatchMetrics(aKinesisEvent([aRecord(event), aRecord(event)]), deps);
    expect(cloudwatch.total('Purchases', { Environment: 'test' })).toBe(1);
  });
});
