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
