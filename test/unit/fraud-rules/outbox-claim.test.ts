/**
 * The outbox publishes and marks SENT only while it holds the claim (issue 15, defects 7 and 8):
 * each branch of `AlertLog.deliver` and `claim`, with fake clocks. The wall clock (`now`) of every
 * deliverer here may be minutes off; only each one's monotonic clock judges a lease.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  AlertLog,
  ClaimLostError,
  MARK_SENT_RESERVE_MS,
  PUBLISH_BUDGET_MS,
  PublishFailedError,
  TAKEOVER_MARGIN_MS,
} from '../../../services/fraud-rules/alerts.js';
import {
  isRepublishRequest,
  REPUBLISH_INPUT,
  RepublishRequestError,
  requestLimits,
} from '../../../services/fraud-rules/outbox.js';
import type { Alert } from '../../../services/fraud-rules/rules.js';
import { snsClientConfig } from '../../../services/shared/clients.js';
import { type Call, CallLog, FakeDynamo, FakeSns } from '../../helpers/fake-dynamo.js';
import { ALERTS_TABLE, LEASE_MS, NOW, TOPIC_ARN } from './support.js';

const MINUTE = 60_000;
const TAKEOVER_MS = LEASE_MS + TAKEOVER_MARGIN_MS;

const alert = {
  alertId: 'largePurchase#u-1#e-1',
  rule: 'largePurchase',
  severity: 'high',
  userId: 'u-1',
  eventId: 'e-1',
  orderId: 'o-1',
  amount: 5000,
  currency: 'USD',
  eventTime: NOW,
  shardId: 'shardId-000000000000',
  sequenceNumber: '1',
  reason: 'r',
  threshold: 't',
} as unknown as Alert;

/** Shared tables and topic; each deliverer has its own clocks (wall skewed, monotonic its own). */
function world() {
  const log = new CallLog();
  const db = new FakeDynamo({ [ALERTS_TABLE]: 'alertId' }, log);
  const sns = new FakeSns(log);
  const deliverer = (
    o: { skewMs?: number; sns?: { send: FakeSns['send'] }; abortAfter?: (ms: number) => AbortSignal } = {},
  ) => {
    const clock = { mono: 1_000_000 + Math.floor(Math.random() * 1e6) };
    const alerts = new AlertLog({
      db,
      sns: o.sns ?? sns,
      tableName: ALERTS_TABLE,
      topicArn: TOPIC_ARN,
      environment: 'test',
      ttlDays: 30,
      cooldownMinutes: 15,
      leaseMs: LEASE_MS,
      now: () => NOW + (o.skewMs ?? 0) + clock.mono,
      monotonic: () => clock.mono,
      abortAfter: o.abortAfter,
    });
    /** Real time passes for this deliverer. */
    const pass = (ms: number) => {
      clock.mono += ms;
    };
    return { alerts, clock, pass };
  };
  const item = () => db.item(ALERTS_TABLE, alert.alertId);
  return { log, db, sns, deliverer, item };
}

const isMark = (c: Call) =>
  c.kind === 'Update' && String(c.input.UpdateExpression).includes('#status = :sent');

