/**
 * Property: whatever the delivery (arbitrary batch splits, partial failures, function errors with
 * bisection, lost responses and re-deliveries, running out of time, a reshard whose child shards
 * number their records below the parents'), the sessions table ends up equal to a plain
 * reference model applied once to the unique valid events, in stream order per user.
 *
 * With the failure layer: transient faults (throttles, lost responses, SQS down, ledger writes
 * failing) only make the shard wait; a poison user whose writes fail deterministically until a
 * "fix" is set aside, its later records (also on child shards after the reshard) are held, and
 * after the fix the re-drive applies them in order: nothing lost, nothing applied twice.
 */
import fc from 'fast-check';
import { sessionRedriveTarget } from '../../../services/session-updater/redrive.js';
import type { SessionRules } from '../../../services/session-updater/sessions.js';
import { CURRENT_SK, SessionStore } from '../../../services/session-updater/store.js';
import { updateSessions } from '../../../services/session-updater/updater.js';
import type { PulseEvent } from '../../../services/shared/event.js';
import { FailureLedger } from '../../../services/shared/failure/ledger.js';
import { redrive } from '../../../services/shared/failure/redrive.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { ConditionalCheckFailed, FakeDynamo } from '../../helpers/fake-dynamo.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aKinesisEvent, MINUTE } from '../../helpers/records.js';
import { deliver, modelAncestors, modelSource, prng, streams } from '../../helpers/stream-model.js';

const TABLE = 'sessions';
const LEDGER = 'ledger';
const RULES: SessionRules = { timeoutMs: 30 * MINUTE, recentProductsLimit: 4, recentEventIdsLimit: 200 };
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

interface Counts {
  eventCount: number;
  pageViews: number;
  productViews: number;
  addToCarts: number;
  purchases: number;
  /** Micro-units per currency, as decimal strings (shared/money.ts). */
  spent: Record<string, string>;
}
interface RefSession extends Counts {
  sessionId: string;
  firstActivity: number;
  lastActivity: number;
  lateEvents: number;
}
interface RefUser {
  open?: RefSession;
  closed: RefSession[];
  totals: Counts;
  sessionCount: number;
  recentProducts: string[];
}

const zero = (): Counts => ({
  eventCount: 0,
  pageViews: 0,
  productViews: 0,
  addToCarts: 0,
  purchases: 0,
  spent: {},
});

function add(c: Counts, e: PulseEvent): void {
  c.eventCount += 1;
  if (e.eventType === 'page_view') c.pageViews += 1;
  if (e.eventType === 'product_view') c.productViews += 1;
  if (e.eventType === 'add_to_cart') c.addToCarts += 1;
  if (e.eventType === 'purchase') {
    c.purchases += 1;
    const currency = e.data.currency as string;
    const micros = BigInt(e.data.amount as number) * 1_000_000n; // whole amounts in the generator
    c.spent = { ...c.spent, [currency]: String(BigInt(c.spent[currency] ?? '0') + micros) };
  }
}

/** The session rules of docs/event.md, applied once per unique event in stream order. */
function reference(events: readonly PulseEvent[]): Map<string, RefUser> {
  const users = new Map<string, RefUser>();
  for (const e of events) {
    let u = users.get(e.userId);
    if (!u) {
      u = { closed: [], totals: zero(), sessionCount: 0, recentProducts: [] };
      users.set(e.userId, u);
    }
    if (!u.open || e.timestamp - u.open.lastActivity > RULES.timeoutMs) {
      if (u.open) u.closed.push(u.open);
      u.open = {
        ...zero(),
        sessionId: e.eventId,
        firstActivity: e.timestamp,
        lastActivity: e.timestamp,
        lateEvents: 0,
      };
      u.sessionCount += 1;
    } else if (e.timestamp < u.open.lastActivity) {
      u.open.lateEvents += 1;
      u.open.firstActivity = Math.min(u.open.firstActivity, e.timestamp);
    } else {
      u.open.lastActivity = e.timestamp;
    }
    add(u.open, e);
    add(u.totals, e);
    if (e.eventType === 'product_view') {
      const p = String(e.data.productId);
      u.recentProducts = [p, ...u.recentProducts.filter((x) => x !== p)].slice(0, RULES.recentProductsLimit);
    }
  }
  return users;
}

const session = (item: Record<string, unknown>): RefSession => ({
  sessionId: item.sessionId as string,
  firstActivity: item.firstActivity as number,
  lastActivity: item.lastActivity as number,
  lateEvents: item.lateEvents as number,
  ...counts(item),
});
const counts = (item: Record<string, unknown>): Counts => {
  const c = zero();
  c.eventCount = item.eventCount as number;
  c.pageViews = item.pageViews as number;
  c.productViews = item.productViews as number;
  c.addToCarts = item.addToCarts as number;
  c.purchases = item.purchases as number;
  c.spent = item.spent as Record<string, string>;
  return c;
};
const byStart = (a: RefSession, b: RefSession) =>
  a.firstActivity - b.firstActivity || (a.sessionId < b.sessionId ? -1 : 1);

function actual(dynamo: FakeDynamo): Map<string, RefUser> {
  const users = new Map<string, RefUser>();
  const items = dynamo.items(TABLE);
  for (const item of items.filter((i) => i.sk === CURRENT_SK)) {
    users.set(item.userId as string, {
      open: item.session ? session(item.session as Record<string, unknown>) : undefined,
      closed: items
        .filter((i) => i.userId === item.userId && i.sk !== CURRENT_SK)
        .map(session)
        .sort(byStart),
      totals: counts(item.totals as Record<string, unknown>),
      sessionCount: item.sessionCount as number,
      recentProducts: item.recentProducts as string[],
    });
  }
  return users;
}

