# One stream consumer: an enhanced fan-out consumer, its Lambda function, least-privilege role,
# log group and on-failure queue. Instantiated once per function (for_each in modules/pulse).

data "aws_caller_identity" "current" {}

locals {
  tags = merge(var.tags, { Function = var.name })
}

# --- enhanced fan-out consumer + mapping ------------------------------------------------------

resource "aws_kinesis_stream_consumer" "this" {
  name       = var.name
  stream_arn = var.stream_arn
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn = aws_kinesis_stream_consumer.this.arn # EFO: the consumer, not the stream
  function_name    = aws_lambda_function.this.arn

  starting_position                  = var.event_source_mapping.starting_position
  batch_size                         = var.event_source_mapping.batch_size
  maximum_batching_window_in_seconds = var.event_source_mapping.maximum_batching_window_in_seconds
  parallelization_factor             = var.event_source_mapping.parallelization_factor
  maximum_retry_attempts             = var.event_source_mapping.maximum_retry_attempts
  bisect_batch_on_function_error     = var.event_source_mapping.bisect_batch_on_function_error
  maximum_record_age_in_seconds      = var.event_source_mapping.maximum_record_age_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }

  tags = local.tags

  # Lambda checks the role's permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    # Retention and record age agree: with -1 Lambda retries for as long as the stream keeps the
    # record; a finite age must leave time to replay the on-failure message before the trim.
    precondition {
      condition     = var.event_source_mapping.maximum_record_age_in_seconds == -1 || var.event_source_mapping.maximum_record_age_in_seconds <= (var.stream_retention_hours - var.replay_window_hours) * 3600
      error_message = "maximum_record_age_in_seconds must be -1 or end replay_window_hours before the stream's retention (stream_retention_hours), or a batch given up for age can never be replayed."
    }
  }
}

# Per-function on-failure destination: what one function could not process is replayed by that
# function only, its depth alarm names the function, and each role can write to its own queue only.
resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.name}-on-failure"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

# --- function ---------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost choice (var.log_retention_days); metrics, not logs, are the long-term record.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_115:Reserved concurrency is a per-environment choice (var.reserved_concurrent_executions, unset = unreserved): on-demand streams add shards on their own, so only a reservation caps concurrency, and a reached cap throttles the stream.
  #checkov:skip=CKV_AWS_116:A DLQ applies to asynchronous invokes; stream batches go to the mapping's on-failure SQS destination instead.
  #checkov:skip=CKV_AWS_117:No VPC: the function only calls AWS public endpoints (Kinesis, DynamoDB, SNS, SQS, CloudWatch) with IAM auth.
  #checkov:skip=CKV_AWS_272:Code signing is not used: bundles are built deterministically by `make build` in CI and deployed by Terraform with source_code_hash.
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in per environment (var.tracing_mode); pipeline lag is tracked by the PipelineLagMs metric.
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn
  runtime       = var.runtime
  architectures = [var.architecture]
  handler       = var.handler
  filename      = var.package_path
  # Hashed only when the bundle exists: `make destroy` (and any plan that only reads state) must
  # work from a fresh clone without dist/. Creating or updating the function without its bundle
  # is stopped by the precondition below, never silently deployed without a hash.
  source_code_hash               = fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = var.environment_variables
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = fileexists(var.package_path)
      error_message = "The function bundle ${var.package_path} is missing: run `make build` first."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

# --- optional schedule (function.json "schedule") ----------------------------------------------
# EventBridge Scheduler invokes the function with a fixed input through its own role, which may
# invoke this function only; no resource-based permission on the function is needed.

data "aws_iam_policy_document" "scheduler_assume" {
  count = var.schedule == null ? 0 : 1

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = var.schedule == null ? 0 : 1

  name               = "${var.name}-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume[0].json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  count = var.schedule == null ? 0 : 1

  statement {
    sid       = "InvokeOwnFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.schedule == null ? 0 : 1

  name   = "invoke-function"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

resource "aws_scheduler_schedule" "this" {
  #checkov:skip=CKV_AWS_297:The schedule holds only a constant input marker (function.json schedule.input), no customer data; the AWS owned key is enough.
  count = var.schedule == null ? 0 : 1

  name                = var.name
  description         = "Periodic invocation of ${var.name} (function.json schedule)."
  schedule_expression = var.schedule.expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = var.schedule.input

    # A missed run is picked up by the next one; retrying a stale run only adds load.
    retry_policy {
      maximum_event_age_in_seconds = 300
      maximum_retry_attempts       = 2
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

# --- least-privilege role ---------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "this" {
  # Lambda's poller reads the stream through this function's own EFO consumer.
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetRecords", "kinesis:GetShardIterator"]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "OwnConsumer"
    actions   = ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"]
    resources = [aws_kinesis_stream_consumer.this.arn]
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "OwnOnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.on_failure.arn]
  }

  # The stream, tables, queues and topics are encrypted with this key.
  statement {
    sid       = "UseEncryptionKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  # Exactly the actions function.json lists, on exactly the resources it names.
  dynamic "statement" {
    for_each = var.resource_access
    content {
      sid       = replace(title(lower(replace(statement.key, "/[^A-Za-z0-9]+/", " "))), " ", "")
      actions   = statement.value.actions
      resources = statement.value.arns
    }
  }

  dynamic "statement" {
    for_each = var.put_metric_data ? [var.metrics_namespace] : []
    content {
      sid       = "PutMetricDataInOwnNamespace"
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it

      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "XRayWriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"] # X-Ray has no resource-level permissions
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
