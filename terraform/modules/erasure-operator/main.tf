# The operator's permissions for `pulse erase` and nothing else: read and delete one user's items
# (the tables are keyed by user, except alerts and the failure ledger, which are scanned), receive
# and delete invalid-records messages, rewrite archive objects, read the erasure key, and write the
# audit trail. No table can be created, dropped or scanned beyond these, no stream is read.

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "SessionsOfOneUser"
    actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
    resources = [var.table_arns["sessions"]]
  }

  statement {
    sid       = "FraudStateOfOneUser"
    actions   = ["dynamodb:GetItem", "dynamodb:DeleteItem"]
    resources = [var.table_arns["fraud-state"]]
  }

  # Alerts are keyed by alert id and ledger entries by function and shard: found by a filtered scan.
  statement {
    sid       = "AlertsAndLedgerEntriesOfOneUser"
    actions   = ["dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
    resources = [var.table_arns["alerts"], var.table_arns["replay-ledger"]]
  }

  statement {
    sid       = "TombstonesAndAuditTrail"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"]
    resources = [var.table_arns["erasures"]]
  }

  # SQS messages cannot be edited: received, the user's deleted, the rest made visible again.
  statement {
    sid       = "InvalidRecordsNamingTheUser"
    actions   = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = [var.invalid_records_queue_arn]
  }

  statement {
    sid       = "ErasureKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.erasure_key_secret_arn]
  }

  statement {
    sid       = "EncryptedResources"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "StreamRetention"
    actions   = ["kinesis:DescribeStreamSummary"]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "RefreshIntervalAndTimeout"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = var.function_arns
  }

  dynamic "statement" {
    for_each = var.archive_bucket_arn == null ? [] : [var.archive_bucket_arn]
    content {
      sid       = "ArchiveListing"
      actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.archive_bucket_arn == null ? [] : [var.archive_bucket_arn]
    content {
      sid = "ArchiveRewrite"
      # The bucket is versioned: the user's rows in earlier versions are read and deleted too.
      actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = ["${statement.value}/*"]
    }
  }
}

resource "aws_iam_policy" "this" {
  name        = var.name
  description = "pulse erase: forget one user (tables, invalid-records queue, archive) and record the erasure"
  policy      = data.aws_iam_policy_document.this.json
  tags        = var.tags
}
