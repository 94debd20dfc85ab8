/**
 * Structured JSON logs, one object per line, written by Powertools for AWS Lambda Logger so the
 * field names are the ones operators and CloudWatch Logs Insights queries already know: `level`,
 * `message`, `timestamp`, `service`, and once a handler has added its Lambda context,
 * `function_request_id`, `function_name`, `function_version`, `cold_start`, plus `xray_trace_id`
 * whenever the invocation carries a trace. Errors (at any depth of the context) are written with
 * name, message, stack, their own fields (the SDK's `$metadata`: requestId, httpStatusCode) and
 * their `cause` chain.
 *
 * Call sites see only the small `Logger` interface below, so they do not depend on Powertools,
 * and tests pass `silentLogger` or a logger with a `write` hook.
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type {
  ConstructorOptions,
  LogAttributes,
  UnformattedAttributes,
} from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** The logger a handler owns: it adds each invocation's Lambda context to every entry. */
export interface FunctionLogger extends Logger {
  addContext(context: Context): void;
}

/**
 * Fields the logger writes itself. A context key with one of these names is written as
 * `context_<name>`: it must neither replace the field operators filter on (Powertools would let
 * `function_request_id` through and replace it) nor vanish (Powertools drops `level` or
 * `service` with only a warning).
 */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'function_version',
  'xray_trace_id',
  'tenant_id',
]);

/** Powertools' own layout plus `function_version`, which its default formatter leaves out. */
class PulseLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: lambda?.coldStart,
        function_arn: lambda?.invokedFunctionArn,
        function_memory_size: lambda?.memoryLimitInMB,
        function_name: lambda?.functionName,
        function_version: lambda?.functionVersion,
        function_request_id: lambda?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        tenant_id: lambda?.tenantId,
      },
    }).addAttributes(additional);
  }
}

/** Powertools writes through its own `Console`; a `write` hook lets tests read the exact line. */
class PulseLogger extends PowertoolsLogger {
  readonly #write: ((line: string) => void) | undefined;

  constructor(service: string, level: string | undefined, write: ((line: string) => void) | undefined) {
    super({
      serviceName: service,
      logLevel: level as ConstructorOptions['logLevel'],
      logFormatter: new PulseLogFormatter(),
    });
    this.#write = write;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.#write) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.#write(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

function guardReserved(context: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!context) return {};
  let guarded: Record<string, unknown> | undefined;
  for (const key of Object.keys(context)) {
    if (!RESERVED_FIELDS.has(key)) continue;
    guarded ??= { ...context };
    delete guarded[key];
    guarded[`context_${key}`] = context[key];
  }
  return guarded ?? context;
}

/**
 * A logger for `service`. The level is `level` if given, else POWERTOOLS_LOG_LEVEL, else
 * LOG_LEVEL (any case; Powertools itself only reads upper case from the environment), else INFO.
 */
export function createLogger(
  service: string,
  level: string | undefined = process.env.POWERTOOLS_LOG_LEVEL || process.env.LOG_LEVEL,
  write?: (line: string) => void,
): FunctionLogger {
  const logger = new PulseLogger(service, level?.toUpperCase(), write);
  return {
    debug: (m, c) => logger.debug(m, guardReserved(c)),
    info: (m, c) => logger.info(m, guardReserved(c)),
    warn: (m, c) => logger.warn(m, guardReserved(c)),
    error: (m, c) => logger.error(m, guardReserved(c)),
    addContext: (context) => logger.addContext(context),
  };
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
