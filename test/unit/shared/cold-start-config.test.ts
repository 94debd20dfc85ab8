/**
 * Configuration the code cannot work with is refused at cold start, naming the variable: a claim
 * lease too short for one Publish, TTLs that push `expiresAt` past a safe integer (every
 * write would fail), integers in notations nobody means (0x10, 1e3).
 */
import type { PublishCommand } from '@aws-sdk/client-sns';
import { AlertLog, MARK_SENT_RESERVE_MS } from '../../../services/fraud-rules/alerts.js';
import {
  loadConfig as loadFraudConfig,
  MIN_ALERT_LEASE_SECONDS,
  PUBLISH_MAX_SECONDS,
} from '../../../services/fraud-rules/config.js';
import fn from '../../../services/fraud-rules/function.json' with { type: 'json' };
import { type Alert, newFraudState } from '../../../services/fraud-rules/rules.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import { loadConfig as loadSessionConfig } from '../../../services/session-updater/config.js';
import { maxCallMs, snsClientConfig } from '../../../services/shared/clients.js';
import { MAX_TTL_DAYS } from '../../../services/shared/config.js';
import { ConfigError } from '../../../services/shared/errors.js';
import { FakeDynamo } from '../../helpers/fake-dynamo.js';

const fraudEnv = (overrides: Record<string, string> = {}) => ({
  FRAUD_STATE_TABLE: 'pulse-dev-fraud-state',
  ALERTS_TABLE: 'pulse-dev-alerts',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:pulse-dev-alerts',
  ENVIRONMENT: 'dev',
  FRAUD_RULES: '{}',
  ...overrides,
});
const sessionEnv = (overrides: Record<string, string> = {}) => ({
  SESSIONS_TABLE: 'pulse-dev-sessions',
  INVALID_RECORDS_QUEUE_URL: 'http://localhost/000000000000/pulse-dev-invalid-records',
  ...overrides,
});

describe('ALERT_LEASE_SECONDS', () => {
  it('is refused at cold start when too short for one Publish and the SENT mark after it', () => {
    expect(() => loadFraudConfig(fraudEnv({ ALERT_LEASE_SECONDS: '1' }))).toThrow(ConfigError);
    expect(() =>
      loadFraudConfig(fraudEnv({ ALERT_LEASE_SECONDS: String(MIN_ALERT_LEASE_SECONDS - 1) })),
    ).toThrow(`ALERT_LEASE_SECONDS must be at least ${MIN_ALERT_LEASE_SECONDS}`);
    expect(
      loadFraudConfig(fraudEnv({ ALERT_LEASE_SECONDS: String(MIN_ALERT_LEASE_SECONDS) })).alertLeaseSeconds,
    ).toBe(MIN_ALERT_LEASE_SECONDS);
  });

  it('is bounded by the SNS client settings, and function.json’s own lease passes', () => {
    expect(PUBLISH_MAX_SECONDS * 1000).toBeGreaterThanOrEqual(maxCallMs(snsClientConfig));
    expect(MIN_ALERT_LEASE_SECONDS * 1000).toBeGreaterThan(maxCallMs(snsClientConfig) + MARK_SENT_RESERVE_MS);
    expect(
      loadFraudConfig(fraudEnv({ ALERT_LEASE_SECONDS: fn.environment.ALERT_LEASE_SECONDS }))
        .alertLeaseSeconds,
    ).toBe(Number(fn.environment.ALERT_LEASE_SECONDS));
  });

  // Adapted from the review: it showed two deliverers publishing together under the 1 s lease the
  // config used to accept. With the smallest lease now accepted, a fresh claim still publishes, and
  // a sweep that comes while the holder's Publish is slow finds the claim held.
  it('with the smallest accepted lease, a fresh claim publishes and a sweep during a slow Publish does not publish again', async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
    const db = new FakeDynamo({ alerts: 'alertId' });
    const published: string[] = [];
    let alerts: AlertLog;
    let nested: Promise<unknown> | undefined;
    const sns = {
      async send(command: PublishCommand) {
        published.push(String(command.input.MessageAttributes?.alertId?.StringValue));
        if (!nested) {
          clock.now += PUBLISH_MAX_SECONDS * 1000;
          nested = alerts.deliver(alert);
          await nested;
        }
        return { MessageId: `m-${published.length}` };
      },
    };
    const config = loadFraudConfig(fraudEnv({ ALERT_LEASE_SECONDS: String(MIN_ALERT_LEASE_SECONDS) }));
    alerts = new AlertLog({
      db,
      sns,
      tableName: 'alerts',
      topicArn: 'arn:aws:sns:us-east-1:000000000000:t',
      environment: 'dev',
      ttlDays: 30,
      cooldownMinutes: 15,
      leaseMs: config.alertLeaseSeconds * 1000,
      now: () => clock.now,
      monotonic: () => clock.now,
    });
    const alert = {
      alertId: 'largePurchase#u-1#e-1',
      rule: 'largePurchase',
      severity: 'high',
      userId: 'u-1',
      eventId: 'e-1',
      orderId: 'o-1',
      amount: 5000,
      currency: 'USD',
      eventTime: clock.now,
      shardId: 'shardId-000000000000',
      sequenceNumber: '1',
      reason: 'r',
      threshold: 't',
    } as unknown as Alert;
    await alerts.record(alert);
    await expect(alerts.deliver(alert)).resolves.toBe('published');
    await expect(nested).resolves.toBe('skipped');
    expect(published).toEqual(['largePurchase#u-1#e-1']);
  });
});

