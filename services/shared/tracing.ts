/**
 * X-Ray subsegments for the SDK calls a function makes, only in environments that run with X-Ray
 * active: Terraform sets TRACING_MODE from its `tracing_mode` variable ("Active" or
 * "PassThrough"). Powertools Tracer and the X-Ray SDK it wraps weigh about 124 KiB and 19 ms of
 * module load (CPU, measured), so they are imported only when tracing is active; the build puts
 * them in dist/<fn>/tracer.mjs, which other environments never read.
 */
import type { Logger } from './logger.js';

export function tracingActive(env: Record<string, string | undefined> = process.env): boolean {
  return env.TRACING_MODE === 'Active';
}

/**
 * Instruments `clients` (SDK v3 clients; a DynamoDB document client shares its client's
 * middleware) when tracing is active. Started at module scope and awaited by the handler before
 * the first call. It never rejects: a function that cannot load the tracer logs the error and
 * runs untraced rather than failing every batch for want of traces.
 */
export async function traceClients(
  service: string,
  clients: readonly object[],
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  if (!tracingActive(env)) return;
  try {
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    // Only the SDK clients: the functions make no other HTTP calls, and patching the global
    // http/https modules as well would trace every SDK request twice.
    const tracer = new Tracer({ serviceName: service, captureHTTPsRequests: false });
    for (const client of clients) tracer.captureAWSv3Client(client);
    logger.debug('SDK clients traced with X-Ray', {
      clients: clients.length,
      enabled: tracer.isTracingEnabled(),
    });
  } catch (err) {
    logger.error('X-Ray tracing could not be set up; running untraced', { error: err });
  }
}
