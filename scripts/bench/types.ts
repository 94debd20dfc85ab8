/**
 * The types several bench modules share: the context every measured area receives, a result row,
 * the results file and the cost model (which the capacity planner, cli/src/plan.ts, reads). On
 * their own so the areas, the cost area and the report depend on them and not on one another.
 */
import type { Component, Deployment, KinesisMode, SystemUsage } from './cost-model.js';
import type { BenchEnv } from './env.js';
import type { MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';

/** What every measured area receives: the emulator, the sizes, and where to log and keep request breakdowns. */
export interface BenchContext {
  env: BenchEnv;
  options: BenchOptions;
  /** Request counts per service:command, keyed by measurement, from its last run. */
  breakdown: Record<string, Record<string, number>>;
  log(message: string): void;
  /** Set by the cost area: the per-event figures and dollars, written to cost-model.json. */
  cost?: CostModel;
}

export interface Row {
  /** The function or part measured: session-updater, fraud-rules, producer... */
  area: string;
  metric: string;
  unit: string;
  ours: number | null;
  baseline: number | null;
  /** Runs the median was taken over. */
  runs: number;
  note?: string;
}

export interface BenchResults {
  mode: 'quick' | 'full' | 'tiny';
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  rows: Array<Row & { ratio: number | null }>;
  /** Request counts per service:command of the last run of each measurement, for the curious. */
  requestBreakdown: Record<string, Record<string, number>>;
  /** Per-event usage and dollars per million events by traffic shape (the cost area). */
  cost?: CostModel;
}

export type ShapeKey = 'heavy' | 'mix' | 'returning' | 'unique';

export interface ShapeResult {
  shape: ShapeKey;
  label: string;
  events: number;
  users: number;
  purchaseShare: number;
  averageEventBytes: number;
  /** Distinct users per Lambda batch of 1,000, over events in the batch: the planner interpolates on it. */
  userBatchesPerEvent: number;
  /** How much history the measurement stands on, stated next to every ratio of this shape. */
  history: string;
  pulse: SystemUsage;
  seed: SystemUsage;
  /** Both designs priced as deployed (CostModel.deployment). */
  dollarsPerMillion: { pulse: Record<Component, number>; seed: Record<Component, number> };
  /** Pulse's total and the Kinesis-only floor (the stream alone) in each capacity mode. */
  byMode: Record<KinesisMode, { pulse: number; seed: number; kinesisOnly: number }>;
}

export interface CostModel {
  generatedAt: string;
  mode: string;
  referenceEventsPerSecond: number;
  shardUtilisation: number;
  prices: { region: string; date: string };
  /** What the dollars price: the environment's capacity mode, tracing, PITR, alarms. */
  deployment: Deployment;
  shapes: ShapeResult[];
  /**
   * The event archive (a fourth consumer, deployed by default): $ per million events in its first
   * month, the same for every shape, on top of each shape's total. Absent in models from before it.
   */
  archivePerMillion?: number;
}