describe('TTL settings that would make every write fail', () => {
  // expiresAt = now/1000 + days * 86400 must stay below 2^53, or the document client refuses it.
  it('STATE_TTL_DAYS=200000000000 is refused at cold start', () => {
    expect(() => loadFraudConfig(fraudEnv({ STATE_TTL_DAYS: '200000000000' }))).toThrow(ConfigError);
  });

  // Adapted from the review: it showed the write failing with the value then accepted; now the
  // largest accepted value writes.
  it(`with the largest accepted STATE_TTL_DAYS (${MAX_TTL_DAYS}) the rule-state write succeeds`, async () => {
    const config = loadFraudConfig(fraudEnv({ STATE_TTL_DAYS: String(MAX_TTL_DAYS) }));
    const store = new FraudStateStore({
      db: new FakeDynamo({ 'fraud-state': 'userId' }),
      tableName: 'fraud-state',
      ttlDays: config.stateTtlDays,
    });
    await expect(store.saveUser(newFraudState('u-1'))).resolves.toBeUndefined();
    expect(() => loadFraudConfig(fraudEnv({ STATE_TTL_DAYS: String(MAX_TTL_DAYS + 1) }))).toThrow(
      `environment variable STATE_TTL_DAYS must be at most ${MAX_TTL_DAYS}`,
    );
  });

  it('CLOSED_SESSION_TTL_DAYS=200000000000 is refused at cold start', () => {
    expect(() => loadSessionConfig(sessionEnv({ CLOSED_SESSION_TTL_DAYS: '200000000000' }))).toThrow(
      ConfigError,
    );
  });

  it('ALERT_TTL_DAYS=200000000000 is refused at cold start', () => {
    expect(() => loadFraudConfig(fraudEnv({ ALERT_TTL_DAYS: '200000000000' }))).toThrow(ConfigError);
  });
});

describe('malformed integers', () => {
  it('RECENT_PRODUCTS_LIMIT=0x10 (hex) is refused as malformed, as MAX_EVENT_AHEAD_SECONDS=0x10 is', () => {
    expect(() => loadSessionConfig(sessionEnv({ MAX_EVENT_AHEAD_SECONDS: '0x10' }))).toThrow(ConfigError);
    expect(() => loadSessionConfig(sessionEnv({ RECENT_PRODUCTS_LIMIT: '0x10' }))).toThrow(ConfigError);
  });

  it.each(['1e3', '0b1', '0o7', '2.0', '+5', '1_000'])('%j is refused as a positive integer', (raw) => {
    expect(() => loadSessionConfig(sessionEnv({ RECENT_PRODUCTS_LIMIT: raw }))).toThrow(
      `environment variable RECENT_PRODUCTS_LIMIT must be a positive integer, got "${raw}"`,
    );
  });
});
