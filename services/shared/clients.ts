/**
 * One SDK client configuration for every client: bounded retries with the SDK's adaptive
 * back-off, connect and request timeouts well inside the Lambda timeout, and keep-alive sockets
 * reused across invocations. Endpoints come from the standard AWS_ENDPOINT_URL[_<SERVICE>]
 * variables, so the same code talks to AWS, the local emulators or LocalStack.
 *
 * The request handler is given as the SDK's own options object: each client builds its default
 * handler (HTTP/1.1 for DynamoDB, SQS, SNS and CloudWatch) from it, and the agents from the agent
 * options, so no handler package is imported here.
 */
import type { AgentOptions } from 'node:https';

export interface RequestHandlerOptions {
  connectionTimeout: number;
  requestTimeout: number;
  /**
   * Without it the SDK only logs a warning when `requestTimeout` passes and keeps waiting, so a
   * hung request would hold the batch until the Lambda timeout.
   */
  throwOnRequestTimeout: boolean;
  httpAgent: AgentOptions;
  httpsAgent: AgentOptions;
}

export interface SharedClientConfig {
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestHandler: RequestHandlerOptions;
}

export interface ClientOptions {
  maxAttempts?: number;
  requestTimeoutMs?: number;
}

export function createClientConfig(options: ClientOptions = {}): SharedClientConfig {
  // http for the local emulators, https for AWS; each client gets agents of its own.
  const agent: AgentOptions = { keepAlive: true, maxSockets: 50 };
  return {
    maxAttempts: options.maxAttempts ?? 4,
    retryMode: 'adaptive',
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
      httpAgent: { ...agent },
      httpsAgent: { ...agent },
    },
  };
}

export const clientConfig: SharedClientConfig = createClientConfig();

/**
 * The SNS variant, for every client that publishes alerts: fewer, shorter attempts, so one Publish
 * with all its retries fits well inside an alert claim's lease (services/fraud-rules/alerts.ts
 * checks that it does before publishing, and aborts the call at the lease's end regardless).
 */
export const snsClientConfig: SharedClientConfig = createClientConfig({
  maxAttempts: 3,
  requestTimeoutMs: 5_000,
});

/** The SDK's longest back-off before retry n (base 100 ms, doubling, capped at 20 s). */
const backoffCapMs = (n: number) => Math.min(20_000, 100 * 2 ** n);

/**
 * The longest one call can take with a configuration: every attempt connecting and then timing
 * out, plus the SDK's longest back-off between attempts.
 */
export function maxCallMs(config: SharedClientConfig): number {
  const { connectionTimeout, requestTimeout } = config.requestHandler;
  let total = config.maxAttempts * (connectionTimeout + requestTimeout);
  for (let n = 1; n < config.maxAttempts; n += 1) total += backoffCapMs(n);
  return total;
}
