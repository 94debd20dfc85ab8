/**
 * One function's event source mapping: its own EFO consumer, a subscription, a batch processor
 * and an execution environment per shard (parallelization factor 1: one invocation per shard at
 * a time), new shards picked up as they appear, checkpoints and the on-failure destination.
 */
import { join } from 'node:path';
import {
  DescribeStreamConsumerCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Clients, type Endpoints, endpointEnv } from '../../lib/aws.js';
import type { DeployedFunction, EventSourceMappingSpec, FunctionSpec } from '../../lib/config.js';
import {
  type FunctionIdentity,
  invocationContext,
  kinesisEvent,
  onFailureRecord,
  type StreamRecord,
} from '../../lib/lambda-event.js';
import { Checkpoints } from './checkpoints.js';
import type { FaultProxy } from './fault-proxy.js';
import { sleep } from './processes.js';
import { functionEnvironment, type LocalResources } from './resources.js';
import { type Fault, Sandbox } from './sandbox.js';
import { ShardProcessor } from './shard-processor.js';
import { Subscription } from './subscription.js';

export interface MappingOptions {
  fn: DeployedFunction;
  spec: FunctionSpec;
  esm: EventSourceMappingSpec;
  clients: Clients;
  endpoints: Endpoints;
  resources: LocalResources;
  handlerPath: string;
  checkpointsDir: string;
  logsDir: string;
  resubscribeMs: number;
  shardPollMs: number;
  proxy?: FaultProxy;
  /** Variables set on top of function.json's (tests: shorter leases). */
  environment?: Record<string, string>;
  backoffMs?: (attempt: number) => number;
  log: (message: string) => void;
}

export interface MappingStats {
  fn: DeployedFunction;
  received: number;
  processed: number;
  sentToDestination: number;
  invocations: number;
  functionErrors: number;
  partialFailures: number;
  retries: number;
  bisects: number;
  coldStarts: number;
  firstProcessedAt?: number;
  lastProcessedAt?: number;
  /** now − approximate arrival, measured when a record's batch succeeded. */
  lagMs: { last: number; max: number; avg: number };
  millisBehindLatest: number;
  buffered: number;
  shards: string[];
  /** SubscribeToShard calls that succeeded (re-subscriptions included). */
  subscriptions: number;
}

interface ShardRun {
  shardId: string;
  subscription: Subscription;
  processor: ShardProcessor;
  sandbox: Sandbox;
}

export class FunctionMapping {
  readonly identity: FunctionIdentity;
  private readonly checkpoints: Checkpoints;
  private readonly shards = new Map<string, ShardRun>();
  /** Closed shards read and processed to their end: their children may start. */
  private readonly finished = new Set<string>();
  private polling = false;
  private readonly faults: Fault[] = [];
  private consumerArn = '';
  private stopped = false;
  private poller?: NodeJS.Timeout;
  private received = 0;
  private processed = 0;
  private lagSum = 0;
  private lagMax = 0;
  private lagLast = 0;
  private behind = new Map<string, number>();
  private firstProcessedAt?: number;
  private lastProcessedAt?: number;
  /** The environment scheduled invocations run in (its own, like a concurrent invocation). */
  private scheduled?: Sandbox;

  constructor(private readonly o: MappingOptions) {
    const functionName = `pulse-${o.resources.environment}-${o.fn}`;
    this.identity = {
      functionName,
      functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      memorySize: o.spec.memorySize,
      region: 'us-east-1',
      roleArn: `arn:aws:iam::000000000000:role/${functionName}`,
    };
    this.checkpoints = new Checkpoints(o.checkpointsDir, o.fn);
  }

  async start(): Promise<void> {
    this.consumerArn = await this.registerConsumer();
    this.checkpoints.load(this.consumerArn);
    await this.discoverShards();
    this.poller = setInterval(() => {
      this.discoverShards().catch((err: Error) => this.o.log(`ListShards: ${err.message}`));
    }, this.o.shardPollMs);
  }

