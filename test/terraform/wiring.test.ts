// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations
// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output is untyped JSON walked by path
/**
 * Terraform wiring that `terraform validate` cannot see, asserted on the parsed HCL
 * (@cdktf/hcl2json) against the single sources of truth: services/resources.json and
 * services/<fn>/function.json. No provider, no network.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';
import { moduleDocs, splice } from '../../scripts/tf/module-docs.js';
import { ALERT_PARKED_MESSAGE } from '../../services/fraud-rules/alerts.js';
import { parseRules } from '../../services/fraud-rules/rules.js';
import { PARKED_METRIC } from '../../services/shared/parked-metric.js';

type Json = any;

const root = join(__dirname, '..', '..');
const tf = join(root, 'terraform');
const services = join(root, 'services');
const ENVS = ['dev', 'staging', 'prod'] as const;
const FUNCTIONS = ['archive-writer', 'fraud-rules', 'metrics-emitter', 'session-updater'];

const resources: Json = JSON.parse(readFileSync(join(services, 'resources.json'), 'utf8'));
const functionDirs = readdirSync(services).filter((d) => existsSync(join(services, d, 'function.json')));
const fnConfig: Record<string, Json> = Object.fromEntries(
  functionDirs.map((d) => [d, JSON.parse(readFileSync(join(services, d, 'function.json'), 'utf8'))]),
);

const parsed: Record<string, Json> = {};
async function mod(dir: string): Promise<Json> {
  parsed[dir] ??= await convertFiles(join(tf, dir));
  return parsed[dir];
}
const one = (blocks: Json[] | undefined, what: string): Json => {
  expect(blocks).toBeDefined();
  expect(blocks).toHaveLength(1);
  if (!blocks) throw new Error(what);
  return blocks[0];
};
const ref = (expr: string) => `\${${expr}}`;
const camelToSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function walkFiles(dir: string, ext: RegExp, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === '.terraform') continue;
    const st = lstatSync(p);
    if (st.isDirectory()) walkFiles(p, ext, out);
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

describe('functions: the source of truth', () => {
  test('exactly the four stream consumers have a function.json', () => {
    expect(functionDirs.sort()).toEqual(FUNCTIONS);
  });

  test.each(FUNCTIONS)('%s: function.json names only resources that resources.json declares', (fn) => {
    const r = fnConfig[fn].resources;
    for (const t of Object.values<Json>(r.tables)) {
      expect(Object.keys(resources.tables)).toContain(t.table);
      // an index grant names an index the table declares, with explicit actions
      const declared = (resources.tables[t.table]?.globalSecondaryIndexes ?? []).map((i: Json) => i.name);
      for (const [index, actions] of Object.entries<Json>(t.indexes ?? {})) {
        expect({ table: t.table, index, declared: declared.includes(index) }).toEqual({
          table: t.table,
          index,
          declared: true,
        });
        for (const a of actions) expect(a).toMatch(/^dynamodb:[A-Za-z]+$/);
      }
    }
    for (const q of Object.values<Json>(r.queues)) expect(Object.keys(resources.queues)).toContain(q.queue);
    for (const t of Object.values<Json>(r.topics)) expect(Object.keys(resources.topics)).toContain(t.topic);
    for (const group of ['tables', 'queues', 'topics']) {
      for (const [envVar, grant] of Object.entries<Json>(r[group])) {
        expect(envVar).toMatch(/^[A-Z][A-Z0-9_]*$/);
        expect(grant.actions.length).toBeGreaterThan(0);
        for (const a of grant.actions) expect(a).toMatch(/^[a-z0-9]+:[A-Za-z]+$/); // no wildcards
      }
    }
  });

  test.each(FUNCTIONS)(
    '%s: Lambda never gives up on a batch while the stream keeps it (retries and record age -1)',
    (fn) => {
      const m = fnConfig[fn].eventSourceMapping;
      expect(['TRIM_HORIZON', 'LATEST']).toContain(m.startingPosition);
      // A transient outage costs latency only; deterministic failures are set aside per user by the function.
      expect({ retries: m.maximumRetryAttempts, age: m.maximumRecordAgeInSeconds }).toEqual({
        retries: -1,
        age: -1,
      });
      // Per-user functions bisect to isolate a user; per-shard ones (metrics, archive) write whole segments.
      expect(m.bisectBatchOnFunctionError || fn === 'metrics-emitter' || fn === 'archive-writer').toBe(true);
      expect(m.batchSize).toBeLessThanOrEqual(10000);
    },
  );
});

describe('modules/pulse: everything is read from services/', () => {
  let pulse: Json;
  let call: Json;
  beforeAll(async () => {
    pulse = await mod('modules/pulse');
    call = one(pulse.module.functions, 'module.functions');
  });
  const locals = () => Object.assign({}, ...pulse.locals);

  test('function.json and resources.json are decoded with jsondecode(file(...))', () => {
    const l = locals();
    expect(l.resources).toBe(ref('jsondecode(file("${local.services_dir}/resources.json"))'));
    expect(l.functions).toContain('fileset(local.services_dir, "*/function.json")');
    expect(l.functions).toContain('jsondecode(file(');
    expect(l.namespace).toBe(ref('local.resources.metrics.namespace'));
    expect(resources.metrics.namespace).toBe('Pulse');
  });

  test("retention and record age agree: the stream's retention reaches each mapping's precondition", async () => {
    expect(call.stream_retention_hours).toBe(ref('var.stream.retention_hours'));
    const cf = await mod('modules/consumer-function');
    const esm = one(cf.resource.aws_lambda_event_source_mapping.this, 'mapping');
    const pre = one(one(esm.lifecycle, 'lifecycle').precondition, 'precondition');
    expect(pre.condition).toBe(
      ref(
        'var.event_source_mapping.maximum_record_age_in_seconds == -1 || var.event_source_mapping.maximum_record_age_in_seconds <= (var.stream_retention_hours - var.replay_window_hours) * 3600',
      ),
    );
  });

  test.each(ENVS)(
    '%s: every function keeps a record while the stream does, or leaves time to replay',
    async (env) => {
      const r = await mod(`envs/${env}`);
      const hours: number = one(r.locals, 'locals').settings.stream.retention_hours;
      for (const fn of FUNCTIONS) {
        const age: number = fnConfig[fn].eventSourceMapping.maximumRecordAgeInSeconds;
        // 6: replay_window_hours' default in modules/consumer-function.
        expect({ fn, ok: age === -1 || age <= (hours - 6) * 3600 }).toEqual({ fn, ok: true });
      }
    },
  );

  test('one consumer-function per function.json (for_each)', () => {
    expect(call.source).toBe('../consumer-function');
    expect(call.for_each).toBe(ref('local.fn'));
    expect(locals().fn).toContain('for k, c in local.functions');
  });

  test('every eventSourceMapping setting of function.json reaches the mapping, unchanged', () => {
    const esm = call.event_source_mapping;
    const keys = new Set(FUNCTIONS.flatMap((fn) => Object.keys(fnConfig[fn].eventSourceMapping)));
    // per_shard_state is derived (the function keeps per-shard watermarks), not a mapping setting
    expect(Object.keys(esm).sort()).toEqual([...[...keys].map(camelToSnake), 'per_shard_state'].sort());
    expect(esm.per_shard_state).toBe(ref('each.value.per_shard_state'));
    for (const k of keys) expect(esm[camelToSnake(k)]).toBe(ref(`each.value.event_source_mapping.${k}`));
    expect(locals().fn).toContain('event_source_mapping = c.eventSourceMapping');
  });

  test('memory, timeout, description and the static environment come from function.json', () => {
    const fn = locals().fn as string;
    const pairs: Array<[string, string]> = [
      ['memory_size', 'memorySize'],
      ['timeout', 'timeout'],
      ['description', 'description'],
    ];
    for (const [tfName, jsonName] of pairs) {
      expect(fn).toMatch(new RegExp(`${tfName}\\s*=\\s*c\\.${jsonName}\\b`));
      expect(call[tfName]).toBe(ref(`each.value.${tfName}`));
    }
    expect(fn).toMatch(/environment\s*=\s*tomap\(c\.environment\)/);
    expect(fn).toMatch(/put_metric_data\s*=\s*c\.resources\.putMetricData/);
  });

  test('environment = function.json environment + ENVIRONMENT + MAX_EVENT_AHEAD_SECONDS + TRACING_MODE + one variable per resource + METRICS_NAMESPACE + FRAUD_RULES', () => {
    const env = call.environment_variables as string;
    expect(env.startsWith('${merge(')).toBe(true);
    expect(env).toContain('each.value.environment,');
    expect(env).toContain('{ ENVIRONMENT = var.environment }');
    expect(env).toContain('{ MAX_EVENT_AHEAD_SECONDS = tostring(var.max_event_ahead_seconds) }');
    expect(env).toContain('{ TRACING_MODE = var.tracing_mode }');
    expect(env).toContain('{ for env, r in each.value.tables : env => module.tables.names[r.key] }');
    expect(env).toContain('{ for env, r in each.value.queues : env => local.queue_urls[r.key] }');
    expect(env).toContain('{ for env, r in each.value.topics : env => local.topic_arns[r.key] }');
    expect(env).toContain('each.value.put_metric_data ? { METRICS_NAMESPACE = local.namespace } : {}');
    expect(env).toContain('{ FRAUD_RULES = local.fraud_rules_json }');
    // later merge arguments win: the per-environment FRAUD_RULES must come after the static environment
    expect(env.indexOf('FRAUD_RULES')).toBeGreaterThan(env.indexOf('each.value.environment'));
  });

  test('each role is granted exactly its own function.json resources', () => {
    const access = call.resource_access as string;
    expect(access).toContain(
      '{ for env, r in each.value.tables : env => { arns = [module.tables.arns[r.key]], actions = r.actions } }',
    );
    // index reads: exactly the actions function.json lists per index, on that index's ARN only
    expect(access).toContain(
      '{ for k, g in each.value.index_grants : k => { arns = [module.tables.index_arns[g.key][g.index]], actions = g.actions } }',
    );
    expect(locals().fn).toContain(
      'for idx, actions in try(r.indexes, {}) : "${env}_INDEX_${idx}" => { key = r.table, index = idx, actions = tolist(actions) }',
    );
    expect(access).toContain(
      '{ for env, r in each.value.queues : env => { arns = [local.queue_arns[r.key]], actions = r.actions } }',
    );
    expect(access).toContain(
      '{ for env, r in each.value.topics : env => { arns = [local.topic_arns[r.key]], actions = r.actions } }',
    );
    expect(access).not.toMatch(/\*/);
    expect(call.put_metric_data).toBe(ref('each.value.put_metric_data'));
  });

  test('FRAUD_RULES covers every rule parameter of the seed in function.json', () => {
    const seed = JSON.parse(fnConfig['fraud-rules'].environment.FRAUD_RULES);
    const expr = locals().fraud_rules_json as string;
    for (const [rule, params] of Object.entries<any>(seed)) {
      if (typeof params !== 'object') {
        expect(expr).toContain(`local.fraud_seed.${rule})`);
        continue;
      }
      for (const p of Object.keys(params)) {
        if (p === 'enabled') expect(expr).toContain(`!contains(local.fr.disabled_rules, "${rule}")`);
        else expect(expr).toContain(`local.fraud_seed.${rule}.${p})`);
      }
    }
  });

  test('every resources.json table, queue and topic is created', () => {
    const tables = one(pulse.module.tables, 'module.tables');
    expect(tables.tables).toContain('for k, t in local.resources.tables');
    expect(tables.tables).toMatch(/hash_key\s*=\s*t\.hashKey/);
    expect(tables.tables).toMatch(/range_key\s*=\s*try\(t\.rangeKey, null\)/);
    expect(tables.tables).toMatch(/ttl_attribute\s*=\s*try\(t\.ttlAttribute, null\)/);
    expect(one(pulse.resource.aws_sqs_queue.resource, 'queues').for_each).toBe(ref('local.resources.queues'));
    expect(Object.keys(resources.topics)).toEqual(['alerts']);
    expect(locals().topic_arns).toEqual({ alerts: ref('module.alerts.topic_arn') });
    const stream = one(pulse.module.stream, 'module.stream');
    expect(stream.name).toBe('${local.prefix}-${local.resources.stream.name}');
    expect(locals().prefix).toBe('pulse-${var.environment}');
  });
});

