/**
 * Issue 8, item 2: an event dated a year ahead used to move `lastActivity` into the future, so
 * every later event counted as late and no session ever closed. The shared decoder now judges
 * event time against the record's arrival time: that record goes to the invalid-records queue and
 * the user's sessions carry on normally.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { SessionRules } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, anEvent, aRecord, MINUTE, T0 } from '../../helpers/records.js';

const TABLE = 'sessions';
const DAY = 24 * 60 * MINUTE;
const rules: SessionRules = { timeoutMs: 30 * MINUTE, recentProductsLimit: 20, recentEventIdsLimit: 200 };

function setup() {
  const dynamo = new FakeDynamo({ [TABLE]: ['userId', 'sk'] });
  const sqs = new FakeSqs();
  const store = new SessionStore({ db: dynamo.asClient(), tableName: TABLE, closedSessionTtlDays: 90 });
  const run = (records: KinesisStreamRecord[]) =>
    updateSessions(aKinesisEvent(records), {
      store,
      sqs: sqs.asClient(),
      invalidRecordsQueueUrl: 'invalid-q',
      functionName: 'session-updater',
      rules,
      logger: silentLogger,
    });
  return { dynamo, sqs, run };
}

describe('session-updater: an event dated far ahead of its arrival', () => {
  it('goes to the invalid-records queue, and a week of daily activity after it closes sessions normally', async () => {
    const { dynamo, sqs, run } = setup();
    const future = aRecord(anEvent({ userId: 'u1', timestamp: T0 + 365 * DAY }), { arrivalMs: T0 });
    const first = await run([future]);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.summary).toMatchObject({ invalid: 1, applied: 0 });
    expect(sqs.messages).toHaveLength(1);
    expect(sqs.messages[0]?.body).toMatchObject({
      sequenceNumber: future.kinesis.sequenceNumber,
      reason: "timestamp is 31536000 s ahead of the record's arrival time; the tolerance is 300 s",
    });

    for (let day = 1; day <= 7; day += 1) {
      const { response } = await run([aRecord(anEvent({ userId: 'u1', timestamp: T0 + day * DAY }))]);
      expect(response.batchItemFailures).toEqual([]);
    }
    const items = dynamo.items(TABLE);
    const current = items.find((item) => item.sk === CURRENT_SK);
    const closed = items.filter((item) => item.sk !== CURRENT_SK);
    expect(closed).toHaveLength(6);
    expect(closed.every((session) => session.eventCount === 1 && session.lateEvents === 0)).toBe(true);
    expect(current).toMatchObject({ session: { eventCount: 1, lateEvents: 0, lastActivity: T0 + 7 * DAY } });
  });
});