describe('deliver: claim, publish and mark SENT within the lease', () => {
  it('publishes once and marks SENT on the condition that its claim id is still there', async () => {
    const w = world();
    const a = w.deliverer();
    await a.alerts.record(alert);
    await expect(a.alerts.deliver(alert)).resolves.toBe('published');
    expect(w.sns.published).toHaveLength(1);
    const mark = w.log.calls.find(isMark);
    expect(mark?.input.ConditionExpression).toBe('claimId = :claim');
    expect(w.item()).toMatchObject({ status: 'SENT', messageId: 'msg-1' });
    for (const key of ['outbox', 'claimId', 'claimedAt', 'leaseMs', 'leaseUntil'])
      expect(w.item()?.[key]).toBeUndefined();
  });

  it('paused after its claim until a whole Publish no longer fits in the lease: releases it and publishes nothing', async () => {
    const w = world();
    let a: ReturnType<typeof w.deliverer>;
    const db = w.db.asClient();
    // The claim's response arrives late: the holder was paused (GC, a frozen sandbox) since sending it.
    const slow = {
      send: async (command: never) => {
        const out = await db.send(command);
        if (
          (command as { input: { UpdateExpression?: string } }).input.UpdateExpression?.startsWith(
            'SET claimId',
          )
        )
          a.pass(LEASE_MS - MARK_SENT_RESERVE_MS - PUBLISH_BUDGET_MS + 1);
        return out;
      },
    };
    a = w.deliverer();
    const alerts = new AlertLog({ ...a.alerts.options, db: slow as never, monotonic: a.alerts.monotonic });
    await alerts.record(alert);
    await expect(alerts.deliver(alert)).resolves.toBe('skipped');
    expect(w.sns.published).toHaveLength(0);
    expect(w.item()).toMatchObject({ status: 'PENDING', outbox: 'PENDING' });
    expect(w.item()?.claimId).toBeUndefined(); // released: the next sweep takes it at once
  });

  it('with just enough lease left, publishes, and aborts the Publish where the lease (less the mark) ends', async () => {
    const w = world();
    const asked: number[] = [];
    let a: ReturnType<typeof w.deliverer>;
    const db = w.db.asClient();
    const paused = LEASE_MS - MARK_SENT_RESERVE_MS - PUBLISH_BUDGET_MS;
    const slow = {
      send: async (command: never) => {
        const out = await db.send(command);
        if (
          (command as { input: { UpdateExpression?: string } }).input.UpdateExpression?.startsWith(
            'SET claimId',
          )
        )
          a.pass(paused);
        return out;
      },
    };
    a = w.deliverer({
      abortAfter: (ms) => {
        asked.push(ms);
        return new AbortController().signal;
      },
    });
    const alerts = new AlertLog({
      ...a.alerts.options,
      db: slow as never,
      monotonic: a.alerts.monotonic,
    });
    await alerts.record(alert);
    await expect(alerts.deliver(alert)).resolves.toBe('published');
    expect(asked).toStrictEqual([PUBLISH_BUDGET_MS]);
  });

  it('a Publish cut off at the lease end fails as PublishFailedError and releases the claim', async () => {
    const w = world();
    const aborted = new AbortController();
    const hanging = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          );
          aborted.abort();
        }),
    };
    const a = w.deliverer({ sns: hanging as never, abortAfter: () => aborted.signal });
    await a.alerts.record(alert);
    await expect(a.alerts.deliver(alert)).rejects.toBeInstanceOf(PublishFailedError);
    expect(w.item()).toMatchObject({ status: 'PENDING', outbox: 'PENDING' });
    expect(w.item()?.claimId).toBeUndefined();
  });

  it('a mark SENT arriving after another deliverer took the claim over changes nothing and throws ClaimLostError', async () => {
    const w = world();
    const a = w.deliverer();
    const b = w.deliverer();
    await a.alerts.record(alert);
    expect(await a.alerts.claim(alert.alertId, 'claim-a')).toBe(true);
    expect(await b.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    b.pass(TAKEOVER_MS);
    expect(await b.alerts.claim(alert.alertId, 'claim-b')).toBe(true);
    await expect(a.alerts.markSent(alert.alertId, 'claim-a', 'm-a')).rejects.toBeInstanceOf(ClaimLostError);
    expect(w.item()).toMatchObject({ status: 'PENDING', claimId: 'claim-b' });
  });

  it('an SDK retry of a mark SENT that landed finds its own message id and succeeds', async () => {
    const w = world();
    const a = w.deliverer();
    await a.alerts.record(alert);
    expect(await a.alerts.claim(alert.alertId, 'claim-a')).toBe(true);
    await a.alerts.markSent(alert.alertId, 'claim-a', 'm-a');
    await expect(a.alerts.markSent(alert.alertId, 'claim-a', 'm-a')).resolves.toBeUndefined();
    await expect(a.alerts.markSent(alert.alertId, 'claim-a', 'm-other')).rejects.toBeInstanceOf(
      ClaimLostError,
    );
  });
});