describe('modules/consumer-function: EFO, least privilege, bundle', () => {
  let m: Json;
  beforeAll(async () => {
    m = await mod('modules/consumer-function');
  });

  test('its own EFO consumer and a mapping on that consumer ARN', () => {
    const consumer = one(m.resource.aws_kinesis_stream_consumer.this, 'consumer');
    expect(consumer.stream_arn).toBe(ref('var.stream_arn'));
    expect(Object.keys(m.resource.aws_kinesis_stream_consumer)).toEqual(['this']);
    const esm = one(m.resource.aws_lambda_event_source_mapping.this, 'mapping');
    expect(esm.event_source_arn).toBe(ref('aws_kinesis_stream_consumer.this.arn'));
    expect(esm.function_name).toBe(ref('aws_lambda_function.this.arn'));
    expect(esm.function_response_types).toEqual(['ReportBatchItemFailures']);
    expect(esm.destination_config[0].on_failure[0].destination_arn).toBe(ref('aws_sqs_queue.on_failure.arn'));
    for (const k of [
      'batch_size',
      'maximum_batching_window_in_seconds',
      'parallelization_factor',
      'starting_position',
      'maximum_retry_attempts',
      'bisect_batch_on_function_error',
      'maximum_record_age_in_seconds',
    ]) {
      expect(esm[k]).toBe(ref(`var.event_source_mapping.${k}`));
    }
  });

  test('the on-failure queue and logs are encrypted with the CMK', () => {
    expect(one(m.resource.aws_sqs_queue.on_failure, 'dlq').kms_master_key_id).toBe(ref('var.kms_key_arn'));
    expect(one(m.resource.aws_cloudwatch_log_group.this, 'logs').kms_key_id).toBe(ref('var.kms_key_arn'));
  });

  test('Lambda: runtime, architecture, handler and log format are variables defaulting to nodejs22.x, arm64, index.handler, Text', () => {
    const fn = one(m.resource.aws_lambda_function.this, 'lambda');
    expect(fn.runtime).toBe(ref('var.runtime'));
    expect(fn.architectures).toEqual([ref('var.architecture')]);
    expect(fn.handler).toBe(ref('var.handler'));
    expect(fn.logging_config[0].log_format).toBe(ref('var.log_format'));
    const defaults = Object.fromEntries(
      ['runtime', 'architecture', 'handler', 'log_format'].map((v) => [v, one(m.variable[v], v).default]),
    );
    expect(defaults).toEqual({
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      handler: 'index.handler',
      log_format: 'Text',
    });
    expect(fn.reserved_concurrent_executions).toBe(ref('var.reserved_concurrent_executions'));
    expect(one(m.variable.reserved_concurrent_executions, 'rce').default).toBeNull();
  });

  test('the bundle is hashed only when present (destroy from a fresh clone) and required to create or update', () => {
    const fn = one(m.resource.aws_lambda_function.this, 'lambda');
    expect(fn.filename).toBe(ref('var.package_path'));
    expect(fn.source_code_hash).toBe(
      ref('fileexists(var.package_path) ? filebase64sha256(var.package_path) : null'),
    );
    const pre = fn.lifecycle[0].precondition[0];
    expect(pre.condition).toBe(ref('fileexists(var.package_path)'));
    expect(pre.error_message).toContain('make build');
    // nothing else in the modules reads the bundle unguarded
    for (const f of walkFiles(join(tf, 'modules'), /\.tf$/)) {
      const src = readFileSync(f, 'utf8').replace(
        /fileexists\(var\.package_path\) \? filebase64sha256\(var\.package_path\)/g,
        '',
      );
      expect({ f: relative(root, f), unguarded: /filebase64sha256|filesha256|filemd5/.test(src) }).toEqual({
        f: relative(root, f),
        unguarded: false,
      });
    }
    expect(fn.memory_size).toBe(ref('var.memory_size'));
    expect(fn.timeout).toBe(ref('var.timeout'));
    expect(fn.environment[0].variables).toBe(ref('var.environment_variables'));
    expect(fn.role).toBe(ref('aws_iam_role.this.arn'));
  });

  test('the role only reaches its own consumer, log group, queue, the stream, the key and the passed-in resources', () => {
    const doc = one(m.data.aws_iam_policy_document.this, 'policy');
    const allowed = new Set([
      ref('var.stream_arn'),
      ref('aws_kinesis_stream_consumer.this.arn'),
      '${aws_cloudwatch_log_group.this.arn}:*',
      ref('aws_sqs_queue.on_failure.arn'),
      ref('var.kms_key_arn'),
    ]);
    const bySid: Record<string, Json> = {};
    for (const s of doc.statement) {
      bySid[s.sid] = s;
      for (const r of s.resources) expect(allowed).toContain(r);
      for (const a of s.actions) expect(a).not.toContain('*');
    }
    expect(bySid.OwnConsumer.actions.sort()).toEqual([
      'kinesis:DescribeStreamConsumer',
      'kinesis:SubscribeToShard',
    ]);
    expect(bySid.OwnConsumer.resources).toEqual([ref('aws_kinesis_stream_consumer.this.arn')]);
    expect(bySid.ReadStream.actions.sort()).toEqual(
      [
        'kinesis:DescribeStream',
        'kinesis:DescribeStreamSummary',
        'kinesis:GetRecords',
        'kinesis:GetShardIterator',
        'kinesis:ListShards',
      ].sort(),
    );
    const dyn = doc.dynamic.statement.map((d: Json) => ({ for_each: d.for_each, ...d.content[0] }));
    const access = dyn.find((d: Json) => d.for_each === ref('var.resource_access'));
    expect(access.resources).toBe(ref('statement.value.arns'));
    expect(access.actions).toBe(ref('statement.value.actions'));
    // "*" only where AWS has no resource-level permissions, and PutMetricData only in its namespace
    for (const d of dyn.filter((x: Json) => Array.isArray(x.resources) && x.resources.includes('*'))) {
      if (d.actions.includes('cloudwatch:PutMetricData')) {
        expect(d.actions).toEqual(['cloudwatch:PutMetricData']);
        expect(d.for_each).toBe(ref('var.put_metric_data ? [var.metrics_namespace] : []'));
        expect(d.condition[0]).toEqual({
          test: 'StringEquals',
          variable: 'cloudwatch:namespace',
          values: [ref('statement.value')],
        });
      } else {
        expect(d.actions.every((a: string) => a.startsWith('xray:'))).toBe(true);
      }
    }
  });
});

