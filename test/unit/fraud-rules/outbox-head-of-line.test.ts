/**
 * One alert SNS refuses for itself (a client fault about that message, e.g. InvalidParameter)
 * must not block the alerts behind it: neither in the sweep, which reads PENDING alerts oldest
 * first, nor in the batch. Its refusals are counted on the item and, at the limit, it is parked
 * as FAILED (out of the pending index) with an error log naming it. Systemic errors still stop.
 */
import { MAX_PUBLISH_REJECTIONS } from '../../../services/fraud-rules/alerts.js';
import { republishPending } from '../../../services/fraud-rules/outbox.js';
import type { Logger } from '../../../services/shared/logger.js';
import { awsError } from '../../helpers/fake-dynamo.js';
import { aPurchase, aRecord } from '../../helpers/records.js';
import { harness, LEASE_MS, onlyRules } from './support.js';

const rules = onlyRules({ largePurchase: { threshold: 1000 } });
const isPoisonPublish = (input: Record<string, unknown>) => String(input.Message).includes('user-poison');

function refusedForItself(): Error {
  const err = awsError('InvalidParameterException', 'Invalid parameter: Message');
  (err as { $fault?: string }).$fault = 'client';
  return err;
}

function recordingLogger() {
  const lines: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      lines.push({ level, message, context });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('outbox: an alert SNS refuses for itself does not block the others', () => {
  it('one alert SNS refuses permanently does not stop the other PENDING alerts from being delivered', async () => {
    const h = harness(rules);
    // SNS refuses, forever, the message of one user's alert (and only that one).
    h.log.fail((call) => call.kind === 'Publish' && isPoisonPublish(call.input), refusedForItself, {
      times: Number.MAX_SAFE_INTEGER,
    });
    // The poison alert is raised first, so it is the oldest PENDING alert.
    await h.run([aRecord(aPurchase({ userId: 'user-poison', amount: 5000 }))]);
    // Ten more alerts, raised a second later each, while SNS is down for everyone.
    h.log.fail(
      (call) => call.kind === 'Publish' && !isPoisonPublish(call.input),
      () => awsError('InternalError'),
      { times: 10 },
    );
    for (let i = 0; i < 10; i++) {
      h.clock.now += 1_000;
      await h.run([aRecord(aPurchase({ userId: `user-${i}`, amount: 5000 }))]);
    }
    // SNS recovers for everyone but the poison alert; the sweep runs every 5 minutes for an hour.
    h.clock.now += LEASE_MS + 1_000;
    for (let run = 0; run < 12; run++) {
      await h.sweep();
      h.clock.now += 5 * 60_000;
    }
    const delivered = h.publishedIds().filter((id) => !id.includes('user-poison'));
    expect(delivered).toHaveLength(10);
  });

  it('in the batch path too, one refused alert leaves every later user of the batch their delivery', async () => {
    const h = harness(rules);
    h.log.fail((call) => call.kind === 'Publish' && isPoisonPublish(call.input), refusedForItself, {
      times: Number.MAX_SAFE_INTEGER,
    });
    const { summary } = await h.run([
      aRecord(aPurchase({ userId: 'user-poison', amount: 5000 })),
      ...Array.from({ length: 40 }, (_, i) => aRecord(aPurchase({ userId: `user-${i}`, amount: 5000 }))),
    ]);
    // SNS is healthy for these 40 alerts; the batch publishes them.
    expect(summary.alertsPublished).toBe(40);
    expect(summary).toMatchObject({ alertsPending: 1, alertsRejected: 1, alertsFailed: 0 });
  });

  it(`counts the refusals on the item and parks the alert as FAILED after ${MAX_PUBLISH_REJECTIONS}, with an error log naming it`, async () => {
    const h = harness(rules);
    h.log.fail((call) => call.kind === 'Publish', refusedForItself, { times: Number.MAX_SAFE_INTEGER });
    const p = aPurchase({ userId: 'user-poison', amount: 5000 });
    await h.run([aRecord(p)]);
    const id = `largePurchase#user-poison#${p.eventId}`;
    expect(h.alertItem(id)).toMatchObject({ status: 'PENDING', outbox: 'PENDING', publishAttempts: 1 });
    expect(h.alertItem(id)?.lastError).toBe('InvalidParameterException: Invalid parameter: Message');
    expect(h.alertItem(id)?.claimId).toBeUndefined(); // released: the next sweep retries it

    const { logger, lines } = recordingLogger();
    const sweeps = [];
    for (let run = 1; run < MAX_PUBLISH_REJECTIONS; run++) {
      h.clock.now += LEASE_MS + 1_000;
      sweeps.push(await republishPending(h.alerts, { logger }));
    }
    expect(sweeps.map((s) => [s.rejected, s.parked, s.snsFailing])).toEqual([
      ...Array.from({ length: MAX_PUBLISH_REJECTIONS - 2 }, () => [1, 0, false]),
      [0, 1, false],
    ]);
    const item = h.alertItem(id);
    expect(item).toMatchObject({ status: 'FAILED', publishAttempts: MAX_PUBLISH_REJECTIONS });
    expect(item?.outbox).toBeUndefined(); // out of the pending index
    expect(item?.failedAt).toEqual(expect.any(String));
    const parked = lines.filter((l) => l.level === 'error');
    expect(parked).toHaveLength(1);
    expect(parked[0]?.context).toMatchObject({ alertId: id, attempts: MAX_PUBLISH_REJECTIONS });
    expect(String((parked[0]?.context?.error as Error | undefined)?.cause)).toContain(
      'InvalidParameterException',
    );

    // Parked: the sweep no longer sees it, and a re-delivery of the purchase does not retry it.
    h.clock.now += LEASE_MS + 1_000;
    expect(await h.sweep()).toMatchObject({ found: 0 });
    const again = await h.run([aRecord(p)]);
    expect(again.summary).toMatchObject({ alertsPublished: 0, alertsPending: 0 });
  });

  it.each([
    ['throttling', () => awsError('ThrottledException', 'Rate exceeded')],
    ['a server fault', () => Object.assign(awsError('InternalErrorException'), { $fault: 'server' })],
    ['a timeout (no $fault)', () => awsError('TimeoutError', 'socket hang up')],
    [
      'a missing topic',
      () => Object.assign(awsError('NotFoundException', 'Topic does not exist'), { $fault: 'client' }),
    ],
    ['authorization', () => Object.assign(awsError('AuthorizationErrorException'), { $fault: 'client' })],
    ['KMS', () => Object.assign(awsError('KMSAccessDeniedException'), { $fault: 'client' })],
    [
      'an invalid topic ARN',
      () =>
        Object.assign(awsError('InvalidParameterException', 'Invalid parameter: TopicArn'), {
          $fault: 'client',
        }),
    ],
  ])('%s is systemic: the sweep stops and the alert keeps no refusal count', async (_, error) => {
    const h = harness(rules);
    h.log.fail((call) => call.kind === 'Publish', error, { times: Number.MAX_SAFE_INTEGER });
    const p = aPurchase({ userId: 'u1', amount: 5000 });
    await h.run([aRecord(p), aRecord(aPurchase({ userId: 'u2', amount: 5000 }))]);
    h.clock.now += LEASE_MS + 1_000;
    const summary = await h.sweep();
    expect(summary).toMatchObject({ found: 1, failed: 1, rejected: 0, parked: 0, snsFailing: true });
    expect(h.alertItem(`largePurchase#u1#${p.eventId}`)?.publishAttempts).toBeUndefined();
  });
});
