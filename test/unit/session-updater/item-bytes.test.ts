/**
 * Session items are bounded by bytes: the cold-start check computes the worst case the settings
 * allow (so the store writes without a size check). Ids are MAX_ID_BYTES long in 4-byte
 * characters. At the default settings a typical user's item is one write unit.
 */
import { checkItemBudget, loadConfig, worstCaseItemBytes } from '../../../services/session-updater/config.js';
import type { SessionRules } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { writeUnits } from '../../../services/shared/capacity.js';
import { ConfigError } from '../../../services/shared/errors.js';
import { MAX_ID_BYTES } from '../../../services/shared/event.js';
import { EVENT_HASH_BYTES } from '../../../services/shared/idempotency.js';
import { ITEM_BYTE_BUDGET, itemBytes, widestId } from '../../../services/shared/item-size.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, aProductView, aPurchase, MINUTE, recordsFor, T0 } from '../../helpers/records.js';

const MAXIMA: SessionRules = {
  timeoutMs: 30 * MINUTE,
  recentProductsLimit: 100,
  recentEventIdsLimit: 1_000,
  duplicateWindowSeconds: 3_600,
};
/** A distinct id of exactly MAX_ID_BYTES bytes, mostly 4-byte characters. */
const longId = (tag: string, i: number) => `${widestId(MAX_ID_BYTES - 8)}${tag}${String(i).padStart(7, '0')}`;

describe('session item bytes', () => {
  it('the worst case at the allowed maxima fits the budget, so the cold start accepts them', () => {
    const worst = worstCaseItemBytes(MAXIMA);
    expect(worst).toBeLessThan(ITEM_BYTE_BUDGET);
    expect(() => checkItemBudget(MAXIMA)).not.toThrow();
    console.log(
      `session CURRENT item, worst case at the maxima with ${MAX_ID_BYTES}-byte ids: ${worst} bytes`,
    );
  });

  it('fails the cold start naming the settings when they allow an item above the budget', () => {
    expect(() => checkItemBudget(MAXIMA, 20_000)).toThrow(ConfigError);
    expect(() => checkItemBudget(MAXIMA, 20_000)).toThrow(
      /RECENT_PRODUCTS_LIMIT=100 and RECENT_EVENT_IDS_LIMIT=1000 allow a session item of \d+ bytes/,
    );
  });

  it('at the maxima with 128-byte multi-byte ids, the written item stays within the computed worst case', async () => {
    const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'] });
    const store = new SessionStore({
      db: dynamo.asClient(),
      tableName: 'sessions',
      closedSessionTtlDays: 90,
    });
    const userId = longId('u', 0);
    const events = Array.from({ length: 1_200 }, (_, i) =>
      aProductView(longId('p', i), { userId, eventId: longId('e', i), timestamp: T0 + i * 1000 }),
    );
    const deps = {
      store,
      sqs: new FakeSqs().asClient(),
      invalidRecordsQueueUrl: 'q',
      functionName: 'session-updater',
      rules: MAXIMA,
      logger: silentLogger,
    };
    await updateSessions(aKinesisEvent(recordsFor(events, { shardId: 's'.repeat(128) })), deps);
    const item = dynamo.get('sessions', { userId, sk: CURRENT_SK }) as Record<string, unknown>;
    expect(item.recentProducts).toHaveLength(100);
    expect(item.recentEventHashes).toHaveLength(1_000 * EVENT_HASH_BYTES);
    expect(itemBytes(item)).toBeLessThanOrEqual(worstCaseItemBytes(MAXIMA));
    expect(itemBytes(item)).toBeLessThan(ITEM_BYTE_BUDGET);
    console.log(`session CURRENT item written at the maxima: ${itemBytes(item)} bytes`);
  });

  it('at the default settings a busy user with a full history writes one unit (under 1 KB)', async () => {
    const { rules } = loadConfig({ SESSIONS_TABLE: 'sessions', INVALID_RECORDS_QUEUE_URL: 'q' });
    const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'] });
    const store = new SessionStore({
      db: dynamo.asClient(),
      tableName: 'sessions',
      closedSessionTtlDays: 90,
    });
    const userId = 'user-00000042';
    // Many products viewed and a purchase, all inside one duplicate window: every list is full.
    const events = [
      ...Array.from({ length: 60 }, (_, i) =>
        aProductView(`sku-${String(i).padStart(8, '0')}`, {
          userId,
          eventId: `evt-${String(i).padStart(30, '0')}`,
          timestamp: T0 + i * 1000,
        }),
      ),
      aPurchase({
        userId,
        amount: 123.45,
        eventId: 'evt-purchase-000000000000000000000',
        timestamp: T0 + 61_000,
      }),
    ];
    const deps = {
      store,
      sqs: new FakeSqs().asClient(),
      invalidRecordsQueueUrl: 'q',
      functionName: 'session-updater',
      rules,
      logger: silentLogger,
    };
    await updateSessions(aKinesisEvent(recordsFor(events, { shardId: 'shardId-000000000007' })), deps);
    const item = dynamo.get('sessions', { userId, sk: CURRENT_SK }) as Record<string, unknown>;
    expect(item.recentProducts).toHaveLength(rules.recentProductsLimit);
    expect(item.recentEventHashes).toHaveLength(rules.recentEventIdsLimit * EVENT_HASH_BYTES);
    expect(writeUnits(itemBytes(item))).toBe(1);
    console.log(`session CURRENT item of a busy user at the defaults: ${itemBytes(item)} bytes`);
  });
});
