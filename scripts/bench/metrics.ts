/**
 * (3) metrics-emitter against the emulator: CloudWatch requests per batch and events/s through
 * `emitBatchMetrics` with the handler's real watermark store and CloudWatch client.
 */
import { loadConfig } from '../../services/metrics-emitter/config.js';
import { type EmitterDeps, emitBatchMetrics } from '../../services/metrics-emitter/processor.js';
import { WatermarkStore } from '../../services/metrics-emitter/watermarks.js';
import { silentLogger } from '../../services/shared/logger.js';
import { functionEnvironment } from '../local/resources.js';
import { seedEmitMetrics } from './baseline/metrics-emitter.js';
import { perSecond } from './context.js';
import { makeEvents, toKinesisEvent } from './data.js';
import { median, timed } from './stats.js';
import type { BenchContext, Row } from './types.js';

const AREA = 'metrics-emitter';

export function metricsDeps(ctx: BenchContext, functionName: string): EmitterDeps {
  const config = loadConfig(functionEnvironment('metrics-emitter', ctx.env.resources));
  return {
    cloudwatch: ctx.env.clients.cloudwatch,
    watermarks: new WatermarkStore({ db: ctx.env.db, tableName: config.watermarksTable }),
    namespace: config.namespace,
    environment: config.environment,
    functionName,
    maxEventTypes: config.maxEventTypes,
    recentEventIdsLimit: 5000,
    duplicateWindowSeconds: 120,
    logger: silentLogger,
  };
}

export async function benchMetrics(ctx: BenchContext): Promise<Row[]> {
  const { metrics, runs } = ctx.options;
  const { env } = ctx;
  const rows: Row[] = [];
  const stamp = Date.now().toString(36);
  for (const batch of metrics.batchSizes) {
    const ours: Array<{ cw: number; db: number; eps: number }> = [];
    const base: Array<{ perRecord: number; eps: number }> = [];
    for (let run = 0; run < runs; run++) {
      // A fresh function name per run: its own shard watermarks, so nothing is skipped as re-delivered.
      const deps = metricsDeps(ctx, `pulse-bench-metrics-${batch}-${run}-${stamp}`);
      const event = toKinesisEvent(makeEvents({ count: batch, users: 1_000, prefix: `m${run}${stamp}` }));
      env.counter.reset();
      const t = await timed(() => emitBatchMetrics(event, deps));
      if (t.value.response.batchItemFailures.length > 0) throw new Error('metrics-emitter reported failures');
      ctx.breakdown[`${AREA} ours batch ${batch}`] = env.counter.snapshot();
      ours.push({
        cw: env.counter.total('cloudwatch'),
        db: env.counter.total('dynamodb'),
        eps: perSecond(batch, t.ms),
      });

      const records = Math.min(metrics.baselineRecords, batch);
      const seed = toKinesisEvent(makeEvents({ count: records, users: 1_000, prefix: `bm${run}${stamp}` }));
      env.counter.reset();
      const s = await timed(() =>
        seedEmitMetrics(seed, {
          cloudwatch: env.clients.cloudwatch,
          namespace: 'PulseBenchBaseline',
          environment: 'bench',
        }),
      );
      ctx.breakdown[`${AREA} baseline`] = env.counter.snapshot();
      base.push({ perRecord: env.counter.total('cloudwatch') / records, eps: perSecond(records, s.ms) });
    }
    const label = `batch of ${batch.toLocaleString('en-US')}`;
    const records = Math.min(metrics.baselineRecords, batch).toLocaleString('en-US');
    rows.push(
      {
        area: AREA,
        metric: `CloudWatch requests per batch (${label}, 2 shards)`,
        unit: 'requests',
        ours: median(ours.map((o) => o.cw)),
        baseline: median(base.map((b) => b.perRecord)) * batch,
        runs,
        note: `ours also: ${median(ours.map((o) => o.db))} DynamoDB watermark requests; baseline counted on ${records} records (1 per record)`,
      },
      {
        area: AREA,
        metric: `throughput (${label})`,
        unit: 'events/s',
        ours: median(ours.map((o) => o.eps)),
        baseline: median(base.map((b) => b.eps)),
        runs,
        note: `baseline on the first ${records} records`,
      },
    );
    ctx.log(`  ours ${label}: ${median(ours.map((o) => o.eps)).toFixed(0)} events/s`);
  }
  return rows;
}
