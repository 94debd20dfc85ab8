/**
 * Structured JSON logs: a constant message plus a context object, one line per entry, so
 * CloudWatch Logs Insights can filter on fields. Small on purpose: it ships in every bundle.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'INFO',
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const threshold = ORDER[level.toUpperCase() as LogLevel] ?? ORDER.INFO;
  const emit = (lvl: LogLevel, message: string, context: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < threshold) return;
    const entry: Record<string, unknown> = {
      level: lvl,
      message,
      service,
      timestamp: new Date().toISOString(),
    };
    for (const [k, v] of Object.entries(context)) entry[k] = serialise(v);
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, c) => emit('DEBUG', m, c),
    info: (m, c) => emit('INFO', m, c),
    warn: (m, c) => emit('WARN', m, c),
    error: (m, c) => emit('ERROR', m, c),
  };
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
