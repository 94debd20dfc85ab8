import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { clientConfig, createClientConfig } from '../../../services/shared/clients.js';

const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

describe('createClientConfig', () => {
  let server: Server;
  let endpoint: string;
  let connections = 0;
  // Requests to /hang are never answered.
  const hanging: Array<() => void> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.startsWith('/hang')) {
          hanging.push(() => res.destroy());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r' });
        res.end(JSON.stringify({ TableNames: [] }));
      });
    });
    server.on('connection', () => {
      connections += 1;
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const end of hanging) end();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('keeps the defaults: 4 attempts, adaptive retries; options override per client', () => {
    expect(clientConfig).toMatchObject({ maxAttempts: 4, retryMode: 'adaptive' });
    expect(createClientConfig({ maxAttempts: 2, requestTimeoutMs: 500 })).toMatchObject({
      maxAttempts: 2,
      requestHandler: { requestTimeout: 500, connectionTimeout: 2_000 },
    });
  });

  it('hands the SDK its own request handler options, not a handler built here', () => {
    const { requestHandler } = createClientConfig();
    expect(Object.getPrototypeOf(requestHandler)).toBe(Object.prototype);
    expect(requestHandler.httpAgent).toMatchObject({ keepAlive: true });
    expect(requestHandler.httpsAgent).toMatchObject({ keepAlive: true });
  });

  it('reuses one kept-alive connection for consecutive calls', async () => {
    const client = new DynamoDBClient({ ...LOCAL, ...createClientConfig(), endpoint });
    try {
      const before = connections;
      await client.send(new ListTablesCommand({}));
      await client.send(new ListTablesCommand({}));
      await client.send(new ListTablesCommand({}));
      expect(connections - before).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it('fails a request that outlives the request timeout with a TimeoutError, instead of only warning', async () => {
    const client = new DynamoDBClient({
      ...LOCAL,
      ...createClientConfig({ maxAttempts: 1, requestTimeoutMs: 100 }),
      endpoint: `${endpoint}/hang`,
    });
    try {
      await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      client.destroy();
    }
  });
});
