/**
 * A pass-through HTTP proxy between one function and its AWS endpoint that can fail chosen
 * requests, so tests inject the transient errors a real service returns (throttling, 500s)
 * without touching the function's code. Rules match the operation (X-Amz-Target / Action) and a
 * substring of the body, and fire a given number of times. `takeDown` is an outage that lasts
 * until its restore function is called: all of DynamoDB, one table throttled, one user's writes,
 * CloudWatch PutMetricData or SNS.
 */
import { createServer, request, type Server } from 'node:http';

export interface FaultRule {
  /** Substring of the operation, e.g. 'PutItem', 'BatchWriteItem', 'Publish', 'PutMetricData'. */
  operation?: string;
  /** Any of these operation substrings (with `operation`, both must match). */
  operations?: readonly string[];
  /** Only requests on this table (its TableName, or a key of RequestItems / TransactItems' TableName). */
  table?: string;
  /** Substring the request body must contain, e.g. a userId. */
  bodyIncludes?: string;
  /** How many matching requests fail (Infinity: until the rule is removed). */
  times: number;
  status?: number;
  errorType?: string;
  /** Hold the request this long before answering (a slow service). */
  delayMs?: number;
  /**
   * Let the service carry out the request, then cut the connection before the response reaches
   * the caller: a lost response, which the SDK retries (the request is sent again).
   */
  dropResponse?: boolean;
}

/**
 * What an outage takes away. DynamoDB: every request (500 InternalServerError), or only `table`'s
 * (throttled: ProvisionedThroughputExceededException), or only the writes whose body names `user`
 * (500; with `deterministic`, the 400 ValidationException DynamoDB gives an item over 400 KB,
 * which no retry cures). CloudWatch: PutMetricData (500). SNS: Publish (500 InternalError).
 */
export type Outage =
  | { service: 'dynamodb'; table?: string; user?: string; deterministic?: boolean }
  | { service: 'cloudwatch' }
  | { service: 'sns' };

const DYNAMO_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

/** The rule an outage stands for (exported for its unit test). */
export function outageRule(outage: Outage): FaultRule {
  const times = Number.POSITIVE_INFINITY;
  switch (outage.service) {
    case 'dynamodb': {
      const base = { operation: 'DynamoDB_20120810.', times };
      if (outage.table && outage.user)
        throw new Error('a DynamoDB outage takes one table or one user, not both');
      if (outage.table)
        return {
          ...base,
          table: outage.table,
          status: 400,
          errorType: 'ProvisionedThroughputExceededException',
        };
      if (outage.user)
        return {
          ...base,
          operations: DYNAMO_WRITES,
          bodyIncludes: JSON.stringify(outage.user),
          ...(outage.deterministic
            ? { status: 400, errorType: 'ValidationException' }
            : { status: 500, errorType: 'InternalServerError' }),
        };
      if (outage.deterministic) throw new Error("a deterministic DynamoDB failure is one user's");
      return { ...base, status: 500, errorType: 'InternalServerError' };
    }
    case 'cloudwatch':
      return { operation: 'PutMetricData', times, status: 500, errorType: 'InternalServiceError' };
    case 'sns':
      return { operation: 'Publish', times, status: 500, errorType: 'InternalError' };
  }
}

/** True when a JSON request body is about `table` (TableName, RequestItems keys, TransactItems). */
export function namesTable(body: string, table: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return false;
  }
  if (json === null || typeof json !== 'object') return false;
  const o = json as { TableName?: unknown; RequestItems?: unknown; TransactItems?: unknown };
  if (o.TableName === table) return true;
  if (o.RequestItems && typeof o.RequestItems === 'object' && table in o.RequestItems) return true;
  if (Array.isArray(o.TransactItems))
    return o.TransactItems.some((item) =>
      Object.values(item as Record<string, { TableName?: unknown }>).some((op) => op?.TableName === table),
    );
  return false;
}

export interface FaultProxy {
  url: string;
  addRule(rule: FaultRule): void;
  /** Starts an outage; the returned function ends it (idempotent). */
  takeDown(outage: Outage): () => void;
  /** Drops every rule: the service recovers. */
  clearRules(): void;
  /** Requests failed so far. */
  injected(): number;
  close(): Promise<void>;
}

function operationOf(headers: Record<string, string | string[] | undefined>, body: string): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target;
  const action = /(?:^|&)Action=([^&]+)/.exec(body);
  return action?.[1] ?? '';
}

export function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: Array<FaultRule & { left: number }> = [];
  let injected = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const op = operationOf(req.headers, text);
      const rule = rules.find(
        (r) =>
          r.left > 0 &&
          (!r.operation || op.includes(r.operation)) &&
          (!r.operations || r.operations.some((o) => op.includes(o))) &&
          (!r.table || namesTable(text, r.table)) &&
          (!r.bodyIncludes || text.includes(r.bodyIncludes)),
      );
      const forward = (drop = false) => {
        const up = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (upRes) => {
            if (drop) {
              upRes.resume();
              upRes.on('end', () => req.socket.destroy());
              return;
            }
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', (err) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
        up.end(body);
      };
      if (!rule) return forward();
      rule.left -= 1;
      if (rule.dropResponse) {
        injected += 1;
        return forward(true);
      }
      const fail = () => {
        if (rule.status === undefined && rule.errorType === undefined && rule.delayMs !== undefined)
          return forward();
        injected += 1;
        const status = rule.status ?? 400;
        const type = rule.errorType ?? 'ProvisionedThroughputExceededException';
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
        res.end(JSON.stringify({ __type: type, message: 'injected by the local fault proxy' }));
      };
      if (rule.delayMs) setTimeout(fail, rule.delayMs);
      else fail();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        addRule: (rule) => rules.push({ ...rule, left: rule.times }),
        takeDown: (outage) => {
          const rule = { ...outageRule(outage), left: Number.POSITIVE_INFINITY };
          rules.push(rule);
          return () => {
            const i = rules.indexOf(rule);
            if (i >= 0) rules.splice(i, 1);
          };
        },
        clearRules: () => {
          rules.length = 0;
        },
        injected: () => injected,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
