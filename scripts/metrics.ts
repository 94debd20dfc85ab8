/**
 * `npm run metrics`: the seed's sliding window (events/min, purchases/min, revenue/min, average
 * order value over 5 minutes, sliding every 30 seconds), read from the metrics the
 * metrics-emitter publishes. See `--help`.
 */
import { pathToFileURL } from 'node:url';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { loadResources } from '../lib/config.js';
import { type MetricsOptions, parseMetricsArgs, SLIDE_MS, USAGE, UsageError } from './metrics/args.js';
import { formatResult, readSlidingWindow } from './metrics/query.js';
import { MINUTE_MS, slidingWindow } from './metrics/window.js';

export { readSlidingWindow, type SlidingWindowRequest, type SlidingWindowResult } from './metrics/query.js';
export { slidingWindow } from './metrics/window.js';

async function printOnce(cloudwatch: CloudWatchClient, options: MetricsOptions): Promise<void> {
  const now = Date.now();
  const window = slidingWindow(options.at ?? new Date(now), options.windowMs);
  const result = await readSlidingWindow({
    cloudwatch,
    environment: options.environment,
    namespace: options.namespace,
    end: window.end,
    windowMinutes: options.windowMs / MINUTE_MS,
    now,
  });
  console.log(options.json ? JSON.stringify(result) : formatResult(result));
}

async function main(argv: string[]): Promise<void> {
  let options: MetricsOptions;
  try {
    options = parseMetricsArgs(argv, process.env, { namespace: loadResources().metrics.namespace });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`metrics: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const cloudwatch = new CloudWatchClient({ maxAttempts: 3 });
  if (!options.watch) {
    try {
      await printOnce(cloudwatch, options);
    } finally {
      cloudwatch.destroy();
    }
    return;
  }
  const tick = async () => {
    try {
      await printOnce(cloudwatch, options);
    } catch (err) {
      console.error(`metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Next print just after the next slide boundary.
    setTimeout(tick, SLIDE_MS - (Date.now() % SLIDE_MS) + 250);
  };
  process.on('SIGINT', () => {
    cloudwatch.destroy();
    process.exit(0);
  });
  await tick();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`metrics: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