  private async registerConsumer(): Promise<string> {
    const { kinesis } = this.o.clients;
    const streamArn = this.o.resources.streamArn;
    const name = this.identity.functionName;
    const { Consumers } = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: streamArn }));
    let arn = Consumers?.find((c) => c.ConsumerName === name)?.ConsumerARN;
    if (!arn) {
      const { Consumer } = await kinesis.send(
        new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }),
      );
      arn = Consumer!.ConsumerARN!;
    }
    for (let i = 0; i < 100; i += 1) {
      const { ConsumerDescription } = await kinesis.send(
        new DescribeStreamConsumerCommand({ ConsumerARN: arn }),
      );
      if (ConsumerDescription?.ConsumerStatus === 'ACTIVE') return arn;
      await sleep(100);
    }
    throw new Error(`consumer ${name} did not become ACTIVE`);
  }

  /**
   * Starts new shards, the way Lambda does after a reshard: a child shard is read only once every
   * parent (ParentShardId, and AdjacentParentShardId after a merge) has been read and processed to
   * its end, so a user's records are still handled in order; each shard keeps its own checkpoint.
   * A parent no longer listed (trimmed past retention) does not hold its children back.
   */
  private async discoverShards(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      const shards = await this.listShards();
      const listed = new Set(shards.map((s) => s.ShardId!));
      for (const shard of shards) {
        const id = shard.ShardId!;
        const run = this.shards.get(id);
        if (!run || this.finished.has(id) || this.stopped) continue;
        // kinesis-local reports a closed shard's EndingSequenceNumber as Long.MAX_VALUE: only its presence counts.
        if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined) continue;
        if (!(await this.readToEnd(run))) continue;
        this.finished.add(id);
        this.o.log(`${id} closed and read to its end; its children may start`);
        await run.subscription.stop();
        await run.processor.stop();
        await run.sandbox.close();
      }
      for (const shard of shards) {
        const id = shard.ShardId!;
        if (this.shards.has(id) || this.stopped) continue;
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (p): p is string => p !== undefined && listed.has(p),
        );
        if (parents.every((p) => this.finished.has(p))) this.startShard(id, parents.length > 0);
      }
    } finally {
      this.polling = false;
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.o.clients.kinesis.send(
        new ListShardsCommand(NextToken ? { NextToken } : { StreamARN: this.o.resources.streamArn }),
      );
      shards.push(...(out.Shards ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    return shards;
  }

  /**
   * True when a closed shard has nothing left: every record was handed over and processed (or
   * sent to the destination), and GetRecords after the last one returns no record and no next
   * iterator. SubscribeToShard on kinesis-local keeps sending empty events with a continuation
   * sequence number after a shard closes and never sends ChildShards, so it cannot tell us.
   */
  private async readToEnd(run: ShardRun): Promise<boolean> {
    if (run.processor.buffered > 0) return false;
    if (run.subscription.ended) return true;
    const { kinesis } = this.o.clients;
    const after = run.subscription.lastDelivered;
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamARN: this.o.resources.streamArn,
        ShardId: run.shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    if (!ShardIterator) return true;
    const out = await kinesis.send(
      new GetRecordsCommand({ StreamARN: this.o.resources.streamArn, ShardIterator, Limit: 1 }),
    );
    return (out.Records?.length ?? 0) === 0 && !out.NextShardIterator && run.processor.buffered === 0;
  }

  private sandboxEnv(): Record<string, string> {
    const endpoints = this.o.proxy ? { ...this.o.endpoints, default: this.o.proxy.url } : this.o.endpoints;
    return {
      ...endpointEnv(endpoints),
      ...functionEnvironment(this.o.spec, this.o.resources),
      AWS_LAMBDA_FUNCTION_NAME: this.identity.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.o.spec.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      // Lambda sets it in every on-demand environment; Powertools' cold_start counts only there.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.identity.functionName}`,
      TZ: 'UTC',
      ...this.o.environment,
    };
  }

  /** `child`: created by a reshard, so read from its start whatever the mapping's starting position. */
  private startShard(shardId: string, child: boolean): void {
    const sandbox = new Sandbox({
      name: `${this.o.fn}/${shardId}`,
      handlerPath: this.o.handlerPath,
      env: this.sandboxEnv(),
      logFile: join(this.o.logsDir, `${this.o.fn}.log`),
      timeoutMs: this.o.spec.timeout * 1000,
    });
    const processor = new ShardProcessor(shardId, this.o.esm, {
      invoke: (records) => this.invoke(sandbox, records),
      sendToDestination: (records, condition, invokeCount, error) =>
        this.toDestination(records, condition, invokeCount, error),
      commit: (last, processed) => this.commit(shardId, last, processed),
      log: (m) => this.o.log(m),
      backoffMs: this.o.backoffMs,
    });
    const subscription = new Subscription({
      kinesis: this.o.clients.kinesis,
      consumerArn: this.consumerArn,
      shardId,
      startingPosition: child ? 'TRIM_HORIZON' : this.o.esm.startingPosition,
      after: this.checkpoints.get(shardId),
      resubscribeMs: this.o.resubscribeMs,
      onRecords: async (records) => {
        this.received += records.length;
        await processor.push(records);
      },
      onLag: (ms) => this.behind.set(shardId, ms),
      log: (m) => this.o.log(m),
    });
    this.shards.set(shardId, { shardId, subscription, processor, sandbox });
    processor.start();
    subscription.start();
  }

  /** Invokes the function with a non-stream event (the schedule's input). */
  invokeScheduled(input: unknown) {
    this.scheduled ??= new Sandbox({
      name: `${this.o.fn}/scheduled`,
      handlerPath: this.o.handlerPath,
      env: this.sandboxEnv(),
      logFile: join(this.o.logsDir, `${this.o.fn}.log`),
      timeoutMs: this.o.spec.timeout * 1000,
    });
    return this.scheduled.invoke(input, invocationContext(this.identity));
  }

  private invoke(sandbox: Sandbox, records: StreamRecord[]) {
    const fault = this.faults.shift();
    const event = kinesisEvent(records, this.o.resources.streamArn, this.identity);
    return sandbox.invoke(event, invocationContext(this.identity), fault);
  }

  private async toDestination(
    records: StreamRecord[],
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
    invokeCount: number,
    error?: string,
  ) {
    const body = onFailureRecord({
      records,
      streamArn: this.o.resources.streamArn,
      fn: this.identity,
      condition,
      invokeCount,
      functionError: error ? 'Unhandled' : undefined,
    });
    await this.o.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.o.resources.onFailureQueues[this.o.fn],
        MessageBody: JSON.stringify(body),
      }),
    );
    this.o.log(
      `${records.length} record(s) of ${records[0]?.shardId} sent to the on-failure destination (${condition})`,
    );
  }

  private commit(shardId: string, last: StreamRecord, processed: StreamRecord[]): void {
    this.checkpoints.set(shardId, last.sequenceNumber);
    if (processed.length === 0) return;
    const now = Date.now();
    this.firstProcessedAt ??= now;
    this.lastProcessedAt = now;
    this.processed += processed.length;
    for (const r of processed) {
      const lag = now - r.arrivalMs;
      this.lagSum += lag;
      if (lag > this.lagMax) this.lagMax = lag;
    }
    this.lagLast = now - processed[processed.length - 1]!.arrivalMs;
  }

  /** The next `times` invocations (any shard) get this fault. */
  injectFault(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i += 1) this.faults.push(fault);
  }

  /** Kills the function's execution environments now (mid-batch if one is running). */
  killSandboxes(): number {
    let busy = 0;
    for (const run of this.shards.values()) {
      if (run.sandbox.busy) busy += 1;
      run.sandbox.kill();
    }
    return busy;
  }

  busy(): boolean {
    return [...this.shards.values()].some((r) => r.sandbox.busy);
  }

  checkpoint(): Record<string, string> {
    return this.checkpoints.all();
  }

  stats(): MappingStats {
    const s: MappingStats = {
      fn: this.o.fn,
      received: this.received,
      processed: this.processed,
      sentToDestination: 0,
      invocations: 0,
      functionErrors: 0,
      partialFailures: 0,
      retries: 0,
      bisects: 0,
      coldStarts: 0,
      firstProcessedAt: this.firstProcessedAt,
      lastProcessedAt: this.lastProcessedAt,
      lagMs: {
        last: this.lagLast,
        max: this.lagMax,
        avg: this.processed ? Math.round(this.lagSum / this.processed) : 0,
      },
      millisBehindLatest: Math.max(0, ...this.behind.values()),
      buffered: 0,
      shards: [...this.shards.keys()],
      subscriptions: 0,
    };
    for (const run of this.shards.values()) {
      const p = run.processor.stats;
      s.sentToDestination += p.sentToDestination;
      s.invocations += p.invocations;
      s.functionErrors += p.functionErrors;
      s.partialFailures += p.partialFailures;
      s.retries += p.retries;
      s.bisects += p.bisects;
      s.coldStarts += run.sandbox.coldStarts;
      s.buffered += run.processor.buffered;
      s.subscriptions += run.subscription.subscribeCount;
    }
    return s;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    const runs = [...this.shards.values()];
    await Promise.all(runs.map((r) => r.subscription.stop()));
    await Promise.all(runs.map((r) => r.processor.stop()));
    await Promise.all(runs.map((r) => r.sandbox.close()));
    await this.scheduled?.close();
  }

  /** Stops at once, killing environments mid-batch: like pulling the plug on the runner. */
  async crash(): Promise<void> {
    const halting = [...this.shards.values()].map((r) => r.processor.stop()); // no new invocation starts
    this.killSandboxes();
    await Promise.all(halting);
    await this.stop();
  }
}