describe('modules/tables and the code', () => {
  test('tables take hash/range keys and TTL from resources.json, on-demand, PITR, KMS', async () => {
    const m = await mod('modules/tables');
    const t = one(m.resource.aws_dynamodb_table.this, 'table');
    expect(t.for_each).toBe(ref('var.tables'));
    expect(t.name).toBe('${var.name_prefix}-${each.key}');
    expect(t.billing_mode).toBe('PAY_PER_REQUEST');
    expect(t.hash_key).toBe(ref('each.value.hash_key'));
    expect(t.range_key).toBe(ref('each.value.range_key'));
    expect(t.point_in_time_recovery[0].enabled).toBe(ref('var.point_in_time_recovery'));
    expect(t.server_side_encryption[0]).toEqual({ enabled: true, kms_key_arn: ref('var.kms_key_arn') });
    expect(t.dynamic.ttl[0].for_each).toBe(
      ref('each.value.ttl_attribute == null ? [] : [each.value.ttl_attribute]'),
    );
    expect(t.dynamic.attribute[0].for_each).toBe(ref('local.attributes[each.key]'));
    const attrs = Object.assign({}, ...m.locals).attributes as string;
    expect(attrs).toContain('[t.hash_key, t.range_key]');
    expect(attrs).toContain('flatten([for i in t.global_secondary_indexes : [i.hash_key, i.range_key]])');
  });

  // Names the code reads from its environment: requireString(env, 'X'), positiveInt(env, 'X', ..), env.X, env['X'].
  const envReads = (fn: string): { required: Set<string>; all: Set<string> } => {
    const required = new Set<string>();
    const all = new Set<string>();
    for (const file of walkFiles(join(services, fn), /\.ts$/)) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(requireString|jsonValue)\(\s*\w+\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g)) {
        required.add(m[2] as string);
        all.add(m[2] as string);
      }
      for (const m of src.matchAll(/\(\s*\w+\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g)) all.add(m[1] as string);
      for (const m of src.matchAll(/env(?:\.|\[['"])([A-Z][A-Z0-9_]*)/g)) all.add(m[1] as string);
    }
    return { required, all };
  };

  test.each(FUNCTIONS)('%s: every variable the code requires is set by Terraform', (fn) => {
    const c = fnConfig[fn];
    const provided = new Set([
      ...Object.keys(c.environment),
      ...Object.keys(c.resources.tables),
      ...Object.keys(c.resources.queues),
      ...Object.keys(c.resources.topics),
      ...Object.keys(c.resources.buckets ?? {}),
      'ENVIRONMENT',
      ...(c.resources.putMetricData ? ['METRICS_NAMESPACE'] : []),
    ]);
    const { required, all } = envReads(fn);
    for (const name of required)
      expect({ fn, name, provided: provided.has(name) }).toEqual({ fn, name, provided: true });
    // resource variables the code reads must be declared as resources (so IAM and values follow)
    for (const name of all) {
      if (/_(TABLE|QUEUE_URL|TOPIC_ARN|BUCKET)$/.test(name))
        expect({ fn, name, provided: provided.has(name) }).toEqual({ fn, name, provided: true });
    }
  });

  test.each(FUNCTIONS)('%s: the code uses the key attributes resources.json gives its tables', (fn) => {
    const files = walkFiles(join(services, fn), /\.ts$/);
    if (files.length === 0) return; // service not written yet: nothing to compare
    const src = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const usesTable = (envVar: string) => src.includes(envVar);
    for (const [envVar, grant] of Object.entries<Json>(fnConfig[fn].resources.tables)) {
      if (!usesTable(envVar)) continue;
      const table = resources.tables[grant.table];
      expect(table).toBeDefined();
      for (const key of [table.hashKey, table.rangeKey].filter(Boolean)) {
        expect({ fn, table: grant.table, key, inCode: new RegExp(`\\b${key}\\b`).test(src) }).toEqual({
          fn,
          table: grant.table,
          key,
          inCode: true,
        });
      }
    }
  });
});

describe('modules/alerts and modules/observability', () => {
  test('alerts: KMS topic, severity filter policies, optional Chatbot and SQS', async () => {
    const m = await mod('modules/alerts');
    expect(one(m.resource.aws_sns_topic.this, 'topic').kms_master_key_id).toBe(ref('var.kms_key_arn'));
    const l = Object.assign({}, ...m.locals);
    expect(l.severities).toEqual(['low', 'medium', 'high']);
    expect(l.severity_filter).toContain('jsonencode({ severity = slice(');
    expect(one(m.resource.aws_sns_topic_subscription.email, 'email').protocol).toBe('email');
    expect(one(m.resource.aws_sns_topic_subscription.sqs, 'sqs').raw_message_delivery).toBe(true);
    const chat = one(m.resource.aws_chatbot_slack_channel_configuration.this, 'chatbot');
    expect(chat.sns_topic_arns).toEqual([ref('aws_sns_topic.this.arn')]);
    expect(one(m.resource.aws_sqs_queue.subscription, 'feed').kms_master_key_id).toBe(ref('var.kms_key_arn'));
  });

  test('observability: the alarms and the metrics the code emits', async () => {
    const m = await mod('modules/observability');
    const alarm = one(m.resource.aws_cloudwatch_metric_alarm.this, 'alarm');
    expect(alarm.for_each).toBe(ref('merge(local.function_alarms, local.pipeline_alarms)'));
    expect(alarm.alarm_actions).toBe(ref('local.alarm_common.alarm_actions'));
    expect(alarm.treat_missing_data).toBe(ref('each.value.missing'));
    const locals = Object.assign({}, ...(m.locals as Json[]));
    const perFunction = String(locals.function_alarms);
    // Every function gets each per-function alarm; the pipeline alarms read what the code emits.
    for (const kind of ['iterator-age', 'errors', 'throttles', 'on-failure-depth', 'parked-user-age']) {
      expect(perFunction).toContain(`"\${key}/${kind}"`);
    }
    for (const metric of ['IteratorAge', 'Errors', 'Throttles', 'ApproximateNumberOfMessagesVisible']) {
      expect(perFunction).toMatch(new RegExp(`metric\\s+=\\s+"${metric}"`));
    }
    expect(locals.pipeline_alarms['events-per-minute'].metric).toBe('Events');
    expect(locals.pipeline_alarms['invalid-records'].metric).toBe('InvalidRecords');
    const body = JSON.stringify(m.locals);
    for (const metric of [
      'Events',
      'Revenue',
      'Purchases',
      'OrderValue',
      'InvalidRecords',
      'PipelineLagMs',
      'NumberOfMessagesPublished',
    ]) {
      expect(body).toContain(metric);
    }
    // Money is per currency: Revenue and OrderValue are read through SEARCH over the Currency
    // dimension, never as one Environment-only series that would add currencies together.
    const search = Object.assign({}, ...(m.locals as Json[])).search as Record<string, string>;
    for (const metric of ['Revenue', 'OrderValue']) {
      const exprs = Object.values(search).filter((e) => e.includes(`MetricName="${metric}"`));
      expect({ metric, searches: exprs.length > 0 }).toEqual({ metric, searches: true });
      for (const e of exprs) expect(e).toContain('{${local.ns},Currency,Environment}');
    }
    expect(body).not.toMatch(/"Revenue",\s*"Environment"/);
    expect(body).not.toMatch(/"OrderValue",\s*"Environment"/);
    const vars = one(m.variable.thresholds, 'thresholds');
    expect(vars.type).toContain('events_per_minute      = optional(number, 1000)');
  });
});

describe('parked alerts: a metric filter on the ERROR line fraud-rules logs, and an alarm on it', () => {
  test('the filter matches the exact message the code logs, and the alarm reads the metric it emits', async () => {
    const m = await mod('modules/observability');
    const locals = Object.assign({}, ...(m.locals as Json[]));
    // The code logs ALERT_PARKED_MESSAGE (detector.ts, outbox.ts); the filter must match it verbatim.
    expect(locals.alerts_failed.message).toBe(ALERT_PARKED_MESSAGE);
    const sources = ['detector.ts', 'outbox.ts'].map((f) =>
      readFileSync(join(services, 'fraud-rules', f), 'utf8'),
    );
    for (const src of sources) expect(src).toContain('.error(ALERT_PARKED_MESSAGE,');
    const filter = one(m.resource.aws_cloudwatch_log_metric_filter.alerts_failed, 'metric filter');
    expect(filter.log_group_name).toBe(ref('var.fraud_rules_log_group_name'));
    const pattern = String(filter.pattern).replace(
      ref('local.alerts_failed.message'),
      locals.alerts_failed.message,
    );
    expect(pattern).toBe(`{ ($.level = "ERROR") && ($.message = "${ALERT_PARKED_MESSAGE}") }`);
    const t = one(filter.metric_transformation, 'metric_transformation');
    expect(t).toEqual({
      name: ref('local.alerts_failed.metric'),
      namespace: ref('local.ns'),
      value: '1',
      dimensions: { FunctionName: '$.function_name' },
    });
    expect(locals.alerts_failed.metric).toBe('AlertsFailed');
    const alarm = locals.pipeline_alarms['alerts-failed'];
    expect(alarm).toMatchObject({
      metric: ref('local.alerts_failed.metric'),
      namespace: ref('local.ns'),
      dimensions: { FunctionName: ref('var.functions["fraud-rules"].function_name') },
      statistic: 'Sum',
      period: 300,
      evaluations: 1,
      datapoints: 1,
      threshold: 0,
      missing: 'notBreaching',
    });
    expect(alarm.description).toContain('pulse alerts pending --status FAILED');
  });

  test('modules/pulse hands the fraud-rules log group to the filter', async () => {
    const pulse = await mod('modules/pulse');
    const call = one(pulse.module.observability, 'module.observability');
    expect(call.fraud_rules_log_group_name).toBe(ref('module.functions["fraud-rules"].log_group_name'));
  });
});

describe('environment roots', () => {
  test.each(ENVS)(
    '%s: thin root calling modules/pulse, shared files symlinked, partial S3 backend',
    async (env) => {
      const dir = join(tf, 'envs', env);
      for (const f of ['versions.tf', 'variables.tf', 'outputs.tf', 'pulse.tf']) {
        expect(lstatSync(join(dir, f)).isSymbolicLink()).toBe(true);
        expect(statSync(join(dir, f)).isFile()).toBe(true);
      }
      expect(existsSync(join(dir, 'backend.hcl.example'))).toBe(true);
      const r = await mod(`envs/${env}`);
      const l = one(r.locals, 'locals');
      expect(l.environment).toBe(env);
      expect(Object.keys(l.settings).sort()).toEqual(
        [
          'alarm_thresholds',
          'anomaly_alarms',
          'fraud_rules',
          'log_retention_days',
          'reserved_concurrency',
          'stream',
          'tables',
          'tracing_mode',
        ].sort(),
      );
      // main.tf holds data only: no resources, modules or providers of its own
      const main = await convertFiles(join(tf, 'envs', env)).then(() =>
        readFileSync(join(dir, 'main.tf'), 'utf8'),
      );
      expect(main).not.toMatch(/^\s*(resource|module|provider|data)\s/m);
      const pulse = one(r.module.pulse, 'module.pulse');
      expect(pulse.source).toBe('../../modules/pulse');
      expect(pulse.environment).toBe(ref('local.environment'));
      const t = one(r.terraform, 'terraform');
      expect(t.backend).toEqual({ s3: [{}] });
      expect(t.required_version).toMatch(/>= 1\.5\.7/);
      expect(t.required_providers[0].aws.source).toBe('hashicorp/aws');
      expect(t.required_providers[0].aws.version).toMatch(/^~> 6\./);
      for (const o of ['stream_name', 'stream_arn', 'alerts_topic_arn', 'dashboard_url'])
        expect(r.output[o]).toBeDefined();
      expect(one(r.variable.fraud_rules, 'fraud_rules').type).toContain('large_purchase_threshold');
    },
  );

  test('no account id, no archive_file, no committed state or lock file', () => {
    const files = walkFiles(tf, /\.(tf|hcl|example|tfvars)$/);
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      expect({ f: relative(root, f), account: /\b\d{12}\b/.test(src) }).toEqual({
        f: relative(root, f),
        account: false,
      });
      expect(src).not.toContain('archive_file');
    }
    expect(walkFiles(tf, /(\.tfstate|\.terraform\.lock\.hcl)$/)).toEqual([]);
  });

  test('every checkov skip carries a reason', () => {
    for (const f of walkFiles(tf, /\.tf$/)) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const m = line.match(/#checkov:skip=([A-Z0-9_]+)(:(.*))?/);
        if (m)
          expect({ f: relative(root, f), check: m[1], reason: (m[3] ?? '').trim().length > 10 }).toEqual({
            f: relative(root, f),
            check: m[1],
            reason: true,
          });
      }
    }
  });
});

describe('modules/archive: private, encrypted, versioned, lifecycle; catalog and Athena', () => {
  let m: Json;
  let pulse: Json;
  const columns: Json = JSON.parse(readFileSync(join(services, 'schema', 'archive-columns.json'), 'utf8'));
  beforeAll(async () => {
    m = await mod('modules/archive');
    pulse = await mod('modules/pulse');
  });

  test('no public access: all four public-access blocks on, owner-enforced objects, TLS-only policy', () => {
    const block = one(m.resource.aws_s3_bucket_public_access_block.archive, 'public access block');
    expect(block.bucket).toBe(ref('aws_s3_bucket.archive.id'));
    for (const k of [
      'block_public_acls',
      'block_public_policy',
      'ignore_public_acls',
      'restrict_public_buckets',
    ])
      expect({ [k]: block[k] }).toEqual({ [k]: true });
    const ownership = one(m.resource.aws_s3_bucket_ownership_controls.archive, 'ownership');
    expect(ownership.rule[0].object_ownership).toBe('BucketOwnerEnforced');
    const policy = one(m.data.aws_iam_policy_document.archive, 'bucket policy').statement[0];
    expect(policy.effect).toBe('Deny');
    expect(policy.condition[0]).toMatchObject({ variable: 'aws:SecureTransport', values: ['false'] });
    // nothing grants access to a principal outside the account
    expect(JSON.stringify(m.data.aws_iam_policy_document.archive)).not.toMatch(/"Allow"/);
  });

  test('encrypted with the environment key, versioned, and a lifecycle on every prefix the code writes', () => {
    const sse = one(m.resource.aws_s3_bucket_server_side_encryption_configuration.archive, 'sse').rule[0];
    expect(sse.apply_server_side_encryption_by_default[0]).toEqual({
      sse_algorithm: 'aws:kms',
      kms_master_key_id: ref('var.kms_key_arn'),
    });
    expect(
      one(m.resource.aws_s3_bucket_versioning.archive, 'versioning').versioning_configuration[0].status,
    ).toBe('Enabled');
    const rules = one(m.resource.aws_s3_bucket_lifecycle_configuration.archive, 'lifecycle').rule;
    const byPrefix = rules.filter((r: Json) => r.filter[0]?.prefix !== undefined);
    expect(byPrefix.map((r: Json) => r.filter[0].prefix).sort()).toEqual([
      'athena-results/',
      'events/',
      'invalid/',
    ]);
    for (const r of rules) expect(r.status).toBe('Enabled');
    for (const r of byPrefix) expect(r.noncurrent_version_expiration).toHaveLength(1);
    // one rule over every object aborts incomplete uploads
    const all = rules.filter((r: Json) => r.filter[0]?.prefix === undefined);
    expect(all).toHaveLength(1);
    expect(all[0].abort_incomplete_multipart_upload[0].days_after_initiation).toBe(1);
    expect(one(pulse.module.archive, 'module.archive').kms_key_arn).toBe(ref('aws_kms_key.this.arn'));
  });

  test('Glue tables: columns from the generated file, partition projection over the layout of the code', () => {
    const table = one(m.resource.aws_glue_catalog_table.archive, 'glue table');
    expect(table.for_each).toEqual({ events: 'events', invalid: 'invalid' });
    expect(m.locals[0].columns).toBe(ref('jsondecode(file("${var.schema_dir}/archive-columns.json"))'));
    expect(table.storage_descriptor[0].dynamic.columns[0].for_each).toBe(ref('local.columns[each.key]'));
    expect(table.dynamic.partition_keys[0].for_each).toBe(ref('local.columns.partitions'));
    expect(columns.partitions.map((c: Json) => c.name)).toEqual(['ub', 'dt', 'hr']);
    expect(table.parameters).toContain(
      's3://${aws_s3_bucket.archive.id}/${each.value}/ub=$${ub}/dt=$${dt}/hr=$${hr}/',
    );
    const projection = m.locals[0].projection;
    expect(projection['projection.ub.range']).toBe('0,15');
    expect(projection['projection.hr.range']).toBe('0,23');
    expect(projection['projection.dt.format']).toBe('yyyy-MM-dd');
    expect(one(pulse.module.archive, 'module.archive').schema_dir).toBe('${local.services_dir}/schema');
  });

  test('Athena: enforced workgroup, KMS-encrypted results, a bytes-scanned limit, the three saved queries', () => {
    const wg = one(m.resource.aws_athena_workgroup.archive, 'workgroup').configuration[0];
    expect(wg.enforce_workgroup_configuration).toBe(true);
    expect(wg.bytes_scanned_cutoff_per_query).toBe(ref('var.athena_bytes_scanned_cutoff'));
    expect(wg.result_configuration[0].encryption_configuration[0]).toEqual({
      encryption_option: 'SSE_KMS',
      kms_key_arn: ref('var.kms_key_arn'),
    });
    const queries = m.locals[0].queries;
    expect(Object.keys(queries).sort()).toEqual(
      readdirSync(join(services, 'schema', 'queries'))
        .map((f) => f.replace(/\.sql$/, ''))
        .sort(),
    );
    expect(one(m.resource.aws_athena_named_query.archive, 'named queries').query).toContain(
      'templatefile("${var.schema_dir}/queries/${each.key}.sql"',
    );
  });

  test('archive-writer gets ARCHIVE_BUCKET and exactly its actions on the bucket and its objects', () => {
    const call = one(pulse.module.functions, 'module.functions');
    expect(call.environment_variables).toContain(
      '{ for env, r in each.value.buckets : env => local.bucket_names[r.key] }',
    );
    expect(call.resource_access).toContain(
      '{ for env, r in each.value.buckets : env => { arns = [local.bucket_arns[r.key], local.bucket_object_arns[r.key]], actions = r.actions } }',
    );
    const grant = fnConfig['archive-writer'].resources.buckets.ARCHIVE_BUCKET;
    expect(Object.keys(resources.buckets)).toContain(grant.bucket);
    for (const a of grant.actions) expect(a).toMatch(/^s3:[A-Za-z]+$/);
    const src = readFileSync(join(services, 'archive-writer', 'config.ts'), 'utf8');
    expect(src).toContain("'ARCHIVE_BUCKET'");
  });
});

describe('module READMEs', () => {
  const modules = readdirSync(join(tf, 'modules'));
  test('every module has main.tf variables.tf outputs.tf versions.tf README.md', () => {
    expect(modules.sort()).toEqual([
      'alerts',
      'archive',
      'consumer-function',
      'erasure-operator',
      'observability',
      'pulse',
      'stream',
      'tables',
    ]);
    for (const m of modules) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md'])
        expect(existsSync(join(tf, 'modules', m, f))).toBe(true);
    }
  });

  test.each(readdirSync(join(tf, 'modules')))(
    '%s: inputs/outputs tables are up to date (npx tsx scripts/tf/module-docs.ts)',
    async (m) => {
      const readme = readFileSync(join(tf, 'modules', m, 'README.md'), 'utf8');
      expect(splice(readme, await moduleDocs(join(tf, 'modules', m)))).toBe(readme);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Validations are evaluated by Terraform itself, not read as text: the variable block is copied
// into an empty configuration (no provider, no network) and planned with a value.
// ---------------------------------------------------------------------------------------------

const TERRAFORM = process.env.TERRAFORM ?? 'terraform';

/** The source text of one top-level `variable "<name>"` block of a .tf file. */
function variableBlock(file: string, name: string): string {
  const src = readFileSync(join(tf, file), 'utf8');
  const start = src.indexOf(`variable "${name}" {`);
  if (start < 0) throw new Error(`${file}: no variable ${name}`);
  const end = src.indexOf('\n}\n', start);
  return src.slice(start, end + 3);
}

/** Plans an empty configuration holding only that variable: undefined when the value is accepted, else the error. */
function validate(file: string, name: string, value: unknown): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-var-'));
  try {
    writeFileSync(join(dir, 'main.tf'), variableBlock(file, name));
    writeFileSync(join(dir, 'test.auto.tfvars.json'), JSON.stringify({ [name]: value }));
    const r = spawnSync(TERRAFORM, ['plan', '-input=false', '-no-color', '-lock=false'], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        TF_CLI_CONFIG_FILE: '/dev/null',
        TF_IN_AUTOMATION: '1',
        CHECKPOINT_DISABLE: '1',
      },
    });
    if (r.error) throw r.error;
    if (r.status === 0) return undefined;
    const message = `${r.stdout}\n${r.stderr}`;
    if (!/Invalid value for variable|Invalid value for input variable/.test(message))
      throw new Error(message);
    return message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const accepts = (file: string, name: string, value: unknown) => validate(file, name, value) === undefined;

describe('validations (evaluated by terraform)', () => {
  const PULSE = 'modules/pulse/variables.tf';
  const ROOT = 'envs/_shared/variables.tf';

  // Each Terraform setting and the FRAUD_RULES path the function's own parser checks.
  const fraudCases: Array<[string, number, Json]> = [
    ['large_purchase_threshold', 0, { largePurchase: { threshold: 0 } }],
    ['large_purchase_threshold', -1, { largePurchase: { threshold: -1 } }],
    ['cooldown_minutes', 0, { cooldownMinutes: 0 }],
    ['cooldown_minutes', -5, { cooldownMinutes: -5 }],
    ['spend_velocity_amount', 0, { spendVelocity: { amount: 0 } }],
    ['spend_velocity_amount', 10, { spendVelocity: { amount: 10 } }],
    ['purchase_velocity_count', 1, { purchaseVelocity: { count: 1 } }],
    ['purchase_velocity_count', 2, { purchaseVelocity: { count: 2 } }],
    ['purchase_velocity_count', 2.5, { purchaseVelocity: { count: 2.5 } }],
    ['country_hop_window_minutes', 0, { countryHop: { windowMinutes: 0 } }],
    ['country_hop_window_minutes', 10080, { countryHop: { windowMinutes: 10080 } }],
    ['spend_velocity_window_minutes', 10081, { spendVelocity: { windowMinutes: 10081 } }],
  ];
  test.each(fraudCases)(
    'fraud_rules.%s = %p: Terraform accepts it exactly when the function does',
    (setting, value, json) => {
      let functionAccepts = true;
      try {
        parseRules(json);
      } catch {
        functionAccepts = false;
      }
      expect({ setting, value, terraform: accepts(PULSE, 'fraud_rules', { [setting]: value }) }).toEqual({
        setting,
        value,
        terraform: functionAccepts,
      });
    },
  );

  test('fraud_rules: zero threshold and zero cool-down are valid (the function accepts them)', () => {
    expect(accepts(PULSE, 'fraud_rules', { large_purchase_threshold: 0, cooldown_minutes: 0 })).toBe(true);
    expect(() => parseRules({ largePurchase: { threshold: 0 }, cooldownMinutes: 0 })).not.toThrow();
  });

  test('max_event_ahead_seconds: whole seconds 0..86400, default 300, in the roots and modules/pulse', () => {
    for (const file of [PULSE, ROOT]) {
      for (const ok of [0, 300, 86400])
        expect({ file, ok, accepted: accepts(file, 'max_event_ahead_seconds', ok) }).toEqual({
          file,
          ok,
          accepted: true,
        });
      for (const bad of [-1, 86401, 1.5])
        expect({ file, bad, accepted: accepts(file, 'max_event_ahead_seconds', bad) }).toEqual({
          file,
          bad,
          accepted: false,
        });
    }
  });

  test('tracing_mode: PassThrough or Active only', () => {
    expect(accepts(PULSE, 'tracing_mode', 'Active')).toBe(true);
    expect(accepts(PULSE, 'tracing_mode', 'PassThrough')).toBe(true);
    expect(accepts(PULSE, 'tracing_mode', 'active')).toBe(false);
    expect(accepts(ROOT, 'tracing_mode', null)).toBe(true);
    expect(accepts(ROOT, 'tracing_mode', 'Off')).toBe(false);
  });

  test('stream_capacity: per-environment Kinesis mode; PROVISIONED needs a whole shard count, ON_DEMAND none', () => {
    expect(accepts(ROOT, 'stream_capacity', null)).toBe(true);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'ON_DEMAND' })).toBe(true);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'PROVISIONED', shard_count: 4 })).toBe(true);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'PROVISIONED' })).toBe(false);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'PROVISIONED', shard_count: 0 })).toBe(false);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'PROVISIONED', shard_count: 2.5 })).toBe(false);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'ON_DEMAND', shard_count: 2 })).toBe(false);
    expect(accepts(ROOT, 'stream_capacity', { mode: 'provisioned', shard_count: 2 })).toBe(false);
    expect(accepts(PULSE, 'stream', { mode: 'PROVISIONED', shard_count: 3 })).toBe(true);
    expect(accepts(PULSE, 'stream', { mode: 'SERVERLESS' })).toBe(false);
    expect(accepts(PULSE, 'stream', { mode: 'PROVISIONED', shard_count: 0 })).toBe(false);
    // Not silently one shard: a provisioned stream names its size.
    expect(accepts(PULSE, 'stream', { mode: 'PROVISIONED' })).toBe(false);
    expect(accepts(PULSE, 'stream', { mode: 'ON_DEMAND' })).toBe(true);
  });

  test("stream_capacity overrides the environment's settings.stream, which every env sets explicitly", async () => {
    const shared = readFileSync(join(tf, 'envs', '_shared', 'pulse.tf'), 'utf8');
    expect(shared).toContain(
      'stream             = var.stream_capacity == null ? local.settings.stream : merge(local.settings.stream, var.stream_capacity)',
    );
    for (const env of ENVS)
      expect(readFileSync(join(tf, 'envs', env, 'main.tf'), 'utf8')).toMatch(
        /stream\s*=\s*\{ mode = "(ON_DEMAND|PROVISIONED)"/,
      );
  });

  test('allowed_account_ids: optional, else a non-empty list of 12-digit ids', () => {
    expect(accepts(ROOT, 'allowed_account_ids', null)).toBe(true);
    expect(accepts(ROOT, 'allowed_account_ids', ['0'.repeat(12)])).toBe(true);
    expect(accepts(ROOT, 'allowed_account_ids', [])).toBe(false);
    expect(accepts(ROOT, 'allowed_account_ids', ['12345'])).toBe(false);
  });

  test('Slack guardrail: omitted or a real policy; never an empty list (= AdministratorAccess) or a broad AWS managed policy', () => {
    const slack = { team_id: 'T07EA123LEP', channel_id: 'C07EZ1ABC23' };
    const file = 'modules/alerts/variables.tf';
    expect(accepts(file, 'slack', null)).toBe(true);
    expect(accepts(file, 'slack', slack)).toBe(true);
    expect(
      accepts(file, 'slack', { ...slack, guardrail_policy_arns: ['arn:aws:iam::111111111111:policy/mine'] }),
    ).toBe(true);
    expect(
      accepts(file, 'slack', {
        ...slack,
        guardrail_policy_arns: ['arn:aws:iam::111111111111:policy/team/ReadOnlyAccess'],
      }),
    ).toBe(true); // the account's own policy, whatever its name or path
    expect(accepts(file, 'slack', { ...slack, guardrail_policy_arns: [] })).toBe(false);
    expect(accepts(file, 'slack', { ...slack, guardrail_policy_arns: ['mine'] })).toBe(false);
    for (const broad of [
      'AdministratorAccess',
      'ReadOnlyAccess',
      'CloudWatchReadOnlyAccess',
      'AmazonS3FullAccess',
      // the review's finds: path-qualified, underscored, and a name without Access in it
      'job-function/ViewOnlyAccess',
      'job-function/SystemAdministrator',
      'SecurityAudit',
      'AWSCodePipeline_FullAccess',
      'service-role/AWSLambdaRole',
    ])
      expect({
        broad,
        accepted: accepts(file, 'slack', {
          ...slack,
          guardrail_policy_arns: [`arn:aws:iam::aws:policy/${broad}`],
        }),
      }).toEqual({
        broad,
        accepted: false,
      });
    // other partitions' managed policies too
    expect(
      accepts(file, 'slack', {
        ...slack,
        guardrail_policy_arns: ['arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess'],
      }),
    ).toBe(false);
  });

  test('Slack region: only where the AWS Chatbot API exists; omitted = the environment region if supported, else us-east-2', async () => {
    const slack = { team_id: 'T07EA123LEP', channel_id: 'C07EZ1ABC23' };
    const file = 'modules/alerts/variables.tf';
    for (const region of ['us-east-2', 'us-west-2', 'eu-west-1', 'ap-southeast-1'])
      expect({ region, accepted: accepts(file, 'slack', { ...slack, region }) }).toEqual({
        region,
        accepted: true,
      });
    for (const region of ['us-east-1', 'eu-central-1', 'ap-northeast-1', 'eu-west-2'])
      expect({ region, accepted: accepts(file, 'slack', { ...slack, region }) }).toEqual({
        region,
        accepted: false,
      });
    const m = await mod('modules/alerts');
    const l = Object.assign({}, ...m.locals);
    expect(l.chatbot_regions).toEqual(['us-east-2', 'us-west-2', 'eu-west-1', 'ap-southeast-1']);
    expect(l.chatbot_region).toContain('contains(local.chatbot_regions, data.aws_region.current.region)');
    expect(l.chatbot_region).toContain('"us-east-2"');
    expect(one(m.resource.aws_chatbot_slack_channel_configuration.this, 'chatbot').region).toBe(
      ref('local.chatbot_region'),
    );
    expect(one(m.variable.slack, 'slack').description).toMatch(
      /us-east-2, us-west-2, eu-west-1 and ap-southeast-1/,
    );
  });

  test('per-shard state keeps the parallelization factor at 1', () => {
    const file = 'modules/consumer-function/variables.tf';
    const esm = {
      batch_size: 100,
      maximum_batching_window_in_seconds: 1,
      parallelization_factor: 2,
      starting_position: 'TRIM_HORIZON',
      maximum_retry_attempts: 10,
      bisect_batch_on_function_error: true,
      maximum_record_age_in_seconds: 3600,
    };
    expect(accepts(file, 'event_source_mapping', esm)).toBe(true);
    expect(accepts(file, 'event_source_mapping', { ...esm, per_shard_state: true })).toBe(false);
    expect(
      accepts(file, 'event_source_mapping', { ...esm, per_shard_state: true, parallelization_factor: 1 }),
    ).toBe(true);
  });

  test('retries and record age: -1 (infinite) or within what Lambda accepts', () => {
    const file = 'modules/consumer-function/variables.tf';
    const esm = {
      batch_size: 100,
      maximum_batching_window_in_seconds: 1,
      parallelization_factor: 1,
      starting_position: 'TRIM_HORIZON',
      maximum_retry_attempts: -1,
      bisect_batch_on_function_error: true,
      maximum_record_age_in_seconds: -1,
    };
    const ok = (over: Partial<typeof esm>) => accepts(file, 'event_source_mapping', { ...esm, ...over });
    expect(ok({})).toBe(true);
    expect(ok({ maximum_retry_attempts: 0 })).toBe(true);
    expect(ok({ maximum_retry_attempts: 10000 })).toBe(true);
    expect(ok({ maximum_retry_attempts: -2 })).toBe(false);
    expect(ok({ maximum_retry_attempts: 10001 })).toBe(false);
    expect(ok({ maximum_record_age_in_seconds: 60 })).toBe(true);
    expect(ok({ maximum_record_age_in_seconds: 604800 })).toBe(true);
    expect(ok({ maximum_record_age_in_seconds: 0 })).toBe(false);
    expect(ok({ maximum_record_age_in_seconds: 59 })).toBe(false);
    expect(ok({ maximum_record_age_in_seconds: 604801 })).toBe(false);
    expect(accepts(file, 'stream_retention_hours', 24)).toBe(true);
    expect(accepts(file, 'stream_retention_hours', 23)).toBe(false);
    expect(accepts(file, 'replay_window_hours', 0)).toBe(false);
  });

  test('metrics-emitter is the function with per-shard state, and its function.json keeps factor 1', () => {
    const perShard = FUNCTIONS.filter((fn) =>
      Object.values<Json>(fnConfig[fn].resources.tables).some((t) => t.table === 'watermarks'),
    );
    expect(perShard).toEqual(['metrics-emitter']);
    expect(fnConfig['metrics-emitter'].eventSourceMapping.parallelizationFactor).toBe(1);
  });

  test('reserved concurrency: whole numbers >= 0 per function, unreserved by default', () => {
    expect(accepts(PULSE, 'reserved_concurrency', {})).toBe(true);
    expect(accepts(PULSE, 'reserved_concurrency', { 'fraud-rules': 50 })).toBe(true);
    expect(accepts(PULSE, 'reserved_concurrency', { 'fraud-rules': -1 })).toBe(false);
  });

  test('schedule: rate/cron/at expression and a JSON input', () => {
    const file = 'modules/consumer-function/variables.tf';
    expect(accepts(file, 'schedule', null)).toBe(true);
    expect(
      accepts(file, 'schedule', { expression: 'rate(5 minutes)', input: '{"pulse":"republish-pending"}' }),
    ).toBe(true);
    expect(accepts(file, 'schedule', { expression: 'every 5 minutes', input: '{}' })).toBe(false);
  });

  test('the parked-user alarm: the metric the re-drive writes, per function, at least one re-drive period', async () => {
    const file = 'modules/observability/variables.tf';
    expect(accepts(file, 'thresholds', { parked_user_age_s: 300 })).toBe(true);
    expect(accepts(file, 'thresholds', { parked_user_age_s: 299 })).toBe(false);
    const m = await mod('modules/observability');
    const locals = Object.assign({}, ...(m.locals as Json[]));
    expect(locals.parked_user_age_metric).toBe(PARKED_METRIC.oldestAge);
    const perFunction = String(locals.function_alarms);
    expect(perFunction).toContain('metric      = local.parked_user_age_metric');
    expect(perFunction).toContain(`dimensions  = { ${PARKED_METRIC.dimension} = fn.function_name }`);
    expect(perFunction).toContain('threshold   = local.t.parked_user_age_s');
  });

  test('the stalled alarm looks at 10-15 minutes', () => {
    const file = 'modules/observability/variables.tf';
    expect(accepts(file, 'thresholds', {})).toBe(true);
    expect(accepts(file, 'thresholds', { stalled_period_s: 60, stalled_periods: 5 })).toBe(false);
    expect(accepts(file, 'thresholds', { stalled_period_s: 300, stalled_periods: 4 })).toBe(false);
    expect(accepts(file, 'thresholds', { stalled_period_s: 300, stalled_periods: 2 })).toBe(true);
  });
});

