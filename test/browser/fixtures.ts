/**
 * Realistic numbers for the two HTML pages: a 60 s demo run at 40 events/s on two shards, and a
 * full bench run as recorded in the README. The pages are rendered by the same functions the demo
 * and the bench call; only the numbers are fixed here.
 */
import { ratioOf } from '../../scripts/bench/report.js';
import type { BenchResults, Row } from '../../scripts/bench/types.js';
import type { DemoReport } from '../../scripts/demo/report.js';
import type { MappingStats } from '../../scripts/local/mapping.js';

const START = Date.UTC(2026, 10, 28, 12, 0, 20);
const MINUTE = 60_000;

function stats(fn: MappingStats['fn'], lagAvg: number, lagMax: number, invocations: number): MappingStats {
  return {
    fn,
    received: 2_400,
    processed: 2_400,
    sentToDestination: 0,
    invocations,
    functionErrors: 0,
    partialFailures: 0,
    retries: 0,
    bisects: 0,
    coldStarts: 2,
    firstProcessedAt: START + 1_900,
    lastProcessedAt: START + 61_800,
    lagMs: { last: lagAvg, max: lagMax, avg: lagAvg },
    millisBehindLatest: 0,
    buffered: 0,
    shards: ['shardId-000000000000', 'shardId-000000000001'],
    subscriptions: 2,
  };
}

export function demoReportFixture(): DemoReport {
  return {
    traffic: { seed: 7, events: 2_400, users: 20, rate: 40, duration: 60, shards: 2 },
    times: {
      runnerStartedAt: START - 3_000,
      sendStartedAt: START,
      caughtUpAt: START + 62_400,
      finishedAt: START + 64_900,
    },
    sent: { sent: 2_400, failed: 0, rate: 39.8 },
    functions: [
      stats('session-updater', 1_402, 2_436, 126),
      stats('fraud-rules', 1_517, 2_809, 124),
      stats('metrics-emitter', 3_551, 6_287, 28),
    ],
    sessions: { users: 20, opened: 27, closed: 7, expectedOpened: 27, expectedClosed: 7 },
    topProducts: [
      ['p-014', 41],
      ['p-003', 38],
      ['p-027', 35],
      ['p-009', 33],
      ['p-021', 30],
    ],
    alerts: [
      {
        at: START + 9_800,
        severity: 'high',
        rule: 'largePurchase',
        subject: 'Pulse fraud alert: large purchase of 4,800.00 USD by u-7',
      },
      {
        at: START + 23_400,
        severity: 'medium',
        rule: 'purchaseVelocity',
        subject: 'Pulse fraud alert: 5 purchases in 10 min by u-12',
      },
      {
        at: START + 24_100,
        severity: 'medium',
        rule: 'spendVelocity',
        subject: 'Pulse fraud alert: 3,150.00 USD in 60 min by u-12',
      },
      {
        at: START + 41_700,
        severity: 'high',
        rule: 'countryHop',
        subject: 'Pulse fraud alert: DE then BR within 60 min for u-3',
      },
    ],
    expectedAlertRules: ['largePurchase', 'purchaseVelocity', 'spendVelocity', 'countryHop'],
    window: {
      environment: 'local',
      namespace: 'Pulse',
      windowStart: new Date(START - 3 * MINUTE).toISOString(),
      windowEnd: new Date(START + 2 * MINUTE).toISOString(),
      windowMinutes: 5,
      eventsPerMinute: 480,
      purchasesPerMinute: 48.2,
      byCurrency: {
        EUR: { revenuePerMinute: 812.4, averageOrderValue: 74.1 },
        USD: { revenuePerMinute: 4_012.35, averageOrderValue: 83.24 },
      },
    },
    perMinute: [
      {
        minute: START - 20_000,
        events: 1_590,
        purchases: 158,
        revenue: { EUR: 1_620.2, USD: 11_594.7 },
        orders: { EUR: 22, USD: 136 },
      },
      {
        minute: START - 20_000 + MINUTE,
        events: 810,
        purchases: 83,
        revenue: { EUR: 790.05, USD: 6_056.8 },
        orders: { EUR: 11, USD: 72 },
      },
    ],
    truth: { events: 2_400, purchases: 241, revenue: { EUR: '2410250000', USD: '17651500000' } },
    warnings: [],
  };
}

const row = (
  area: string,
  metric: string,
  unit: string,
  ours: number,
  baseline: number | null,
  runs = 3,
): Row => ({
  area,
  metric,
  unit,
  ours,
  baseline,
  runs,
});

export function benchResultsFixture(): BenchResults {
  const rows: Row[] = [
    row('compute', 'floor: JSON.parse alone', 'µs/record', 1.54, null, 7),
    row('compute', 'session-updater: decode + validate + aggregate, I/O stubbed', 'µs/record', 8.54, 8.8, 7),
    row('compute', 'fraud-rules: decode + validate + aggregate, I/O stubbed', 'µs/record', 6.09, 6.31, 7),
    row('compute', 'metrics-emitter: decode + validate + aggregate, I/O stubbed', 'µs/record', 17.1, 5.56, 7),
    row(
      'session-updater',
      'DynamoDB requests per 1,000 events (batch 100, 10 users)',
      'requests',
      110,
      2_000,
    ),
    row('session-updater', 'throughput (batch 100, 10 users)', 'events/s', 1_663, 33.7),
    row(
      'session-updater',
      'DynamoDB requests per 1,000 events (batch 1,000, 1,000 users)',
      'requests',
      640,
      2_000,
    ),
    row('session-updater', 'throughput (batch 1,000, 1,000 users)', 'events/s', 200, 108),
    row('session-updater', 'largest session item after 10,000 events of one user', 'KiB', 4.65, 1_389, 1),
    row('fraud-rules', 'DynamoDB + SNS requests per 1,000 events (1 % purchases)', 'requests', 9.9, 1_008),
    row('fraud-rules', 'throughput (10,000 events in batches of 1,000)', 'events/s', 14_935, 194),
    row('metrics-emitter', 'CloudWatch requests per batch (batch of 1,000, 2 shards)', 'requests', 2, 1_000),
    row('metrics-emitter', 'throughput (batch of 1,000)', 'events/s', 13_339, 170),
    row(
      'producer',
      'records/s into local Kinesis (2,000 events): publishBatch vs PutRecord loop',
      'records/s',
      505,
      116,
    ),
    row(
      'producer',
      'in-process validate + encode + chunk (20,000 events, Kinesis stubbed)',
      'records/s',
      341_828,
      215_508,
    ),
    row('session-updater', 'bundle size (index.mjs / zip)', 'KiB', 375, null, 1),
    row('session-updater', 'cold start: module load (import of the bundle)', 'ms', 74.6, null, 5),
    row('fraud-rules', 'end to end: put → alert sent, p50', 'ms', 1_538, null, 200),
  ];
  return {
    mode: 'full',
    startedAt: '2026-11-25T23:48:05.025Z',
    durationSeconds: 306,
    machine: {
      cpuModel: 'Intel(R) Xeon(R) Processor',
      cores: 2,
      memoryGiB: 23.5,
      node: 'v20.20.2',
      platform: 'linux-x64',
    },
    rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })),
    requestBreakdown: {},
  };
}
