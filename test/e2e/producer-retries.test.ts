/**
 * Scenario 5: producer retries. PutRecords partial failures are injected by wrapping the Kinesis
 * client's send: the chosen entries are really left out of the request and reported failed, so
 * the producer re-sends only those. Lost responses (the records landed, the producer saw an
 * error) make the producer send the same eventIds twice: downstream must not double count.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { generateTraffic } from '../../scripts/traffic/generator.js';
import { sendTraffic } from '../../scripts/traffic/send.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { expectAlertsMatch, expectMetricsMatch, expectSessionsMatch } from '../helpers/pipeline-truth.js';

jest.setTimeout(180_000);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline('producer');
});
afterAll(async () => {
  await p?.stop();
});

interface Injection {
  partialFailures: number;
  lostResponses: number;
  duplicatesOnStream: number;
}

/** A client whose PutRecords fails every 4th entry once, and loses every 5th response after it landed. */
function faultyKinesis(real: KinesisClient, injected: Injection): KinesisClient {
  let calls = 0;
  const failedOnce = new Set<string>();
  const send = async (command: unknown, ...rest: unknown[]) => {
    if (!(command instanceof PutRecordsCommand))
      return (real.send as (c: unknown, ...r: unknown[]) => Promise<unknown>)(command, ...rest);
    calls += 1;
    const entries = command.input.Records ?? [];
    const keep: number[] = [];
    entries.forEach((entry, i) => {
      const id = Buffer.from(entry.Data!).toString('utf8');
      if (i % 4 === 1 && !failedOnce.has(id)) {
        failedOnce.add(id);
        injected.partialFailures += 1;
      } else keep.push(i);
    });
    const out = (await real.send(
      new PutRecordsCommand({ ...command.input, Records: keep.map((i) => entries[i]!) }),
    )) as PutRecordsCommandOutput;
    if (calls % 5 === 0) {
      injected.lostResponses += 1;
      injected.duplicatesOnStream += keep.length;
      throw Object.assign(new Error('socket hang up (injected after the records landed)'), {
        name: 'TimeoutError',
        $retryable: {},
      });
    }
    const records: PutRecordsCommandOutput['Records'] = entries.map(() => ({
      ErrorCode: 'ProvisionedThroughputExceededException',
      ErrorMessage: 'injected',
    }));
    keep.forEach((i, j) => {
      records![i] = out.Records![j]!;
    });
    return {
      ...out,
      FailedRecordCount: entries.length - keep.length + (out.FailedRecordCount ?? 0),
      Records: records,
    };
  };
  return new Proxy(real, { get: (target, prop) => (prop === 'send' ? send : Reflect.get(target, prop)) });
}

const injected: Injection = { partialFailures: 0, lostResponses: 0, duplicatesOnStream: 0 };
let traffic: ReturnType<typeof generateTraffic>;

test('only failed records are re-sent; duplicate eventIds do not double count sessions or alerts', async () => {
  traffic = generateTraffic({
    seed: 505,
    users: 15,
    events: 400,
    rate: 400,
    fraud: { largePurchase: 1, burst: 1, countryHop: 1 },
  });
  const sent = await sendTraffic(traffic.events, traffic.schedule, {
    kinesis: faultyKinesis(p.clients.kinesis, injected),
    stream: p.resources.streamName,
    tickMs: 50,
  });
  expect(sent.failed).toEqual([]);
  expect(injected.partialFailures).toBeGreaterThan(50);
  expect(injected.duplicatesOnStream).toBeGreaterThan(0);
  const onStream = traffic.events.length + injected.duplicatesOnStream;
  await p.runner.waitForProcessed(onStream, 120_000);
  for (const s of p.runner.stats())
    expect({ fn: s.fn, received: s.received }).toEqual({ fn: s.fn, received: onStream });

  await expectSessionsMatch(p, traffic.truth, { productOrder: false });
  await expectAlertsMatch(p, traffic.truth);
  console.log(
    `producer retries: ${injected.partialFailures} entries failed once and were re-sent, ${injected.lostResponses} lost responses put ${injected.duplicatesOnStream} duplicate records on the stream`,
  );
});

test('duplicate eventIds from producer retries are not double counted in the metrics', async () => {
  expect(traffic).toBeDefined();
  await expectMetricsMatch(p, traffic.truth);
});