describe('alarms: loud when stalled', () => {
  let m: Json;
  beforeAll(async () => {
    m = await mod('modules/observability');
  });
  const locals = () => Object.assign({}, ...(m.locals as Json[]));

  test('every alarm of the table states its own missing-data choice', () => {
    const src = readFileSync(join(tf, 'modules/observability/main.tf'), 'utf8');
    const perFunction = String(locals().function_alarms);
    const kinds = [...perFunction.matchAll(/"\$\{key\}\/([a-z-]+)"/g)].map((x) => x[1]);
    expect(kinds.sort()).toEqual([
      'errors',
      'iterator-age',
      'on-failure-depth',
      'parked-user-age',
      'throttles',
    ]);
    expect(
      (perFunction.match(/\bmissing\s+=\s+"(notBreaching|breaching|ignore|missing)"/g) ?? []).length,
    ).toBe(kinds.length);
    for (const [key, a] of Object.entries<Json>(locals().pipeline_alarms))
      expect({
        key,
        missing: ['notBreaching', 'breaching', 'ignore', 'missing'].includes(a.missing),
      }).toEqual({ key, missing: true });
    // and each choice says why, on its line
    for (const line of src.split('\n').filter((l) => /^\s+missing\s+=/.test(l)))
      expect(line).toMatch(/#\s*\S.{8,}/);
  });

  test('one stalled alarm per function: records in on the stream while its mapping delivers no batch (IteratorAge samples), 15 minutes', () => {
    const alarm = one(m.resource.aws_cloudwatch_metric_alarm.stalled, 'stalled');
    expect(alarm.for_each).toBe(ref('local.stalled_alarms'));
    expect(locals().stalled_alarms).toContain('for key, fn in var.functions');
    expect(alarm.comparison_operator).toBe('GreaterThanOrEqualToThreshold');
    expect(alarm.threshold).toBe(1);
    expect(alarm.alarm_actions).toBe(ref('local.alarm_common.alarm_actions'));
    const q = Object.fromEntries(alarm.metric_query.map((x: Json) => [x.id, x]));
    expect(q.stalled.expression).toBe(ref('local.stalled_expression'));
    // A missing IteratorAge datapoint is 0 by arithmetic next to records, not by FILL.
    expect(locals().stalled_expression).toBe('IF(records > 0 AND (0 * records + batches) == 0, 1, 0)');
    expect(q.stalled.return_data).toBe(true);
    expect(q.records.metric[0]).toMatchObject({
      namespace: 'AWS/Kinesis',
      metric_name: 'IncomingRecords',
      dimensions: { StreamName: ref('var.stream_name') },
      stat: 'Sum',
    });
    // Not Invocations: a scheduled invocation (fraud-rules' republish) is one too, and keeps coming
    // while the stream mapping is dead. Lambda reports an IteratorAge sample per stream batch only.
    expect(q.batches.metric[0]).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'IteratorAge',
      dimensions: { FunctionName: ref('var.functions[each.key].function_name') },
      stat: 'SampleCount',
    });
    expect(Object.keys(q).sort()).toEqual(['batches', 'records', 'stalled']);
    // window = period x periods, all periods breaching
    const t = one(m.variable.thresholds, 'thresholds').type as string;
    const period = Number(t.match(/stalled_period_s\s+= optional\(number, (\d+)\)/)?.[1]);
    const periods = Number(t.match(/stalled_periods\s+= optional\(number, (\d+)\)/)?.[1]);
    expect(period * periods).toBeGreaterThanOrEqual(600);
    expect(period * periods).toBeLessThanOrEqual(900);
    expect(alarm.evaluation_periods).toBe(ref('local.t.stalled_periods'));
    expect(alarm.datapoints_to_alarm).toBe(ref('local.t.stalled_periods'));
    expect(q.records.metric[0].period).toBe(ref('local.t.stalled_period_s'));
    expect(q.batches.metric[0].period).toBe(ref('local.t.stalled_period_s'));
  });

  test('saved Logs Insights queries: files in the repository, read by Terraform, only fields the services log', () => {
    const qd = one(m.resource.aws_cloudwatch_query_definition.this, 'queries');
    expect(qd.query_string).toBe(ref('file("${path.module}/queries/${each.key}.logsinsights")'));
    expect(qd.log_group_names).toBe(ref('[for f in values(var.functions) : f.log_group_name]'));
    const names = Object.keys(locals().queries).sort();
    expect(names).toEqual(['batch-lifecycle', 'errors-by-function', 'user-events']);
    const dir = join(tf, 'modules/observability/queries');
    expect(readdirSync(dir).sort()).toEqual(names.map((n) => `${n}.logsinsights`));
    // Powertools Logger's fields + the context keys the services pass to their logger today.
    const logged = new Set([
      'level',
      'message',
      'timestamp',
      'service',
      'function_request_id',
      'xray_trace_id',
      'cold_start',
      'function_name',
      'error',
    ]);
    for (const file of walkFiles(services, /\.ts$/)) {
      const src = readFileSync(file, 'utf8');
      for (const call of src.matchAll(/logger\.(?:debug|info|warn|error)\(\s*'[^']*',\s*\{([^}]*)\}/g)) {
        for (const k of (call[1] as string).matchAll(/(?:^|,)\s*(?:\.\.\.\w+|(\w+))(?=\s*[:,]|\s*$)/g))
          if (k[1]) logged.add(k[1]);
      }
    }
    expect(logged).toContain('userId');
    expect(logged).toContain('shardId');
    for (const n of names) {
      const text = readFileSync(join(dir, `${n}.logsinsights`), 'utf8');
      const body = text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
      const fieldsLine = body.match(/^fields (.+)$/m)?.[1] ?? '';
      for (const f of fieldsLine.split(',').map((x) => x.trim())) {
        if (f.startsWith('@')) continue;
        const top = f.split('.')[0] as string;
        // summary fields of "batch processed" come from a spread; failures is named explicitly
        expect({ n, field: f, known: logged.has(top) || top === 'failures' }).toEqual({
          n,
          field: f,
          known: true,
        });
      }
    }
    expect(readFileSync(join(dir, 'user-events.logsinsights'), 'utf8')).toMatch(/filter userId = "USER_ID"/);
    expect(readFileSync(join(dir, 'batch-lifecycle.logsinsights'), 'utf8')).toMatch(
      /function_request_id = "REQUEST_ID"/,
    );
    expect(readFileSync(join(dir, 'errors-by-function.logsinsights'), 'utf8')).toMatch(
      /stats count\(\*\).* by service/,
    );
  });
});

