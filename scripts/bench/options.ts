/** Workload sizes per mode: full (`make bench`), quick (`QUICK=1`, < 2 min) and tiny (the jest test). */

export type Mode = 'full' | 'quick' | 'tiny';

export interface BenchOptions {
  mode: Mode;
  /** Runs the median is taken over, for measurements cheap enough to repeat. */
  runs: number;
  sessions: {
    batchSizes: number[];
    users: number[];
    /** Cells whose batch is at least this big run once (one run is already thousands of events). */
    singleRunFromBatch: number;
    /** The baseline is per record, so it runs on the first N records of the batch. */
    baselineRecords: number;
    singleUserEvents: number;
  };
  fraud: { events: number; users: number; baselineRecords: number };
  metrics: { batchSizes: number[]; baselineRecords: number };
  compute: { batch: number; minMs: number; samples: number };
  producer: { records: number; baselineRecords: number; inProcessRecords: number };
  coldStart: { runs: number };
  e2e: { events: number; timeoutMs: number };
  /**
   * Events per traffic shape through every Pulse function; the seed, per record (its cost per
   * event does not depend on how many it sees), runs on the first `seedEvents` of the same events.
   */
  cost: { events: number; seedEvents: number };
  /** The re-drive: traffic, users, how many are set aside, and the live batch size (small: many entries). */
  redrive: { events: number; users: number; poisonedUsers: number; batchSize: number };
}

export function benchOptions(mode: Mode): BenchOptions {
  switch (mode) {
    case 'full':
      return {
        mode,
        runs: 3,
        sessions: {
          batchSizes: [100, 1_000, 10_000],
          users: [10, 1_000, 100_000],
          singleRunFromBatch: 10_000,
          baselineRecords: 300,
          singleUserEvents: 10_000,
        },
        fraud: { events: 10_000, users: 1_000, baselineRecords: 1_000 },
        metrics: { batchSizes: [1_000, 5_000], baselineRecords: 300 },
        compute: { batch: 1_000, minMs: 400, samples: 7 },
        producer: { records: 2_000, baselineRecords: 500, inProcessRecords: 20_000 },
        coldStart: { runs: 5 },
        e2e: { events: 200, timeoutMs: 120_000 },
        cost: { events: 5_000, seedEvents: 600 },
        redrive: { events: 4_000, users: 50, poisonedUsers: 3, batchSize: 100 },
      };
    case 'quick':
      return {
        mode,
        runs: 1,
        sessions: {
          batchSizes: [100, 1_000],
          users: [10, 1_000],
          singleRunFromBatch: 1,
          baselineRecords: 100,
          singleUserEvents: 2_000,
        },
        fraud: { events: 2_000, users: 1_000, baselineRecords: 300 },
        metrics: { batchSizes: [1_000], baselineRecords: 100 },
        compute: { batch: 1_000, minMs: 150, samples: 3 },
        producer: { records: 500, baselineRecords: 100, inProcessRecords: 5_000 },
        coldStart: { runs: 3 },
        e2e: { events: 50, timeoutMs: 60_000 },
        cost: { events: 1_000, seedEvents: 150 },
        redrive: { events: 1_000, users: 20, poisonedUsers: 2, batchSize: 50 },
      };
    case 'tiny':
      return {
        mode,
        runs: 1,
        sessions: {
          batchSizes: [20],
          users: [5],
          singleRunFromBatch: 1,
          baselineRecords: 10,
          singleUserEvents: 50,
        },
        fraud: { events: 200, users: 20, baselineRecords: 30 },
        metrics: { batchSizes: [50], baselineRecords: 10 },
        compute: { batch: 50, minMs: 5, samples: 1 },
        producer: { records: 20, baselineRecords: 10, inProcessRecords: 200 },
        coldStart: { runs: 1 },
        e2e: { events: 5, timeoutMs: 60_000 },
        cost: { events: 150, seedEvents: 50 },
        redrive: { events: 200, users: 10, poisonedUsers: 1, batchSize: 20 },
      };
  }
}
