# The whole Pulse stack of one environment. The environment roots (terraform/envs/*) only choose
# sizes and thresholds; everything about the functions comes from services/*/function.json and
# services/resources.json (jsondecode(file(...)) — one source of truth with the code and local runner).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  services_dir = coalesce(var.services_dir, "${path.module}/../../../services")
  package_dir  = coalesce(var.package_dir, "${path.module}/../../../dist")
  prefix       = "pulse-${var.environment}"
  tags         = merge({ Project = "pulse", Environment = var.environment }, var.tags)

  resources = jsondecode(file("${local.services_dir}/resources.json"))
  namespace = local.resources.metrics.namespace

  # Every services/<fn>/function.json, normalised to one type so for_each can use it.
  functions = {
    for f in fileset(local.services_dir, "*/function.json") : dirname(f) => jsondecode(file("${local.services_dir}/${f}"))
  }
  fn = {
    for k, c in local.functions : k => {
      description          = c.description
      memory_size          = c.memorySize
      timeout              = c.timeout
      environment          = tomap(c.environment)
      event_source_mapping = c.eventSourceMapping
      tables               = { for env, r in c.resources.tables : env => { key = r.table, actions = tolist(r.actions) } }
      # Index reads are granted per index ("indexes": { "<gsi>": [actions] } under a table grant),
      # on <table>/index/<gsi> only.
      index_grants = merge([
        for env, r in c.resources.tables : {
          for idx, actions in try(r.indexes, {}) : "${env}_INDEX_${idx}" => { key = r.table, index = idx, actions = tolist(actions) }
        }
      ]...)
      queues          = { for env, r in c.resources.queues : env => { key = r.queue, actions = tolist(r.actions) } }
      topics          = { for env, r in c.resources.topics : env => { key = r.topic, actions = tolist(r.actions) } }
      secrets         = { for env, r in try(c.resources.secrets, {}) : env => { key = r.secret, actions = tolist(r.actions) } }
      buckets         = { for env, r in try(c.resources.buckets, {}) : env => { key = r.bucket, actions = tolist(r.actions) } if var.archive.enabled }
      put_metric_data = c.resources.putMetricData
      # Extra actions on the stream itself (e.g. kinesis:ListShards for parent-shard lookups).
      stream_actions = tolist(try(c.resources.stream.actions, []))
      # A function that keeps per-shard state (its watermarks table) must have one poller per shard.
      per_shard_state = contains([for r in values(c.resources.tables) : r.table], "watermarks")
      # Optional periodic invocation with a fixed input (function.json "schedule").
      schedule = try({ expression = c.schedule.expression, input = jsonencode(c.schedule.input) }, null)
    }
    # Without the archive (var.archive.enabled = false) its writer is not deployed either.
    if var.archive.enabled || k != "archive-writer"
  }


  # FRAUD_RULES: seed from function.json, thresholds overridden per environment.
  fraud_seed = jsondecode(local.functions["fraud-rules"].environment.FRAUD_RULES)
  fr         = var.fraud_rules
  fraud_rules_json = jsonencode({
    largePurchase = {
      enabled   = !contains(local.fr.disabled_rules, "largePurchase")
      threshold = coalesce(local.fr.large_purchase_threshold, local.fraud_seed.largePurchase.threshold)
    }
    purchaseVelocity = {
      enabled       = !contains(local.fr.disabled_rules, "purchaseVelocity")
      count         = coalesce(local.fr.purchase_velocity_count, local.fraud_seed.purchaseVelocity.count)
      windowMinutes = coalesce(local.fr.purchase_velocity_window_minutes, local.fraud_seed.purchaseVelocity.windowMinutes)
    }
    spendVelocity = {
      enabled       = !contains(local.fr.disabled_rules, "spendVelocity")
      amount        = coalesce(local.fr.spend_velocity_amount, local.fraud_seed.spendVelocity.amount)
      windowMinutes = coalesce(local.fr.spend_velocity_window_minutes, local.fraud_seed.spendVelocity.windowMinutes)
    }
    countryHop = {
      enabled       = !contains(local.fr.disabled_rules, "countryHop")
      windowMinutes = coalesce(local.fr.country_hop_window_minutes, local.fraud_seed.countryHop.windowMinutes)
    }
    cooldownMinutes = coalesce(local.fr.cooldown_minutes, local.fraud_seed.cooldownMinutes)
  })

  queue_urls = { for k, q in aws_sqs_queue.resource : k => q.url }
  queue_arns = { for k, q in aws_sqs_queue.resource : k => q.arn }
  topic_arns = { alerts = module.alerts.topic_arn }
  # resources.json "buckets": the archive is the only one. Object ARNs are the bucket's plus "/*".
  bucket_names       = { for a in module.archive : "archive" => a.bucket_name }
  bucket_arns        = { for a in module.archive : "archive" => a.bucket_arn }
  bucket_object_arns = { for k, arn in local.bucket_arns : k => "${arn}/*" }
}

