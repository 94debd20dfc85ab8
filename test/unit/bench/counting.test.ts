/**
 * The bench's request counter prices what it sees: DynamoDB units from the exact items (the
 * larger of old and new item for a replacing put, a failed condition still charged, a missing
 * item read at the minimum), CloudWatch metric identities, SNS and SQS volumes.
 */
import { RequestCounter } from '../../../scripts/bench/counting.js';

type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName?: string },
) => (args: unknown) => Promise<unknown>;

/** A client whose stack runs the counter's middleware around a canned answer. */
function fakeClient(counter: RequestCounter, service: string) {
  let middleware: Middleware | undefined;
  counter.attach({ middlewareStack: { add: (m: Middleware) => (middleware = m) } }, service);
  return async (command: string, input: unknown, answer: unknown = {}, fail?: string) => {
    const next = async () => {
      if (fail) throw Object.assign(new Error(fail), { name: fail });
      return { output: answer };
    };
    return (middleware as Middleware)(next, { commandName: `${command}Command` })({ input });
  };
}

const KB = 1024;
const item = (id: string, bytes: number) => ({
  userId: { S: id },
  pad: { S: 'x'.repeat(bytes - 6 - id.length - 3) },
});

describe('RequestCounter pricing', () => {
  it('charges a put by its size, a replacing put by the larger item, and a failed condition too', async () => {
    const counter = new RequestCounter();
    counter.setKeySchema('t', ['userId']);
    const send = fakeClient(counter, 'dynamodb');
    await send('PutItem', { TableName: 't', Item: item('u1', 3 * KB) });
    expect(counter.tally.writeUnits).toBe(3);
    await send('PutItem', { TableName: 't', Item: item('u1', 500) }); // replaces a 3 KB item
    expect(counter.tally.writeUnits).toBe(6);
    await expect(
      send('PutItem', { TableName: 't', Item: item('u2', 1500) }, {}, 'ConditionalCheckFailedException'),
    ).rejects.toThrow();
    expect(counter.tally.writeUnits).toBe(8);
    expect(counter.total('dynamodb')).toBe(3);
  });

  it('charges reads by the items returned, per item for BatchGetItem, the minimum for a missing one', async () => {
    const counter = new RequestCounter();
    const send = fakeClient(counter, 'dynamodb');
    // Outputs may arrive unmarshalled (plain values): both forms are sized alike.
    await send(
      'GetItem',
      { TableName: 't', Key: { userId: { S: 'a' } }, ConsistentRead: true },
      {
        Item: { userId: 'a', pad: 'x'.repeat(9 * KB) },
      },
    );
    expect(counter.tally.readUnits).toBe(3);
    await send('GetItem', { TableName: 't', Key: { userId: { S: 'a' } } }, { Item: item('a', 9 * KB) });
    expect(counter.tally.readUnits).toBe(4.5);
    await send(
      'BatchGetItem',
      {
        RequestItems: { t: { Keys: [{ userId: { S: 'a' } }, { userId: { S: 'b' } }], ConsistentRead: true } },
      },
      { Responses: { t: [item('a', 1.5 * KB)] } },
    );
    expect(counter.tally.readUnits).toBe(6.5);
  });

  it("charges an alert's index writes per index: in, updated, out, and moved (two)", async () => {
    const counter = new RequestCounter();
    counter.setKeySchema('alerts', ['alertId'], {
      indexes: [
        { name: 'pending', keys: ['outbox', 'createdAt'] },
        { name: 'user', keys: ['userId', 'createdAt'] },
        { name: 'status', keys: ['status', 'createdAt'] },
      ],
    });
    const send = fakeClient(counter, 'dynamodb');
    const alert = {
      alertId: { S: 'a1' },
      outbox: { S: 'PENDING' },
      userId: { S: 'u1' },
      status: { S: 'PENDING' },
      createdAt: { N: '1' },
    };
    await send('PutItem', { TableName: 'alerts', Item: alert });
    expect(counter.tally.indexWriteUnits).toBe(3); // enters all three
    await send('UpdateItem', {
      TableName: 'alerts',
      Key: { alertId: { S: 'a1' } },
      UpdateExpression: 'SET claimId = :claim',
      ExpressionAttributeValues: { ':claim': { S: 'c' } },
    });
    expect(counter.tally.indexWriteUnits).toBe(6); // projected everywhere: each entry rewritten
    await send('UpdateItem', {
      TableName: 'alerts',
      Key: { alertId: { S: 'a1' } },
      UpdateExpression: 'SET #status = :sent REMOVE #outbox, claimId',
      ExpressionAttributeNames: { '#status': 'status', '#outbox': 'outbox' },
      ExpressionAttributeValues: { ':sent': { S: 'SENT' } },
    });
    // Leaves `pending` (1), rewritten in `user` (1), moved to another key in `status` (2).
    expect(counter.tally.indexWriteUnits).toBe(10);
    await send('DeleteItem', { TableName: 'alerts', Key: { alertId: { S: 'a1' } } });
    expect(counter.tally.indexWriteUnits).toBe(12); // out of `user` and `status`
  });

  it('keeps CloudWatch metric identities, SNS publishes and SQS messages', async () => {
    const counter = new RequestCounter();
    const cw = fakeClient(counter, 'cloudwatch');
    const datum = (name: string, dims: Array<[string, string]>) => ({
      MetricName: name,
      Dimensions: dims.map(([Name, Value]) => ({ Name, Value })),
    });
    await cw('PutMetricData', {
      Namespace: 'Pulse',
      MetricData: [datum('Events', [['Environment', 'x']]), datum('Events', [['Environment', 'x']])],
    });
    await cw('PutMetricData', {
      Namespace: 'Pulse',
      MetricData: [
        datum('Events', [
          ['EventType', 'a'],
          ['Environment', 'x'],
        ]),
      ],
    });
    expect(counter.tally.putMetricDataRequests).toBe(2);
    expect([...counter.tally.metrics].sort()).toEqual([
      'Pulse|Events|Environment=x',
      'Pulse|Events|Environment=x,EventType=a',
    ]);
    await fakeClient(counter, 'sns')('Publish', { Message: 'm' });
    const sqs = fakeClient(counter, 'sqs');
    await sqs('SendMessage', { MessageBody: 'x'.repeat(100 * KB) });
    await sqs('SendMessageBatch', { Entries: [{ MessageBody: 'a' }, { MessageBody: 'b' }] });
    expect(counter.tally.snsPublishes).toBe(1);
    expect(counter.tally.sqsMessages).toBe(3);
    expect(counter.tally.sqsBilledRequests).toBe(3); // 100 KB is two 64 KB chunks, the batch one
  });
});
