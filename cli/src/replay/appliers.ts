/**
 * The re-drive target of each function, built with the function's own settings (its deployed
 * environment, or function.json locally), so `pulse replay` applies set-aside records exactly as
 * the function's scheduled re-drive does: through the same code (services/<fn>/redrive.ts).
 */
import type { FunctionName } from '../../../lib/config.js';
import { alertLogFrom } from '../../../services/fraud-rules/alerts.js';
import { loadConfig as fraudConfig } from '../../../services/fraud-rules/config.js';
import { fraudRedriveTarget } from '../../../services/fraud-rules/redrive.js';
import { FraudStateStore } from '../../../services/fraud-rules/store.js';
import { loadConfig as metricsConfig } from '../../../services/metrics-emitter/config.js';
import { metricsRedriveTarget } from '../../../services/metrics-emitter/redrive.js';
import { WatermarkStore } from '../../../services/metrics-emitter/watermarks.js';
import { loadConfig as sessionConfig } from '../../../services/session-updater/config.js';
import { sessionRedriveTarget } from '../../../services/session-updater/redrive.js';
import { SessionStore } from '../../../services/session-updater/store.js';
import { decodeOptions } from '../../../services/shared/config.js';
import type { RedriveTarget } from '../../../services/shared/failure/redrive.js';
import type { Logger } from '../../../services/shared/logger.js';
import { tombstonesFromEnv } from '../../../services/shared/tombstones.js';
import { functionEnvironment } from '../function-env.js';
import type { Target } from '../target.js';

export async function redriveTarget(
  target: Target,
  fn: FunctionName,
  logger: Logger,
  now: () => number,
): Promise<RedriveTarget> {
  const env = await functionEnvironment(target, fn);
  const functionName = target.names.function(fn);
  // The function's own event-time tolerance, so a record is valid here exactly when it was there.
  const decode = decodeOptions(env);
  // Replay drops erased users' records exactly as the function does.
  const tombstones = tombstonesFromEnv(env, target.db, () => target.secrets);
  if (fn === 'session-updater') {
    const config = sessionConfig(env);
    return sessionRedriveTarget({
      store: new SessionStore({
        db: target.db as never,
        tableName: config.tableName,
        closedSessionTtlDays: config.closedSessionTtlDays,
      }),
      sqs: target.sqs as never,
      invalidRecordsQueueUrl: config.invalidRecordsQueueUrl,
      functionName,
      rules: config.rules,
      logger,
      decode,
      tombstones,
    });
  }
  if (fn === 'fraud-rules') {
    const config = fraudConfig(env);
    return fraudRedriveTarget({
      store: new FraudStateStore({
        db: target.db,
        tableName: config.stateTableName,
        ttlDays: config.stateTtlDays,
      }),
      alerts: alertLogFrom(config, { db: target.db, sns: target.sns, now }),
      rules: config.rules,
      logger,
      decode,
      tombstones,
    });
  }
  const config = metricsConfig(env);
  return metricsRedriveTarget({
    cloudwatch: target.cloudwatch,
    watermarks: new WatermarkStore({ db: target.db, tableName: config.watermarksTable }),
    namespace: config.namespace,
    environment: config.environment,
    functionName,
    maxEventTypes: config.maxEventTypes,
    eventTypes: config.eventTypes,
    decode,
    tombstones,
    now,
  });
}
