/**
 * Load generator: seeded, realistic traffic through the producer library onto the stream.
 *   npm run produce -- --rate 100 --duration 30 --users 50 --fraud large,burst,hop --seed 7
 * Endpoints from AWS_ENDPOINT_URL[_KINESIS], else the running local stack (.local/stack.json).
 */

import { type Endpoints, endpointsFromEnv, makeClients } from '../lib/aws.js';
import { loadResources, physicalName } from '../lib/config.js';
import { formatTotals } from '../services/shared/money.js';
import { LOCAL_ENVIRONMENT } from './local/resources.js';
import { readState } from './local/stack.js';
import { progress } from './progress.js';
import { parseProduceArgs, trafficFor, UsageError } from './traffic/args.js';
import { sendTraffic } from './traffic/send.js';

// Node 20 is supported by this project; the SDK's notice about its future minimum is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const args = parseProduceArgs(process.argv.slice(2));
  const endpoints: Endpoints | undefined = endpointsFromEnv() ?? readState()?.endpoints;
  if (!endpoints) throw new UsageError('no endpoint: run `make local-up` first, or set AWS_ENDPOINT_URL');
  const stream = args.stream ?? physicalName(LOCAL_ENVIRONMENT, loadResources().stream.name);
  const traffic = trafficFor(args);
  console.error(
    `seed ${args.seed}: ${traffic.events.length} events for ${args.users} users to ${stream} at ${args.rate}/s`,
  );
  const clients = makeClients(endpoints);
  const bar = progress({ total: traffic.events.length, label: 'sent' });
  const result = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: clients.kinesis,
    stream,
    onProgress: (sent, failed) => {
      if (!args.quiet) bar.update(sent + failed, `sent ${sent} failed ${failed}`);
    },
  });
  bar.finish();
  clients.destroy();
  const t = traffic.truth;
  console.log(
    [
      `sent      ${result.sent}`,
      `failed    ${result.failed.length}${result.failed.length ? ` (${[...new Set(result.failed.map((f) => f.errorCode))].join(', ')})` : ''}`,
      `rate      ${result.rate.toFixed(1)} events/s achieved (asked ${args.rate}) over ${result.seconds.toFixed(1)} s, ${result.requests} PutRecords`,
      `mix       ${Object.entries(t.byType)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      `purchases ${t.purchases}, revenue ${formatTotals(t.revenue)}; expected alerts ${t.alerts.length}; sessions ${t.sessionsOpened} (${t.sessionsClosed} closed)`,
    ].join('\n'),
  );
  if (result.failed.length > 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(err instanceof UsageError ? err.message : `produce failed: ${err.message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