describe('least privilege', () => {
  const allTf = () =>
    walkFiles(tf, /\.tf$/).map((f) => ({ f: relative(root, f), src: readFileSync(f, 'utf8') }));

  test('no role attaches an AWS managed policy with "*" read access (nor any AWS managed policy)', async () => {
    const broad =
      /:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|ReadOnlyAccess|ViewOnlyAccess|SecurityAudit|[A-Za-z0-9]*ReadOnly[A-Za-z0-9]*|[A-Za-z0-9]*FullAccess)\b/;
    const found: string[] = [];
    for (const dir of [
      ...readdirSync(join(tf, 'modules')).map((x) => `modules/${x}`),
      ...ENVS.map((e) => `envs/${e}`),
    ]) {
      const h = await mod(dir);
      const attachments = [
        ...Object.values<Json[]>(h.resource?.aws_iam_role_policy_attachment ?? {}).flat(),
        ...Object.values<Json[]>(h.resource?.aws_iam_policy_attachment ?? {}).flat(),
        ...Object.values<Json[]>(h.resource?.aws_iam_role_policy_attachments_exclusive ?? {}).flat(),
      ].map((a) => JSON.stringify(a.policy_arn ?? a.policy_arns));
      const roles = Object.values<Json[]>(h.resource?.aws_iam_role ?? {})
        .flat()
        .map((r) => JSON.stringify(r.managed_policy_arns ?? []));
      const guardrails = Object.values<Json[]>(h.resource?.aws_chatbot_slack_channel_configuration ?? {})
        .flat()
        .map((c) => JSON.stringify(c.guardrail_policy_arns));
      for (const text of [...attachments, ...roles, ...guardrails])
        if (/iam::aws:policy\//.test(text) || broad.test(text)) found.push(`${dir}: ${text}`);
    }
    for (const { f, src } of allTf())
      if (broad.test(src)) found.push(`${f}: names a broad AWS managed policy`);
    expect(found).toEqual([]);
  });

  test('Slack channel: a role without any policy, a deny-all guardrail by default, its log group managed', async () => {
    const m = await mod('modules/alerts');
    expect(m.resource.aws_iam_role_policy_attachment).toBeUndefined();
    expect(m.resource.aws_iam_role_policy).toBeUndefined();
    const guard = one(m.data.aws_iam_policy_document.chatbot_guardrail, 'guardrail').statement;
    expect(guard).toEqual([{ sid: 'NotificationsOnly', effect: 'Deny', actions: ['*'], resources: ['*'] }]);
    const chat = one(m.resource.aws_chatbot_slack_channel_configuration.this, 'chatbot');
    expect(chat.guardrail_policy_arns).toBe(
      ref('coalesce(var.slack.guardrail_policy_arns, [aws_iam_policy.chatbot_guardrail[0].arn])'),
    );
    const logs = one(m.resource.aws_cloudwatch_log_group.chatbot, 'chatbot logs');
    expect(logs.region).toBe('us-east-1');
    expect(logs.name).toBe('/aws/chatbot/${var.name}');
    expect(logs.retention_in_days).toBe(ref('var.slack.log_retention_days'));
    expect(chat.depends_on).toEqual(['${aws_cloudwatch_log_group.chatbot}']);
  });

  test("KMS key policy: CloudWatch and SNS may use the key only for this environment's alarms and topics", async () => {
    const m = await mod('modules/pulse');
    const doc = one(m.data.aws_iam_policy_document.kms, 'kms');
    // The service statements are one dynamic block over a local map: expand it as Terraform does,
    // so the assertions below read the concrete statements.
    const locals = Object.assign({}, ...m.locals);
    const expanded = (doc.dynamic?.statement ?? []).flatMap((d: Json) => {
      const over = /^\$\{local\.(\w+)\}$/.exec(d.for_each)?.[1];
      if (over === undefined) return [];
      return Object.entries<Json>(locals[over]).map(([key, value]) => {
        const fill = (v: Json): Json =>
          typeof v === 'string'
            ? v.replace(/\$\{statement\.(?:key|value\.(\w+))\}/g, (_, field) => (field ? value[field] : key))
            : Array.isArray(v)
              ? v.map(fill)
              : v && typeof v === 'object'
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]))
                : v;
        return fill(d.content[0]);
      });
    });
    const service = [...doc.statement, ...expanded].filter(
      (s: Json) => s.principals?.[0]?.type === 'Service',
    );
    const byPrincipal = Object.fromEntries(
      service.map((s: Json) => [s.principals[0].identifiers.join(','), s]),
    );
    for (const [principal, arn] of [
      ['cloudwatch.amazonaws.com', ':alarm:${local.prefix}-*'],
      ['sns.amazonaws.com', ':${local.prefix}-*'],
    ]) {
      const st = byPrincipal[principal as string];
      expect({ principal, alone: st !== undefined }).toEqual({ principal, alone: true });
      const cond = Object.fromEntries(st.condition.map((c: Json) => [c.variable, c]));
      expect(cond['aws:SourceAccount'].values).toEqual([ref('data.aws_caller_identity.current.account_id')]);
      expect(cond['aws:SourceArn'].test).toBe('ArnLike');
      expect(cond['aws:SourceArn'].values[0]).toMatch(
        new RegExp(`${(arn as string).replace(/[$.*{}]/g, (c) => `\\${c}`)}$`),
      );
    }
  });

  test('X-Ray: tracing_mode Active adds exactly the two X-Ray write actions', async () => {
    const m = await mod('modules/consumer-function');
    const doc = one(m.data.aws_iam_policy_document.this, 'policy');
    const xray = doc.dynamic.statement.find((d: Json) => d.content[0].sid === 'XRayWriteTraces');
    expect(xray.for_each).toBe(ref('var.tracing_mode == "Active" ? [1] : []'));
    expect(xray.content[0].actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const fn = one(m.resource.aws_lambda_function.this, 'fn');
    expect(fn.tracing_config[0].mode).toBe(ref('var.tracing_mode'));
    for (const env of ENVS) {
      const r = await mod(`envs/${env}`);
      expect(one(r.module.pulse, 'pulse').tracing_mode).toBe(
        ref('coalesce(var.tracing_mode, local.settings.tracing_mode)'),
      );
    }
  });
});

