/**
 * The fault proxy's outages against a stand-in upstream: each takes away exactly what it names
 * (all of DynamoDB, one table, one user's writes, PutMetricData, SNS), lasts until restored, and
 * everything else passes through untouched.
 */
import { createServer, type Server } from 'node:http';
import {
  type FaultProxy,
  namesTable,
  outageRule,
  startFaultProxy,
} from '../../../scripts/local/fault-proxy.js';

let upstream: Server;
let proxy: FaultProxy;
let forwarded = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      forwarded += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const address = upstream.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  proxy = await startFaultProxy(`http://127.0.0.1:${port}`);
});
afterAll(async () => {
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function dynamo(op: string, body: unknown) {
  const res = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'x-amz-target': `DynamoDB_20120810.${op}`, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  });
  await res.text();
  return { status: res.status, type: res.headers.get('x-amzn-errortype') };
}

async function cloudwatch() {
  const res = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData' },
    body: '{}',
  });
  await res.text();
  return res.status;
}

async function sns(action: string) {
  const res = await fetch(proxy.url, { method: 'POST', body: `Action=${action}&Version=2010-03-31` });
  await res.text();
  return res.status;
}

const put = (table: string, userId: string) => ({ TableName: table, Item: { userId: { S: userId } } });

test('all of DynamoDB: every table and operation fails with a 500 until restored', async () => {
  const restore = proxy.takeDown({ service: 'dynamodb' });
  expect(await dynamo('Query', { TableName: 'ledger' })).toEqual({
    status: 500,
    type: 'InternalServerError',
  });
  expect((await dynamo('PutItem', put('sessions', 'u1'))).status).toBe(500);
  expect(await cloudwatch()).toBe(200);
  expect(await sns('Publish')).toBe(200);
  restore();
  restore(); // idempotent
  expect((await dynamo('Query', { TableName: 'ledger' })).status).toBe(200);
});

test('one table: only its requests are throttled, BatchWriteItem and transactions included', async () => {
  const restore = proxy.takeDown({ service: 'dynamodb', table: 'sessions' });
  expect(await dynamo('GetItem', { TableName: 'sessions' })).toEqual({
    status: 400,
    type: 'ProvisionedThroughputExceededException',
  });
  expect((await dynamo('BatchWriteItem', { RequestItems: { sessions: [] } })).status).toBe(400);
  expect((await dynamo('PutItem', put('sessions-archive', 'u1'))).status).toBe(200);
  expect((await dynamo('PutItem', put('ledger', 'u1'))).status).toBe(200);
  restore();
  expect((await dynamo('GetItem', { TableName: 'sessions' })).status).toBe(200);
});

test("one user's writes: only writes naming that user fail; reads and other users pass", async () => {
  const restore = proxy.takeDown({ service: 'dynamodb', user: 'user-7' });
  expect((await dynamo('PutItem', put('sessions', 'user-7'))).status).toBe(500);
  expect(
    (await dynamo('BatchWriteItem', { RequestItems: { sessions: [put('sessions', 'user-7')] } })).status,
  ).toBe(500);
  expect((await dynamo('PutItem', put('sessions', 'user-70'))).status).toBe(200);
  expect(
    (await dynamo('BatchGetItem', { RequestItems: { sessions: { Keys: [{ userId: 'user-7' }] } } })).status,
  ).toBe(200);
  restore();
  expect((await dynamo('PutItem', put('sessions', 'user-7'))).status).toBe(200);
});

test("one user's deterministic failure: a 400 ValidationException, as for an item over 400 KB", async () => {
  const restore = proxy.takeDown({ service: 'dynamodb', user: 'user-9', deterministic: true });
  expect(await dynamo('PutItem', put('sessions', 'user-9'))).toEqual({
    status: 400,
    type: 'ValidationException',
  });
  expect((await dynamo('PutItem', put('sessions', 'user-8'))).status).toBe(200);
  restore();
  expect(() => outageRule({ service: 'dynamodb', deterministic: true })).toThrow(/one user/);
});

test('CloudWatch and SNS: PutMetricData and Publish fail until restored', async () => {
  const restoreCw = proxy.takeDown({ service: 'cloudwatch' });
  const restoreSns = proxy.takeDown({ service: 'sns' });
  expect(await cloudwatch()).toBe(500);
  expect(await sns('Publish')).toBe(500);
  expect((await dynamo('Query', { TableName: 'ledger' })).status).toBe(200);
  restoreCw();
  expect(await cloudwatch()).toBe(200);
  expect(await sns('Publish')).toBe(500);
  restoreSns();
  expect(await sns('Publish')).toBe(200);
});

test('an outage counts what it failed, and what it did not touch reached the upstream', async () => {
  const before = { injected: proxy.injected(), forwarded };
  const restore = proxy.takeDown({ service: 'cloudwatch' });
  for (let i = 0; i < 3; i += 1) await cloudwatch();
  await sns('Publish');
  restore();
  expect({ injected: proxy.injected() - before.injected, forwarded: forwarded - before.forwarded }).toEqual({
    injected: 3,
    forwarded: 1,
  });
});

test('rules: a table and a user together are refused; namesTable reads the request shapes', () => {
  expect(() => outageRule({ service: 'dynamodb', table: 't', user: 'u' })).toThrow(/one table or one user/);
  expect(namesTable(JSON.stringify({ TableName: 't' }), 't')).toBe(true);
  expect(namesTable(JSON.stringify({ TableName: 't2' }), 't')).toBe(false);
  expect(namesTable(JSON.stringify({ RequestItems: { t: {} } }), 't')).toBe(true);
  expect(namesTable(JSON.stringify({ TransactItems: [{ Put: { TableName: 't' } }] }), 't')).toBe(true);
  expect(namesTable('Action=Publish', 't')).toBe(false);
  expect(namesTable('null', 't')).toBe(false);
});