# --- encryption -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policies must grant the account root kms:* on "*" (the key itself); IAM policies then scope usage per role.
  #checkov:skip=CKV_AWS_111:Same key-policy root statement; "*" in a key policy means this key only.
  #checkov:skip=CKV_AWS_356:Same key-policy root statement; "*" in a key policy means this key only.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsFunctionLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${local.prefix}-*"]
    }
  }

  # CloudWatch alarms publish to the encrypted ops topic; SNS delivers this environment's topics to
  # the encrypted SQS feed. Each service may use the key only for this account (aws:SourceAccount)
  # and this environment's own alarms or topics (aws:SourceArn), so no other alarm or topic in the
  # account can act through the service as a confused deputy.
  dynamic "statement" {
    for_each = local.kms_service_sources
    content {
      sid       = statement.value.sid
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = [statement.key]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [statement.value.source_arn]
      }
    }
  }
}

locals {
  # Service principal -> the statement's sid and the ARNs (aws:SourceArn) it may use the key for.
  kms_service_sources = {
    "cloudwatch.amazonaws.com" = {
      sid        = "CloudWatchAlarmsPublishToEncryptedTopics"
      source_arn = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:alarm:${local.prefix}-*"
    }
    "sns.amazonaws.com" = {
      sid        = "SnsTopicsDeliverToEncryptedQueues"
      source_arn = "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:${local.prefix}-*"
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Pulse ${var.environment}: stream, tables, queues, topics, logs and function environments"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.this.key_id
}

# --- data plane -----------------------------------------------------------------------------------

module "stream" {
  source = "../stream"

  name            = "${local.prefix}-${local.resources.stream.name}"
  capacity        = { mode = var.stream.mode, shard_count = var.stream.shard_count }
  retention_hours = var.stream.retention_hours
  kms_key_arn     = aws_kms_key.this.arn
  tags            = local.tags
}

module "tables" {
  source = "../tables"

  name_prefix = local.prefix
  tables = {
    for k, t in local.resources.tables : k => {
      hash_key      = t.hashKey
      range_key     = try(t.rangeKey, null)
      ttl_attribute = try(t.ttlAttribute, null)
      global_secondary_indexes = [
        for i in try(t.globalSecondaryIndexes, []) : { name = i.name, hash_key = i.hashKey, range_key = try(i.rangeKey, null) }
      ]
    }
  }
  kms_key_arn            = aws_kms_key.this.arn
  point_in_time_recovery = var.tables.point_in_time_recovery
  deletion_protection    = var.tables.deletion_protection
  tags                   = local.tags
}

# Queues the services write to (resources.json "queues", e.g. invalid-records).
resource "aws_sqs_queue" "resource" {
  for_each = local.resources.queues

  name                      = "${local.prefix}-${each.key}"
  kms_master_key_id         = aws_kms_key.this.arn
  message_retention_seconds = 1209600
  # The sender sizes each message to this same number (resources.json), so nothing is cut or lost.
  max_message_size = try(each.value.maxMessageBytes, null)
  tags             = merge(local.tags, { Name = "${local.prefix}-${each.key}" })
}

# Secrets the functions read (resources.json "secrets": the erasure key tombstones are keyed with).
# Secrets Manager generates the value once; later plans keep it (ignore_changes), because a new key
# would make every existing tombstone stop matching.
data "aws_secretsmanager_random_password" "secret" {
  for_each = local.resources.secrets

  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "resource" {
  #checkov:skip=CKV2_AWS_57:Rotating the erasure key would orphan every tombstone; it is generated once.
  for_each = local.resources.secrets

  name                    = "${local.prefix}-${each.key}"
  description             = each.value.description
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 30
  tags                    = merge(local.tags, { Name = "${local.prefix}-${each.key}" })
}

resource "aws_secretsmanager_secret_version" "resource" {
  for_each = local.resources.secrets

  secret_id     = aws_secretsmanager_secret.resource[each.key].id
  secret_string = data.aws_secretsmanager_random_password.secret[each.key].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# The event archive (S3 + Glue + Athena); archive-writer fills it.
module "archive" {
  source = "../archive"
  count  = var.archive.enabled ? 1 : 0

  name_prefix                 = local.prefix
  kms_key_arn                 = aws_kms_key.this.arn
  schema_dir                  = "${local.services_dir}/schema"
  lifecycle_days              = var.archive.lifecycle_days
  athena_bytes_scanned_cutoff = var.archive.athena_bytes_scanned_cutoff
  tags                        = local.tags
}

module "alerts" {
  source = "../alerts"

  name                = "${local.prefix}-alerts"
  kms_key_arn         = aws_kms_key.this.arn
  email_subscriptions = var.alert_email_subscriptions
  slack               = var.alert_slack
  sqs_subscription    = var.alert_sqs_subscription
  tags                = local.tags
}

module "functions" {
  source   = "../consumer-function"
  for_each = local.fn

  name               = "${local.prefix}-${each.key}"
  description        = each.value.description
  package_path       = "${local.package_dir}/${each.key}.zip"
  memory_size        = each.value.memory_size
  timeout            = each.value.timeout
  stream_arn         = module.stream.arn
  kms_key_arn        = aws_kms_key.this.arn
  log_retention_days = var.log_retention_days
  tracing_mode       = var.tracing_mode

  stream_retention_hours = var.stream.retention_hours
  put_metric_data        = each.value.put_metric_data
  metrics_namespace      = local.namespace
  runtime                = var.lambda_runtime
  architecture           = var.lambda_architecture
  handler                = var.lambda_handler
  log_format             = var.lambda_log_format
  schedule               = each.value.schedule

  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, null)

  event_source_mapping = {
    batch_size                         = each.value.event_source_mapping.batchSize
    maximum_batching_window_in_seconds = each.value.event_source_mapping.maximumBatchingWindowInSeconds
    parallelization_factor             = each.value.event_source_mapping.parallelizationFactor
    starting_position                  = each.value.event_source_mapping.startingPosition
    maximum_retry_attempts             = each.value.event_source_mapping.maximumRetryAttempts
    bisect_batch_on_function_error     = each.value.event_source_mapping.bisectBatchOnFunctionError
    maximum_record_age_in_seconds      = each.value.event_source_mapping.maximumRecordAgeInSeconds
    per_shard_state                    = each.value.per_shard_state
  }

  environment_variables = merge(
    each.value.environment,
    { ENVIRONMENT = var.environment },
    { MAX_EVENT_AHEAD_SECONDS = tostring(var.max_event_ahead_seconds) },
    # The code traces its SDK clients only when told so: the trace header does not exist yet at cold start.
    { TRACING_MODE = var.tracing_mode },
    { for env, r in each.value.tables : env => module.tables.names[r.key] },
    { for env, r in each.value.queues : env => local.queue_urls[r.key] },
    { for env, r in each.value.topics : env => local.topic_arns[r.key] },
    { for env, r in each.value.secrets : env => aws_secretsmanager_secret.resource[r.key].arn },
    { for env, r in each.value.buckets : env => local.bucket_names[r.key] },
    each.value.put_metric_data ? { METRICS_NAMESPACE = local.namespace } : {},
    contains(keys(each.value.environment), "FRAUD_RULES") ? { FRAUD_RULES = local.fraud_rules_json } : {},
  )

  # Least privilege: exactly the actions function.json lists, on exactly the resources it names.
  resource_access = merge(
    { for env, r in each.value.tables : env => { arns = [module.tables.arns[r.key]], actions = r.actions } },
    # An index function.json names that resources.json does not declare fails the plan here.
    { for k, g in each.value.index_grants : k => { arns = [module.tables.index_arns[g.key][g.index]], actions = g.actions } },
    { for env, r in each.value.queues : env => { arns = [local.queue_arns[r.key]], actions = r.actions } },
    { for env, r in each.value.topics : env => { arns = [local.topic_arns[r.key]], actions = r.actions } },
    { for env, r in each.value.secrets : env => { arns = [aws_secretsmanager_secret.resource[r.key].arn], actions = r.actions } },
    { for env, r in each.value.buckets : env => { arns = [local.bucket_arns[r.key], local.bucket_object_arns[r.key]], actions = r.actions } },
    length(each.value.stream_actions) > 0 ? { STREAM = { arns = [module.stream.arn], actions = each.value.stream_actions } } : {},
  )

  tags = local.tags
}

# --- operations -----------------------------------------------------------------------------------

module "ops" {
  source = "../alerts"

  name                = "${local.prefix}-ops"
  kms_key_arn         = aws_kms_key.this.arn
  email_subscriptions = [for a in var.ops_email_addresses : { address = a }]
  # Mail only changes into or out of ALARM: a new alarm moving from INSUFFICIENT_DATA to OK (every
  # alarm, on the first deploy) is not news. CloudWatch's notification body carries both states.
  email_body_filter_policy = file("${path.module}/policies/ops-email-filter.json")
  tags                     = local.tags
}

module "observability" {
  source = "../observability"

  name_prefix       = local.prefix
  environment       = var.environment
  metrics_namespace = local.namespace
  alarm_topic_arn   = module.ops.topic_arn
  alerts_topic_name = module.alerts.topic_name
  stream_name       = module.stream.name
  thresholds        = var.alarm_thresholds
  anomaly           = var.anomaly_alarms
  # Parked alerts are counted from fraud-rules' own log (a metric filter on its ERROR line).
  fraud_rules_log_group_name = module.functions["fraud-rules"].log_group_name
  functions = {
    for k, f in module.functions : k => {
      function_name         = f.function_name
      on_failure_queue_name = f.on_failure_queue_name
      log_group_name        = f.log_group_name
    }
  }
  tags = local.tags
}

# --- erasure --------------------------------------------------------------------------------------

# The operator's narrow policy for `pulse erase`, kept apart from everything else so it can be
# attached to exactly the people who handle erasure requests. Without an archive (archive.enabled =
# false) the bucket ARN is null and the policy has no archive statements.
module "erasure_operator" {
  source = "../erasure-operator"

  name                      = "${local.prefix}-erasure-operator"
  table_arns                = module.tables.arns
  stream_arn                = module.stream.arn
  invalid_records_queue_arn = local.queue_arns["invalid-records"]
  erasure_key_secret_arn    = aws_secretsmanager_secret.resource["erasure-key"].arn
  kms_key_arn               = aws_kms_key.this.arn
  # Built from the names rather than read from module.functions: a whole-module reference would make
  # this policy wait for (and a targeted apply include) every function's event source mapping.
  function_arns      = [for k in keys(local.fn) : "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:function:${local.prefix}-${k}"]
  archive_bucket_arn = one(module.archive[*].bucket_arn)
  tags               = local.tags
}
