# The event archive: a private, versioned, KMS-encrypted bucket; the Glue tables over its Parquet
# files (partition projection, so no crawler and no partition maintenance); an Athena workgroup with
# encrypted results and a per-query scan limit; the saved queries the local SQL engine also runs.

data "aws_caller_identity" "current" {}

locals {
  bucket  = "${var.name_prefix}-archive-${data.aws_caller_identity.current.account_id}"
  columns = jsondecode(file("${var.schema_dir}/archive-columns.json"))
  queries = {
    "events-per-day"  = "Events per day and type (each event once). Parameters: first day, last day (YYYY-MM-DD)."
    "user-history"    = "One user's events in order. Parameters: user id, first day, last day."
    "purchase-funnel" = "Users who viewed a product, then added to cart, then purchased. Parameters: first day, last day."
  }
  database = replace("${var.name_prefix}_archive", "-", "_")
  # ub, dt, hr: services/shared/archive/layout.ts; the projection lists every partition without a crawler.
  projection = {
    "projection.enabled"   = "true"
    "projection.ub.type"   = "integer"
    "projection.ub.range"  = "0,15"
    "projection.ub.digits" = "2"
    "projection.dt.type"   = "date"
    "projection.dt.format" = "yyyy-MM-dd"
    # From the schema's earliest event time (services/shared/event.ts) to tomorrow: an event may be
    # up to MAX_EVENT_AHEAD_SECONDS (at most a day) ahead of its arrival. Queries filter on dt.
    "projection.dt.range"         = "2000-01-01,NOW+1DAYS"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "projection.hr.type"          = "integer"
    "projection.hr.range"         = "0,23"
    "projection.hr.digits"        = "2"
  }
}

resource "aws_s3_bucket" "archive" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage; the archive is a copy of the stream, and replay from the stream covers its retention.
  #checkov:skip=CKV_AWS_18:Access logging would write a log object per request into another bucket; CloudTrail data events are the audit path when needed.
  #checkov:skip=CKV2_AWS_62:No consumer of object-created notifications: compaction runs on a schedule.
  bucket = local.bucket
  tags   = merge(var.tags, { Name = local.bucket })
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket                  = aws_s3_bucket.archive.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One KMS request per bucket key period instead of one per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket     = aws_s3_bucket.archive.id
  depends_on = [aws_s3_bucket_versioning.archive]

  # Every prefix: a PUT that never completed leaves no billed parts behind.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "events-tiering"
    status = "Enabled"
    filter {
      prefix = "events/"
    }
    transition {
      days          = var.lifecycle_days.infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.lifecycle_days.glacier_ir_days
      storage_class = "GLACIER_IR"
    }
    dynamic "expiration" {
      for_each = var.lifecycle_days.expire_days > 0 ? [var.lifecycle_days.expire_days] : []
      content {
        days = expiration.value
      }
    }
    # Compaction and erasure overwrite and delete files: old versions go after a short undo window,
    # so an erased user's rows do not live on in them.
    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_days
    }
  }

  rule {
    id     = "invalid-records"
    status = "Enabled"
    filter {
      prefix = "invalid/"
    }
    transition {
      days          = var.lifecycle_days.infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_days
    }
  }

  rule {
    id     = "athena-results"
    status = "Enabled"
    filter {
      prefix = "athena-results/"
    }
    expiration {
      days = var.lifecycle_days.athena_results_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
}

data "aws_iam_policy_document" "archive" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.archive.arn,
      "${aws_s3_bucket.archive.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "archive" {
  bucket     = aws_s3_bucket.archive.id
  policy     = data.aws_iam_policy_document.archive.json
  depends_on = [aws_s3_bucket_public_access_block.archive]
}

# --- catalog --------------------------------------------------------------------------------------

resource "aws_glue_catalog_database" "archive" {
  name        = local.database
  description = "Pulse event archive (${var.name_prefix})"
}

resource "aws_glue_catalog_table" "archive" {
  for_each = { events = "events", invalid = "invalid" }

  name          = each.key
  database_name = aws_glue_catalog_database.archive.name
  table_type    = "EXTERNAL_TABLE"
  description   = each.key == "events" ? "Every valid event; rows may repeat until their hour is compacted: de-duplicate by event_id (the saved queries do)." : "Invalid records with their reason, by arrival time."

  parameters = merge(local.projection, {
    classification              = "parquet"
    EXTERNAL                    = "TRUE"
    "storage.location.template" = "s3://${aws_s3_bucket.archive.id}/${each.value}/ub=$${ub}/dt=$${dt}/hr=$${hr}/"
  })

  dynamic "partition_keys" {
    for_each = local.columns.partitions
    content {
      name    = partition_keys.value.name
      type    = partition_keys.value.type
      comment = partition_keys.value.comment
    }
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.archive.id}/${each.value}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = local.columns[each.key]
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

# --- query ----------------------------------------------------------------------------------------

resource "aws_athena_workgroup" "archive" {
  name          = "${var.name_prefix}-archive"
  description   = "Queries of the Pulse event archive: encrypted results, bounded scans"
  force_destroy = true

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${aws_s3_bucket.archive.id}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "archive" {
  for_each = local.queries

  name        = "${var.name_prefix}-${each.key}"
  description = each.value
  workgroup   = aws_athena_workgroup.archive.id
  database    = aws_glue_catalog_database.archive.name
  query       = templatefile("${var.schema_dir}/queries/${each.key}.sql", { events = "${aws_glue_catalog_database.archive.name}.events" })
}