describe('the cross-helper contract: resources.json and function.json drive GSIs, schedules, queue size', () => {
  test('every queue with maxMessageBytes gets it as max_message_size (1 KiB .. 1 MiB)', async () => {
    const m = await mod('modules/pulse');
    const q = one(m.resource.aws_sqs_queue.resource, 'queues');
    expect(q.max_message_size).toBe(ref('try(each.value.maxMessageBytes, null)'));
    expect(resources.queues['invalid-records'].maxMessageBytes).toBe(1048576);
    for (const [k, v] of Object.entries<Json>(resources.queues))
      if (v.maxMessageBytes !== undefined)
        expect({ k, ok: v.maxMessageBytes >= 1024 && v.maxMessageBytes <= 1048576 }).toEqual({ k, ok: true });
  });

  test('globalSecondaryIndexes of resources.json become sparse string-keyed GSIs with projection ALL', async () => {
    const p = await mod('modules/pulse');
    const tables = one(p.module.tables, 'module.tables').tables as string;
    expect(tables).toContain(
      'for i in try(t.globalSecondaryIndexes, []) : { name = i.name, hash_key = i.hashKey, range_key = try(i.rangeKey, null) }',
    );
    const t = await mod('modules/tables');
    const table = one(t.resource.aws_dynamodb_table.this, 'table');
    const gsi = table.dynamic.global_secondary_index[0];
    expect(gsi.for_each).toBe(ref('each.value.global_secondary_indexes'));
    const c = gsi.content[0];
    expect(c.projection_type).toBe('ALL');
    expect(c.key_schema[0]).toEqual({ attribute_name: ref('gsi.value.hash_key'), key_type: 'HASH' });
    expect(c.dynamic.key_schema[0].content[0].key_type).toBe('RANGE');
    for (const [name, spec] of Object.entries<Json>(resources.tables)) {
      for (const i of spec.globalSecondaryIndexes ?? []) {
        expect({
          name,
          index: i.name,
          keys: typeof i.hashKey === 'string' && (i.rangeKey === undefined || typeof i.rangeKey === 'string'),
        }).toEqual({ name, index: i.name, keys: true });
      }
    }
  });

  test('index ARNs are <table>/index/<name>; fraud-rules may Query the pending index and nothing more on it', async () => {
    expect(fnConfig['fraud-rules'].resources.tables.ALERTS_TABLE.indexes).toEqual({
      pending: ['dynamodb:Query'],
    });
    const t = await mod('modules/tables');
    expect(t.output.index_arns[0].value).toBe(
      ref(
        '{ for k, t in aws_dynamodb_table.this : k => { for i in var.tables[k].global_secondary_indexes : i.name => "${t.arn}/index/${i.name}" } }',
      ),
    );
  });

  test('a function.json schedule becomes an EventBridge Scheduler schedule with a role that may invoke only that function', async () => {
    const p = await mod('modules/pulse');
    expect(Object.assign({}, ...p.locals).fn).toContain(
      'schedule = try({ expression = c.schedule.expression, input = jsonencode(c.schedule.input) }, null)',
    );
    expect(one(p.module.functions, 'functions').schedule).toBe(ref('each.value.schedule'));
    const m = await mod('modules/consumer-function');
    const sch = one(m.resource.aws_scheduler_schedule.this, 'schedule');
    expect(sch.count).toBe(ref('var.schedule == null ? 0 : 1'));
    expect(sch.schedule_expression).toBe(ref('var.schedule.expression'));
    expect(sch.target[0]).toMatchObject({
      arn: ref('aws_lambda_function.this.arn'),
      role_arn: ref('aws_iam_role.scheduler[0].arn'),
      input: ref('var.schedule.input'),
    });
    const invoke = one(m.data.aws_iam_policy_document.scheduler, 'scheduler policy').statement;
    expect(invoke).toEqual([
      {
        sid: 'InvokeOwnFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [ref('aws_lambda_function.this.arn')],
      },
    ]);
    const assume = one(m.data.aws_iam_policy_document.scheduler_assume, 'assume').statement[0];
    expect(assume.principals[0].identifiers).toEqual(['scheduler.amazonaws.com']);
    expect(assume.condition[0].variable).toBe('aws:SourceAccount');
    for (const fn of FUNCTIONS) {
      const s = fnConfig[fn].schedule;
      if (s === undefined) continue;
      expect(s.expression).toMatch(/^(rate|cron|at)\(.+\)$/);
      expect(typeof s.input).toBe('object');
    }
  });

  test('MAX_EVENT_AHEAD_SECONDS reaches every function from the roots', async () => {
    for (const env of ENVS) {
      const r = await mod(`envs/${env}`);
      expect(one(r.module.pulse, 'pulse').max_event_ahead_seconds).toBe(ref('var.max_event_ahead_seconds'));
      expect(one(r.variable.max_event_ahead_seconds, 'v').default).toBe(300);
    }
  });
});

