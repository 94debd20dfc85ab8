/**
 * The closed-session TTL counts from max(last activity, processing time), so a back-filled history
 * lives its full TTL instead of being written already expired (see the session-updater README).
 */
import type { Session } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, closedSessionExpiry, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, anEvent, MINUTE, recordsFor, T0 } from '../../helpers/records.js';

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
const TTL_DAYS = 90;

const session = (lastActivity: number): Session => ({
  sessionId: 'e-1',
  firstActivity: lastActivity - MINUTE,
  lastActivity,
  lateEvents: 0,
  eventCount: 2,
  pageViews: 2,
  productViews: 0,
  addToCarts: 0,
  purchases: 0,
  spent: {},
});

describe('closedSessionExpiry', () => {
  it('counts from the last activity when the session is live (last activity at or after processing)', () => {
    expect(closedSessionExpiry(session(T0 + 2_000), T0, TTL_DAYS)).toBe(
      Math.floor((T0 + 2_000) / 1000) + TTL_DAYS * DAY_S,
    );
  });

  it('counts from processing time for a back-fill, so the item is never written already expired', () => {
    const now = T0 + 365 * DAY_MS;
    const expiry = closedSessionExpiry(session(T0), now, TTL_DAYS);
    expect(expiry).toBe(Math.floor(now / 1000) + TTL_DAYS * DAY_S);
    expect(expiry).toBeGreaterThan(now / 1000);
  });
});

describe('a back-filled history in the sessions table', () => {
  it('keeps every closed session for the full TTL after it is written, and sessionCount counts them all', async () => {
    const dynamo = new FakeDynamo({ sessions: ['userId', 'sk'] });
    const processedAt = T0 + 200 * DAY_MS; // the history arrives 200 days after it happened
    const store = new SessionStore({
      db: dynamo.asClient(),
      tableName: 'sessions',
      closedSessionTtlDays: TTL_DAYS,
      now: () => processedAt,
      sleep: async () => {},
    });
    const events = [0, 1, 2, 3].map((day) => anEvent({ userId: 'u', timestamp: T0 + day * DAY_MS }));
    await updateSessions(aKinesisEvent(recordsFor(events)), {
      store,
      sqs: new FakeSqs().asClient(),
      invalidRecordsQueueUrl: 'invalid-q',
      functionName: 'session-updater',
      rules: { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 100 },
      logger: silentLogger,
    });

    const items = dynamo.items('sessions');
    const closed = items.filter((item) => item.sk !== CURRENT_SK);
    expect(closed).toHaveLength(3);
    for (const item of closed) expect(item.expiresAt).toBe(Math.floor(processedAt / 1000) + TTL_DAYS * DAY_S);
    const current = items.find((item) => item.sk === CURRENT_SK);
    // Sessions ever opened: the three closed ones and the open one.
    expect(current).toMatchObject({ sessionCount: 4 });
  });
});