const throttled = () =>
  Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });

test('sessions equal the reference model over generated streams, reshards and faulty deliveries', async () => {
  let totals = {
    invocations: 0,
    functionErrors: 0,
    partialFailures: 0,
    redeliveries: 0,
    bisects: 0,
    setAside: 0,
    redriven: 0,
  };
  await fc.assert(
    fc.asyncProperty(streams, fc.integer(), async (stream, seed) => {
      const rand = prng(seed);
      const dynamo = new FakeDynamo({ [TABLE]: ['userId', 'sk'], [LEDGER]: ['pk', 'sk'] });
      const sqs = new FakeSqs();
      // A write that lands but whose response is lost: the function sees an error.
      let loseNextPutResponse = false;
      const db = {
        send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const out = await dynamo.send(command);
          if (command.constructor.name === 'PutCommand' && loseNextPutResponse) {
            loseNextPutResponse = false;
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
          }
          return out;
        },
      };
      const store = new SessionStore({
        db: db as never,
        tableName: TABLE,
        closedSessionTtlDays: 90,
        sleep: async () => {},
      });
      // A poison user: every write of theirs fails (a bug) until the fix is deployed.
      const poison = rand() < 0.6 ? ['ann', 'bob', 'cyd', 'dee', 'eve'][Math.floor(rand() * 5)] : undefined;
      let broken = true;
      // The fix lands mid-delivery or after it; the re-drive also runs between live batches.
      const fixAfter = Math.floor(rand() * 60);
      let invocations = 0;
      const saveUser = store.saveUser.bind(store);
      store.saveUser = async (state) => {
        if (broken && state.userId === poison) throw new Error('bug: this user cannot be written');
        return saveUser(state);
      };
      const ledger = new FailureLedger({
        db: dynamo.asClient(),
        tableName: LEDGER,
        functionName: 'session-updater',
        parkAfter: 2,
      });
      const deps = {
        store,
        sqs: sqs.asClient(),
        invalidRecordsQueueUrl: 'q',
        functionName: 'session-updater',
        rules: RULES,
        logger: silentLogger,
      };
      const redriveOnce = async () => {
        const report = await redrive({
          ledger,
          source: modelSource(stream.shards, 3),
          target: sessionRedriveTarget(deps),
          logger: silentLogger,
          force: true,
        });
        totals.redriven += report.applied;
      };
      let puts = 0;
      let deadlineAfterPuts = Number.POSITIVE_INFINITY;
      const stats = await deliver(
        stream.shards,
        async (records) => {
          const startPuts = puts;
          invocations += 1;
          if (invocations > fixAfter) broken = false;
          if (rand() < 0.15) await redriveOnce();
          const { response, summary } = await updateSessions(aKinesisEvent(records), {
            ...deps,
            ledger,
            ancestors: modelAncestors(stream.shards),
            deadline: {
              remainingMs: () => (dynamo.count('PutCommand') - startPuts >= deadlineAfterPuts ? 0 : 60_000),
              marginMs: 6_000,
            },
          });
          totals.setAside += summary.setAsideUsers ?? 0;
          // The function dies after its effects: Lambda retries (or bisects) the whole batch.
          if (rand() < 0.04) throw new Error('crashed after the batch took effect');
          return response;
        },
        {
          bisectOnError: true,
          maxBatch: 12,
          rand,
          redeliverChance: 0.1,
          beforeInvoke: () => {
            puts = dynamo.count('PutCommand');
            deadlineAfterPuts = rand() < 0.1 ? Math.floor(rand() * 3) : Number.POSITIVE_INFINITY;
            const r = rand();
            if (r < 0.12) dynamo.failNext('PutCommand', throttled());
            else if (r < 0.17) dynamo.failNext('PutCommand', new ConditionalCheckFailed());
            else if (r < 0.22) dynamo.failNext('BatchGetCommand', throttled());
            else if (r < 0.26) dynamo.failNext('BatchWriteCommand', throttled());
            else if (r < 0.31) loseNextPutResponse = true;
            else if (r < 0.35) sqs.failNextRequest = new Error('SQS unavailable');
          },
        },
      );
      // The fix is deployed; the scheduled re-drive runs (a transient fault may cut a run short).
      broken = false;
      // DynamoDB recovers: faults armed for batches that never came are dropped.
      dynamo.log.clearFaults();
      loseNextPutResponse = false;
      sqs.failNextRequest = undefined;
      for (let run = 0; run < 4 && (await ledger.all()).length > 0; run++) {
        if (run === 0 && rand() < 0.3) dynamo.failNext('PutCommand', throttled());
        await redriveOnce();
      }
      expect(await ledger.all()).toEqual([]);
      totals = {
        ...totals,
        invocations: totals.invocations + stats.invocations,
        functionErrors: totals.functionErrors + stats.functionErrors,
        partialFailures: totals.partialFailures + stats.partialFailures,
        redeliveries: totals.redeliveries + stats.redeliveries,
        bisects: totals.bisects + stats.bisects,
      };
      const expected = reference(stream.unique);
      for (const u of expected.values()) u.closed.sort(byStart);
      expect(actual(dynamo)).toEqual(expected);
    }),
    { numRuns: RUNS },
  );
  // The generated deliveries really exercise every path.
  expect(Object.values(totals).every((n) => n > 0)).toBe(true);
  console.log(`sessions property: ${RUNS} streams, ${JSON.stringify(totals)}`);
});