describe('deploy path and outputs', () => {
  test('the roots output every name users and make smoke need', async () => {
    const pulse = await mod('modules/pulse');
    const needed = [
      'stream_name',
      'alerts_topic_arn',
      'alerts_sqs_queue_url',
      'invalid_records_queue_url',
      'table_names',
      'on_failure_queue_arns',
      'function_names',
      'environment',
      'metrics_namespace',
      'log_group_names',
      'query_definition_names',
      'chatbot_configuration_arn',
      'alarm_names',
      'stalled_alarm_names',
      'alerts_failed_metric_filter',
    ];
    for (const env of ENVS) {
      const r = await mod(`envs/${env}`);
      for (const o of needed) {
        expect({ env, o, root: r.output[o]?.[0]?.value }).toEqual({ env, o, root: ref(`module.pulse.${o}`) });
        expect({ o, inModule: pulse.output[o] !== undefined }).toEqual({ o, inModule: true });
      }
      expect(r.output.aws_region[0].value).toBe(ref('var.aws_region'));
    }
    // and the module outputs they come from are wired through, not lost on the way up
    expect(pulse.output.query_definition_names[0].value).toBe(
      ref('module.observability.query_definition_names'),
    );
    expect(pulse.output.chatbot_configuration_arn[0].value).toBe(
      ref('module.alerts.chatbot_configuration_arn'),
    );
    const alerts = await mod('modules/alerts');
    expect(alerts.output.chatbot_configuration_arn[0].value).toContain(
      'aws_chatbot_slack_channel_configuration.this[*].chat_configuration_arn',
    );
  });

  test('allowed_account_ids guards the provider in every root', async () => {
    for (const env of ENVS) {
      const r = await mod(`envs/${env}`);
      expect(one(r.provider.aws, 'provider').allowed_account_ids).toBe(ref('var.allowed_account_ids'));
      expect(one(r.variable.allowed_account_ids, 'v').default).toBeNull();
    }
  });

  test('make plan/deploy/destroy need Terraform only: no Go, no tflint, no provider build; destroy without dist/', () => {
    const run = readFileSync(join(root, 'scripts/tf/run.sh'), 'utf8');
    const code = run
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/tools\.sh install|go install|\btflint\b|\bgo\b /);
    expect(run).toMatch(/MIN_TERRAFORM=1\.5\.7/);
    const mk = readFileSync(join(tf, 'terraform.mk'), 'utf8');
    expect(mk).toMatch(/^destroy: tf-env ##/m); // no build prerequisite
    expect(mk).toMatch(/^deploy: tf-env build ##/m);
  });

  test('only .ci/run names the shared folder, and it sets the provider archive and requires validate', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toContain('PULSE_TF_PROVIDER_ARCHIVE=');
    expect(ci).toContain('PULSE_TF_REQUIRE_VALIDATE=1');
    const offenders = walkFiles(root, /\.(ts|sh|tf|md|mk|json|hcl)$|^Makefile$/)
      .filter(
        (f) => !f.includes(`${join(root, '.ci')}`) && !f.includes('node_modules') && !f.includes('/.venv'),
      )
      .filter((f) => /shared\/terraform-provider-aws|\/work\/shared/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});

describe('moto apply: only the recorded emulator gaps are left out', () => {
  test('emulator-gaps.json names resource types the modules use, each with a reason; moto-apply.sh reads it', () => {
    const gaps = JSON.parse(
      readFileSync(join(root, 'test/terraform/moto/emulator-gaps.json'), 'utf8'),
    ) as Record<string, string>;
    expect(Object.keys(gaps).sort()).toEqual([
      'aws_chatbot_slack_channel_configuration',
      'aws_cloudwatch_dashboard',
      'aws_cloudwatch_metric_alarm',
      'aws_cloudwatch_query_definition',
      'aws_lambda_event_source_mapping',
    ]);
    const modules = walkFiles(join(tf, 'modules'), /\.tf$/)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const [type, why] of Object.entries(gaps)) {
      expect({ type, used: modules.includes(`resource "${type}"`) }).toEqual({ type, used: true });
      expect(why.length).toBeGreaterThan(20);
    }
    const script = readFileSync(join(root, 'scripts/tf/moto-apply.sh'), 'utf8');
    expect(script).toContain('test/terraform/moto/emulator-gaps.json');
    expect(script).toMatch(/-target=/);
    expect(readFileSync(join(root, 'scripts/tf/check.sh'), 'utf8')).toContain('scripts/tf/moto-apply.sh');
  });
});
