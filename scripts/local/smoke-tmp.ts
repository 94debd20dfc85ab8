import { publishBatch } from '../../services/producer/index.js';
import { makeClients } from './aws.js';
import { createResources } from './resources.js';
import { formatStats, startRunner } from './runner.js';
import { startStack, stopStack } from './stack.js';

const t0 = Date.now();
const s = await startStack({ stateDir: '.local/smoke' });
try {
  const c = makeClients(s.endpoints);
  const r = await createResources(c);
  const runner = await startRunner({ endpoints: s.endpoints, resources: r, stateDir: '.local/smoke' });
  console.log('runner up', Date.now() - t0);
  const now = Date.now();
  const events = Array.from({ length: 600 }, (_, i) => ({
    eventId: `e${i}`,
    userId: `u${i % 20}`,
    eventType: i % 10 === 9 ? 'purchase' : 'product_view',
    timestamp: now + i,
    data: i % 10 === 9 ? { amount: 10, currency: 'USD', orderId: `o${i}` } : { productId: `p${i % 7}` },
  }));
  const tp = Date.now();
  const res = await publishBatch(events, { kinesis: c.kinesis, stream: r.streamName });
  console.log('put', res.sent, res.failed.length, Date.now() - tp);
  await runner.waitForProcessed(600, 60_000);
  console.log('processed', Date.now() - tp);
  console.log(formatStats(runner.stats(), runner.startedAt));
  await runner.stop();
  c.destroy();
} finally {
  await stopStack(s);
}
