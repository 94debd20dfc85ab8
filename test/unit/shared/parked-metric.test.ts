/** The parked-users EMF line: CloudWatch's format, the age in whole seconds, 0 when nobody waits. */
import {
  PARKED_METRIC,
  ParkedMetricError,
  parkedAfterRun,
  parkedUsersEmf,
  writeParkedMetric,
} from '../../../services/shared/parked-metric.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

test('the oldest parked user age, in seconds, with the count, as one EMF document', () => {
  const emf = parkedUsersEmf({
    namespace: 'Pulse',
    functionName: 'pulse-dev-session-updater',
    parked: 3,
    oldestParkedAt: NOW - 90_500,
    now: NOW,
  });
  expect(emf).toEqual({
    _aws: {
      Timestamp: NOW,
      CloudWatchMetrics: [
        {
          Namespace: 'Pulse',
          Dimensions: [['FunctionName']],
          Metrics: [
            { Name: 'OldestParkedUserAgeSeconds', Unit: 'Seconds' },
            { Name: 'ParkedUsers', Unit: 'Count' },
          ],
        },
      ],
    },
    FunctionName: 'pulse-dev-session-updater',
    OldestParkedUserAgeSeconds: 90,
    ParkedUsers: 3,
  });
  // Every metric and dimension the document declares is a root field (else CloudWatch drops it).
  const declared = (
    emf._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }>; Dimensions: string[][] }> }
  ).CloudWatchMetrics[0]!;
  for (const name of [...declared.Metrics.map((m) => m.Name), ...declared.Dimensions.flat()])
    expect(emf[name]).toBeDefined();
});

test('nobody parked: age 0, so the alarm clears', () => {
  const emf = parkedUsersEmf({ namespace: 'Pulse', functionName: 'f', parked: 0, now: NOW });
  expect(emf[PARKED_METRIC.oldestAge]).toBe(0);
  expect(emf[PARKED_METRIC.count]).toBe(0);
});

test('a clock behind the entry never reports a negative age', () => {
  const emf = parkedUsersEmf({
    namespace: 'Pulse',
    functionName: 'f',
    parked: 1,
    oldestParkedAt: NOW + 5_000,
    now: NOW,
  });
  expect(emf[PARKED_METRIC.oldestAge]).toBe(0);
});

test('bad input fails with a named error', () => {
  expect(() => parkedUsersEmf({ namespace: 'Pulse', functionName: 'f', parked: -1, now: NOW })).toThrow(
    ParkedMetricError,
  );
  expect(() => parkedUsersEmf({ namespace: 'Pulse', functionName: 'f', parked: 1.5, now: NOW })).toThrow(
    /whole number/,
  );
  expect(() => parkedUsersEmf({ namespace: 'Pulse', functionName: 'f', parked: 2, now: NOW })).toThrow(
    /oldestParkedAt/,
  );
});

describe('after a re-drive run', () => {
  const entry = (sk: string, outcome: string, parkedAt?: string) =>
    ({ sk, outcome, ...(parkedAt ? { parkedAt } : {}) }) as never;

  test('every entry not done is still parked; users counted once; the oldest parkedAt wins', () => {
    const report = {
      entries: [
        entry('user#a', 'done', '2026-12-02T10:00:00.000Z'),
        entry('user#b', 'not due', '2026-12-02T11:00:00.000Z'),
        entry('user#b', 'failed', '2026-12-02T11:30:00.000Z'),
        entry('user#c', 'expired', '2026-12-02T10:30:00.000Z'),
      ],
    };
    expect(parkedAfterRun(report)).toEqual({
      parked: 2,
      oldestParkedAt: Date.parse('2026-12-02T10:30:00.000Z'),
    });
  });

  test('all done: nothing parked, and the line says 0', () => {
    const lines: string[] = [];
    writeParkedMetric(
      { entries: [entry('user#a', 'done', '2026-12-02T10:00:00.000Z')] },
      { functionName: 'pulse-dev-fraud-rules', env: {}, now: NOW, write: (l) => lines.push(l) },
    );
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        FunctionName: 'pulse-dev-fraud-rules',
        OldestParkedUserAgeSeconds: 0,
        ParkedUsers: 0,
      }),
    ]);
    expect(JSON.parse(lines[0]!)._aws.CloudWatchMetrics[0].Namespace).toBe('Pulse');
  });

  test("the environment's namespace; an entry without parkedAt counts, aged from now", () => {
    const lines: string[] = [];
    writeParkedMetric(
      { entries: [entry('user#z', 'partial')] },
      {
        functionName: 'f',
        env: { METRICS_NAMESPACE: 'PulseStaging' },
        now: NOW,
        write: (l) => lines.push(l),
      },
    );
    const emf = JSON.parse(lines[0]!);
    expect(emf).toMatchObject({ OldestParkedUserAgeSeconds: 0, ParkedUsers: 1 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('PulseStaging');
  });

  test('the line is written once, as a single JSON line', () => {
    const lines: string[] = [];
    writeParkedMetric(
      { entries: [entry('user#a', 'failed', new Date(NOW - 7_200_000).toISOString())] },
      { functionName: 'f', env: {}, now: NOW, write: (l) => lines.push(l) },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(JSON.parse(lines[0]!).OldestParkedUserAgeSeconds).toBe(7_200);
  });
});
