/**
 * One SDK client configuration for every client: bounded retries with the SDK's adaptive
 * back-off, connect and request timeouts well inside the Lambda timeout, and keep-alive sockets
 * reused across invocations. Endpoints come from the standard AWS_ENDPOINT_URL[_<SERVICE>]
 * variables, so the same code talks to AWS, the local emulators or LocalStack.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface SharedClientConfig {
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestHandler: NodeHttpHandler;
}

export function createClientConfig(
  options: { maxAttempts?: number; requestTimeoutMs?: number } = {},
): SharedClientConfig {
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  return {
    maxAttempts: options.maxAttempts ?? 4,
    retryMode: 'adaptive',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 2_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  };
}

export const clientConfig: SharedClientConfig = createClientConfig();
