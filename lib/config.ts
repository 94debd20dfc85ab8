/**
 * The one source of truth, read the way Terraform reads it: services/resources.json for names and
 * keys, services/<fn>/function.json for each function's settings and environment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const FUNCTIONS = ['session-updater', 'fraud-rules', 'metrics-emitter'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
/**
 * Every deployed function: the three that apply events to live state (FUNCTIONS, which replay and
 * the bench's cost model know) and archive-writer, which only copies the stream to S3.
 */
export const DEPLOYED_FUNCTIONS = [...FUNCTIONS, 'archive-writer'] as const;
export type DeployedFunction = (typeof DEPLOYED_FUNCTIONS)[number];

export interface TableSpec {
  description?: string;
  hashKey: string;
  rangeKey?: string;
  ttlAttribute?: string;
  /** Sparse where items lack the keys; string keys, projection ALL. */
  globalSecondaryIndexes?: Array<{ name: string; hashKey: string; rangeKey?: string }>;
}

export interface ResourcesSpec {
  stream: { name: string; partitionKey: string };
  tables: Record<string, TableSpec>;
  /** maxMessageBytes: the queue's MaximumMessageSize; the sender sizes messages to it. */
  queues: Record<string, { description?: string; maxMessageBytes?: number }>;
  topics: Record<string, { description?: string }>;
  /** Secrets Manager secrets (the erasure key), generated at creation. */
  secrets: Record<string, { description?: string }>;
  /** S3 buckets (the archive); physical name pulse-<environment>-<key>-<account id> in AWS. */
  buckets: Record<string, { description?: string }>;
  metrics: { namespace: string };
}

export interface EventSourceMappingSpec {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  parallelizationFactor: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  maximumRecordAgeInSeconds: number;
}

export interface FunctionSpec {
  name: DeployedFunction;
  description?: string;
  memorySize: number;
  timeout: number;
  eventSourceMapping: EventSourceMappingSpec;
  /** An EventBridge schedule invoking the function with `input` (the re-drive; fraud-rules: with the outbox sweep). */
  schedule?: { expression: string; input: unknown };
  environment: Record<string, string>;
  resources: {
    tables: Record<string, { table: string; actions: string[] }>;
    queues: Record<string, { queue: string; actions: string[] }>;
    topics: Record<string, { topic: string; actions: string[] }>;
    secrets?: Record<string, { secret: string; actions: string[] }>;
    /** Buckets the function reads or writes (archive-writer: the archive). */
    buckets?: Record<string, { bucket: string; actions: string[] }>;
    /** Calls on the function's own source stream (metrics-emitter: ListShards for shard lineage). */
    stream?: { actions: string[] };
    putMetricData: boolean;
  };
}

function readJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(repoRoot(), ...parts), 'utf8')) as T;
}

export function loadResources(): ResourcesSpec {
  return readJson<ResourcesSpec>('services', 'resources.json');
}

export function loadFunction(fn: DeployedFunction): FunctionSpec {
  return readJson<FunctionSpec>('services', fn, 'function.json');
}

/** Physical names, as Terraform makes them: pulse-<environment>-<key>. */
export function physicalName(environment: string, key: string): string {
  return `pulse-${environment}-${key}`;
}

/** The per-function on-failure queue (terraform/modules/consumer-function: "<function name>-on-failure"). */
export function onFailureQueueName(environment: string, fn: DeployedFunction): string {
  return `${physicalName(environment, fn)}-on-failure`;
}
