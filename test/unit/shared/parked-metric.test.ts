/** The parked-users EMF line: CloudWatch's format, the age in whole seconds, 0 when nobody waits. */
import { PARKED_METRIC, ParkedMetricError, parkedUsersEmf } from '../../../services/shared/parked-metric.js';

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
