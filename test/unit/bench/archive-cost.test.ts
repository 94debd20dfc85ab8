import {
  ARCHIVE_USAGE_DEFAULTS,
  archiveMonthly,
  archivePlan,
  firehoseMonthly,
  measureArchiveUsage,
} from '../../../scripts/bench/archive-cost.js';

const scenario = { eventsPerSecond: 1_000, shards: 2, monthsKept: 12, queriesPerMonth: 300 };

describe('archive cost', () => {
  it('the committed per-event figures are within reach of a fresh measurement (bytes exact to 25 %)', () => {
    const fresh = measureArchiveUsage(10_000);
    const d = ARCHIVE_USAGE_DEFAULTS;
    expect(Math.abs(fresh.compactedBytesPerEvent - d.compactedBytesPerEvent)).toBeLessThan(
      0.25 * d.compactedBytesPerEvent,
    );
    expect(Math.abs(fresh.partBytesPerEvent - d.partBytesPerEvent)).toBeLessThan(0.25 * d.partBytesPerEvent);
    // Parquet is smaller than the JSON it holds, and compaction makes it smaller still.
    expect(fresh.compactedBytesPerEvent).toBeLessThan(fresh.partBytesPerEvent);
    expect(fresh.partBytesPerEvent).toBeLessThan(fresh.eventBytes);
  });

  it('per-event lines scale with the rate; the fixed ones do not', () => {
    const one = archiveMonthly(ARCHIVE_USAGE_DEFAULTS, { ...scenario, queriesPerMonth: 0 });
    const two = archiveMonthly(ARCHIVE_USAGE_DEFAULTS, {
      ...scenario,
      eventsPerSecond: 2_000,
      queriesPerMonth: 0,
    });
    expect(two['archive-writer Lambda compute']).toBeCloseTo(2 * one['archive-writer Lambda compute']);
    expect(two['archive S3 storage']).toBeCloseTo(2 * one['archive S3 storage']);
    expect(two['archive EFO consumer-shard-hours']).toBe(one['archive EFO consumer-shard-hours']);
  });

  it('storage accumulates with the months kept, each month cheaper as it tiers down', () => {
    const at = (monthsKept: number) =>
      archiveMonthly(ARCHIVE_USAGE_DEFAULTS, { ...scenario, monthsKept })['archive S3 storage'];
    expect(at(2) - at(1)).toBeLessThan(at(1));
    expect(at(12) - at(11)).toBeLessThan(at(2) - at(1));
    expect(at(12)).toBeGreaterThan(at(6));
  });

  it('Firehose bills each record as 5 KB: a 100 B and a 5,000 B event cost the same to ingest', () => {
    const small = firehoseMonthly({ ...ARCHIVE_USAGE_DEFAULTS, eventBytes: 100 }, scenario);
    const large = firehoseMonthly({ ...ARCHIVE_USAGE_DEFAULTS, eventBytes: 5_000 }, scenario);
    // Only dynamic partitioning (per real GB, $0.02) differs: ingestion and conversion bill 5 KB each.
    const events = 1_000 * 730 * 3600;
    expect(large - small).toBeCloseTo(((events * (5_000 - 100)) / 1024 ** 3) * 0.02, 6);
    // Storage and queries cost the same either way: compare what gets the events into S3.
    const lines = archiveMonthly(
      { ...ARCHIVE_USAGE_DEFAULTS, eventBytes: 100 },
      { ...scenario, monthsKept: 0, queriesPerMonth: 0 },
    );
    expect(small).toBeGreaterThan(Object.values(lines).reduce((a, b) => a + b, 0));
    expect(
      archivePlan({ eventsPerSecond: 1_000, shards: 2, eventBytes: 100 }).firehoseMonthlyUsd,
    ).toBeCloseTo(firehoseMonthly({ ...ARCHIVE_USAGE_DEFAULTS, eventBytes: 100 }, scenario));
  });
});
