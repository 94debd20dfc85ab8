/**
 * A function's environment as the function has it, so the CLI runs the function's own code with
 * the same settings: a deployed function's configuration (a Terraform override applies), locally
 * function.json plus the resource variables the local stack would set.
 */
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { type DeployedFunction, loadFunction, loadResources } from '../../lib/config.js';
import type { Target } from './target.js';

export async function functionEnvironment(
  target: Target,
  fn: DeployedFunction,
): Promise<Record<string, string | undefined>> {
  if (target.env !== 'local') {
    const out = await target.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: target.names.function(fn) }),
    );
    return { ...(out.Environment?.Variables ?? {}) };
  }
  const spec = loadFunction(fn);
  const env: Record<string, string | undefined> = { ...spec.environment, ENVIRONMENT: target.env };
  for (const [variable, ref] of Object.entries(spec.resources.tables))
    env[variable] = target.names.table(ref.table);
  for (const [variable, ref] of Object.entries(spec.resources.queues))
    env[variable] = await target.queueUrl(target.names.queue(ref.queue));
  for (const [variable, ref] of Object.entries(spec.resources.topics))
    env[variable] = await target.topicArn(ref.topic);
  for (const [variable, ref] of Object.entries(spec.resources.secrets ?? {}))
    env[variable] = target.names.secret(ref.secret);
  for (const [variable, ref] of Object.entries(spec.resources.buckets ?? {}))
    env[variable] = target.names.bucket(ref.bucket);
  if (spec.resources.putMetricData) env.METRICS_NAMESPACE = loadResources().metrics.namespace;
  return env;
}