describe('claim: no wall clock decides a lease', () => {
  it('a deliverer whose wall clock is minutes fast cannot take a live claim', async () => {
    const w = world();
    const holder = w.deliverer();
    const fast = w.deliverer({ skewMs: 10 * MINUTE });
    await holder.alerts.record(alert);
    expect(await holder.alerts.claim(alert.alertId, 'claim-a')).toBe(true);
    expect(await fast.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    fast.pass(LEASE_MS / 2);
    expect(await fast.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    expect(w.item()?.claimId).toBe('claim-a');
  });

  it('a claim is taken over only one lease (and margin) after the taker itself first saw it', async () => {
    const w = world();
    const holder = w.deliverer();
    const taker = w.deliverer({ skewMs: -10 * MINUTE });
    await holder.alerts.record(alert);
    expect(await holder.alerts.claim(alert.alertId, 'claim-a')).toBe(true);
    holder.pass(10 * LEASE_MS);
    taker.pass(10 * LEASE_MS); // long after the holder's lease, but the taker has never seen the claim
    expect(await taker.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    taker.pass(TAKEOVER_MS - 1);
    expect(await taker.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    taker.pass(1);
    expect(await taker.alerts.claim(alert.alertId, 'claim-b')).toBe(true);
    expect(w.item()?.claimId).toBe('claim-b');
  });

  it('a new holder in between restarts the sighting: the taker waits a lease from when it saw the new claim', async () => {
    const w = world();
    const first = w.deliverer();
    const second = w.deliverer();
    const taker = w.deliverer();
    await first.alerts.record(alert);
    expect(await first.alerts.claim(alert.alertId, 'claim-1')).toBe(true);
    expect(await taker.alerts.claim(alert.alertId, 'claim-t')).toBe(false); // sees claim-1
    expect(await second.alerts.claim(alert.alertId, 'claim-2')).toBe(false); // sees claim-1
    second.pass(TAKEOVER_MS);
    taker.pass(TAKEOVER_MS / 2);
    expect(await second.alerts.claim(alert.alertId, 'claim-2')).toBe(true);
    taker.pass(TAKEOVER_MS / 2);
    expect(await taker.alerts.claim(alert.alertId, 'claim-t')).toBe(false); // claim-1 is gone; sees claim-2
    taker.pass(TAKEOVER_MS - 1);
    expect(await taker.alerts.claim(alert.alertId, 'claim-t')).toBe(false);
    taker.pass(1);
    expect(await taker.alerts.claim(alert.alertId, 'claim-t')).toBe(true);
  });

  it('a released claim is free at once, and an SENT alert is never claimed', async () => {
    const w = world();
    const a = w.deliverer();
    const b = w.deliverer();
    await a.alerts.record(alert);
    await a.alerts.claim(alert.alertId, 'claim-a');
    expect(await b.alerts.claim(alert.alertId, 'claim-b')).toBe(false);
    w.db.put(ALERTS_TABLE, { ...w.item(), claimId: undefined });
    expect(await b.alerts.claim(alert.alertId, 'claim-b')).toBe(true);
    await b.alerts.markSent(alert.alertId, 'claim-b', 'm');
    b.pass(10 * TAKEOVER_MS);
    expect(await b.alerts.claim(alert.alertId, 'claim-c')).toBe(false);
    b.pass(10 * TAKEOVER_MS);
    expect(await b.alerts.claim(alert.alertId, 'claim-c')).toBe(false);
  });
});

describe('the republish request', () => {
  it('is the schedule input, optionally with an age and a limit, each checked', () => {
    expect(isRepublishRequest({ ...REPUBLISH_INPUT, minAgeMs: 0 })).toBe(true);
    expect(requestLimits({ ...REPUBLISH_INPUT })).toEqual({});
    expect(requestLimits({ ...REPUBLISH_INPUT, minAgeMs: 0, maxAlerts: 1 })).toEqual({
      minAgeMs: 0,
      maxAlerts: 1,
    });
    expect(() => requestLimits({ ...REPUBLISH_INPUT, minAgeMs: -1 })).toThrow(RepublishRequestError);
    expect(() => requestLimits({ ...REPUBLISH_INPUT, maxAlerts: 0 })).toThrow(
      'maxAlerts must be an integer >= 1, got 0',
    );
    expect(() => requestLimits({ ...REPUBLISH_INPUT, minAgeMs: '5' as never })).toThrow(
      'minAgeMs must be an integer >= 0, got "5"',
    );
    expect(() => requestLimits({ ...REPUBLISH_INPUT, maxAlerts: 1.5 })).toThrow(RepublishRequestError);
  });
});

describe('the SNS client deliverers use', () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  const hanging: Array<() => void> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      hanging.push(() => res.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const end of hanging) end();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('stops a hanging Publish when the lease’s abort signal fires, without another attempt', async () => {
    const sns = new SNSClient({
      ...snsClientConfig,
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const controller = new AbortController();
    const call = sns.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'm' }), {
      abortSignal: controller.signal,
    });
    while (requests === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(requests).toBe(1);
    sns.destroy();
  });
});
