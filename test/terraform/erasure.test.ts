// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations
// biome-ignore-all lint/suspicious/noExplicitAny: hcl2json output is untyped JSON walked by path
/**
 * Erasure wiring in Terraform, on the parsed HCL: the operator's narrow policy (a module of its
 * own, exactly the calls `pulse erase` makes, on exactly this environment's resources, with an
 * output), the erasure key secret and the tombstone grants every function gets from function.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';

type Json = any;
const root = join(__dirname, '..', '..');
const tf = join(root, 'terraform');
const services = join(root, 'services');
const resources: Json = JSON.parse(readFileSync(join(services, 'resources.json'), 'utf8'));
const functions = readdirSync(services).filter((d) => existsSync(join(services, d, 'function.json')));
const fnConfig = (fn: string): Json => JSON.parse(readFileSync(join(services, fn, 'function.json'), 'utf8'));
const ref = (expr: string) => `\${${expr}}`;

/** Every statement of the policy document, the dynamic (archive) ones included. */
function statements(hcl: Json): Json[] {
  const doc = hcl.data.aws_iam_policy_document.this[0];
  return [...doc.statement, ...(doc.dynamic?.statement ?? []).flatMap((d: Json) => d.content)];
}

describe('modules/erasure-operator: the operator policy for pulse erase', () => {
  let hcl: Json;
  beforeAll(async () => {
    hcl = await convertFiles(join(tf, 'modules', 'erasure-operator'));
  });

  test('exactly the calls pulse erase makes, each on the resources it names', () => {
    const got = Object.fromEntries(
      statements(hcl).map((s) => [s.sid, { actions: s.actions, resources: s.resources }]),
    );
    expect(got).toEqual({
      SessionsOfOneUser: {
        actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'],
        resources: [ref('var.table_arns["sessions"]')],
      },
      FraudStateOfOneUser: {
        actions: ['dynamodb:GetItem', 'dynamodb:DeleteItem'],
        resources: [ref('var.table_arns["fraud-state"]')],
      },
      AlertsAndLedgerEntriesOfOneUser: {
        actions: ['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'],
        resources: [ref('var.table_arns["alerts"]'), ref('var.table_arns["replay-ledger"]')],
      },
      TombstonesAndAuditTrail: {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
        resources: [ref('var.table_arns["erasures"]')],
      },
      InvalidRecordsNamingTheUser: {
        actions: [
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ],
        resources: [ref('var.invalid_records_queue_arn')],
      },
      ErasureKey: {
        actions: ['secretsmanager:GetSecretValue'],
        resources: [ref('var.erasure_key_secret_arn')],
      },
      EncryptedResources: {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [ref('var.kms_key_arn')],
      },
      StreamRetention: { actions: ['kinesis:DescribeStreamSummary'], resources: [ref('var.stream_arn')] },
      RefreshIntervalAndTimeout: {
        actions: ['lambda:GetFunctionConfiguration'],
        resources: ref('var.function_arns'),
      },
      ArchiveListing: {
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [ref('statement.value')],
      },
      ArchiveRewrite: {
        actions: [
          's3:GetObject',
          's3:GetObjectVersion',
          's3:PutObject',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
        ],
        resources: ['${statement.value}/*'],
      },
    });
  });

  test('no wildcard action or resource, and nothing that creates, drops or reads the stream', () => {
    for (const s of statements(hcl)) {
      for (const a of s.actions)
        expect({ sid: s.sid, a, wildcard: a.includes('*') }).toEqual({ sid: s.sid, a, wildcard: false });
      expect(JSON.stringify(s.resources)).not.toMatch(/"\*"|:\*"/);
      expect(
        s.actions.filter((a: string) =>
          /Create|Drop|Put(Bucket|Role)|GetRecords|GetShardIterator|DeleteTable/.test(a),
        ),
      ).toEqual([]);
    }
  });

  test('the archive statements exist only when an archive bucket is given', () => {
    for (const d of hcl.data.aws_iam_policy_document.this[0].dynamic.statement)
      expect(d.for_each).toBe(ref('var.archive_bucket_arn == null ? [] : [var.archive_bucket_arn]'));
    expect(hcl.variable.archive_bucket_arn[0].default).toBeNull();
  });

  test('table_arns must name every table pulse erase touches', () => {
    const validation = hcl.variable.table_arns[0].validation[0];
    for (const t of ['sessions', 'fraud-state', 'alerts', 'replay-ledger', 'erasures']) {
      expect(validation.condition).toContain(`"${t}"`);
      expect(Object.keys(resources.tables)).toContain(t);
    }
  });

  test('a policy resource of its own, with its ARN as an output', () => {
    expect(hcl.resource.aws_iam_policy.this[0].policy).toBe(ref('data.aws_iam_policy_document.this.json'));
    expect(hcl.output.policy_arn[0].value).toBe(ref('aws_iam_policy.this.arn'));
    expect(hcl.output.policy_arn[0].description).toBeTruthy();
  });
});

describe('modules/pulse and the roots: the policy, the key, the grants', () => {
  let pulse: Json;
  beforeAll(async () => {
    pulse = await convertFiles(join(tf, 'modules', 'pulse'));
  });

  test('the operator policy is wired to this environment’s tables, queue, secret, key, stream and functions', () => {
    const [call] = pulse.module.erasure_operator;
    expect(call).toMatchObject({
      source: '../erasure-operator',
      name: '${local.prefix}-erasure-operator',
      table_arns: ref('module.tables.arns'),
      invalid_records_queue_arn: ref('local.queue_arns["invalid-records"]'),
      erasure_key_secret_arn: ref('aws_secretsmanager_secret.resource["erasure-key"].arn'),
      kms_key_arn: ref('aws_kms_key.this.arn'),
      stream_arn: ref('module.stream.arn'),
      // From the names, so the policy does not depend on the event source mappings.
      function_arns: ref(
        '[for k in keys(local.fn) : "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:function:${local.prefix}-${k}"]',
      ),
      // The archive module has count = archive.enabled ? 1 : 0: its ARN, or null (no archive statements).
      archive_bucket_arn: ref('one(module.archive[*].bucket_arn)'),
    });
    expect(pulse.output.erasure_operator_policy_arn[0].value).toBe(ref('module.erasure_operator.policy_arn'));
  });

  test.each(['dev', 'staging', 'prod'])('%s exposes the policy ARN', async (env) => {
    const root = await convertFiles(join(tf, 'envs', env));
    expect(root.output.erasure_operator_policy_arn[0].value).toBe(
      ref('module.pulse.erasure_operator_policy_arn'),
    );
  });

  test('the erasure key: one secret per resources.json secret, KMS-encrypted, generated once and never replaced by a plan', () => {
    expect(Object.keys(resources.secrets)).toEqual(['erasure-key']);
    const [secret] = pulse.resource.aws_secretsmanager_secret.resource;
    expect(secret.for_each).toBe(ref('local.resources.secrets'));
    expect(secret.kms_key_id).toBe(ref('aws_kms_key.this.arn'));
    const [version] = pulse.resource.aws_secretsmanager_secret_version.resource;
    expect(version.secret_string).toBe(
      ref('data.aws_secretsmanager_random_password.secret[each.key].random_password'),
    );
    expect(version.lifecycle[0].ignore_changes).toEqual([ref('secret_string')]);
  });

  test('a function gets its secrets as environment variables and GetSecretValue on exactly them', () => {
    const [call] = pulse.module.functions;
    expect(call.environment_variables).toContain(
      '{ for env, r in each.value.secrets : env => aws_secretsmanager_secret.resource[r.key].arn }',
    );
    expect(call.resource_access).toContain(
      '{ for env, r in each.value.secrets : env => { arns = [aws_secretsmanager_secret.resource[r.key].arn], actions = r.actions } }',
    );
  });

  test.each(functions)(
    '%s reads the tombstones: Scan on erasures only, the key, a refresh interval',
    (fn) => {
      const c = fnConfig(fn);
      expect(c.resources.tables.ERASURES_TABLE).toEqual({ table: 'erasures', actions: ['dynamodb:Scan'] });
      expect(c.resources.secrets.ERASURE_KEY_SECRET).toEqual({
        secret: 'erasure-key',
        actions: ['secretsmanager:GetSecretValue'],
      });
      expect(Number(c.environment.TOMBSTONE_REFRESH_SECONDS)).toBeGreaterThan(0);
    },
  );
});
