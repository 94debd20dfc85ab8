/**
 * A producer sending random event types cannot create custom metrics: only the environment's
 * EVENT_TYPES allow-list gets EventType values of its own, everything else counts as `other`.
 */
import fc from 'fast-check';
import { eventTypeAllowList, loadConfig } from '../../../services/metrics-emitter/config.js';
import { emitBatchMetrics } from '../../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { OTHER_EVENT_TYPE } from '../../../services/metrics-emitter/windows.js';
import { ConfigError } from '../../../services/shared/errors.js';
import { KNOWN_EVENT_TYPES } from '../../../services/shared/event.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { aKinesisEvent, anEvent, aRecord, MINUTE, T0 } from '../../helpers/records.js';
import { FakeCloudWatch } from './fake-cloudwatch.js';

const TABLE = 'watermarks';
const BASE = { WATERMARKS_TABLE: TABLE, ENVIRONMENT: 'test' };

function eventTypeValues(cloudwatch: FakeCloudWatch): Set<string> {
  const values = new Set<string>();
  for (const request of cloudwatch.requests)
    for (const datum of request.MetricData ?? [])
      for (const d of datum.Dimensions ?? []) if (d.Name === 'EventType') values.add(d.Value as string);
  return values;
}

describe('EventType allow-list (EVENT_TYPES)', () => {
  it('bounds the EventType values over many batches of random types to the allow-list plus other', async () => {
    const config = loadConfig({ ...BASE, EVENT_TYPES: 'page_view,purchase,signup' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.stringMatching(/^[a-z_]{1,12}$/), { minLength: 1, maxLength: 60 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (batches) => {
          const cloudwatch = new FakeCloudWatch();
          const dynamo = new FakeDynamo({ [TABLE]: ['pk'] });
          let sent = 0;
          const emitted = new Set<string>();
          for (const [b, types] of batches.entries()) {
            const records = types.map((eventType, i) =>
              aRecord(anEvent({ eventType, userId: `u${i}`, timestamp: T0 + b * 1000 + i })),
            );
            const { response } = await emitBatchMetrics(aKinesisEvent(records), {
              cloudwatch,
              watermarks: new WatermarkStore({
                db: dynamo.asClient(),
                tableName: TABLE,
                now: () => T0 + MINUTE,
              }),
              namespace: 'Pulse',
              environment: 'test',
              functionName: 'metrics-emitter',
              maxEventTypes: config.maxEventTypes,
              eventTypes: config.eventTypes,
              recentEventIdsLimit: 5000,
              duplicateWindowSeconds: 120,
              logger: silentLogger,
              now: () => T0 + MINUTE,
            });
            expect(response.batchItemFailures).toEqual([]);
            sent += types.length;
            for (const t of types) emitted.add(config.eventTypes.has(t) ? t : OTHER_EVENT_TYPE);
          }
          const values = eventTypeValues(cloudwatch);
          expect(values).toEqual(emitted);
          expect([...values].every((v) => v === OTHER_EVENT_TYPE || config.eventTypes.has(v))).toBe(true);
          // Nothing is lost: every event is counted under its type or `other`.
          expect(cloudwatch.total('Events', { Environment: 'test' })).toBe(sent);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('defaults to the four known types; rejects an unusable, reserved or too long list at cold start', () => {
    expect([...loadConfig(BASE).eventTypes]).toEqual([...KNOWN_EVENT_TYPES]);
    expect(() => eventTypeAllowList({ EVENT_TYPES: 'page_view,,purchase' }, 50)).toThrow(ConfigError);
    expect(() => eventTypeAllowList({ EVENT_TYPES: 'page_view,other' }, 50)).toThrow(/"other"/);
    expect(() => eventTypeAllowList({ EVENT_TYPES: 'caf\u00e9' }, 50)).toThrow(/EVENT_TYPES/);
    expect(() => eventTypeAllowList({ EVENT_TYPES: 'a,b,c' }, 2)).toThrow(/more than MAX_EVENT_TYPES=2/);
  });
});
