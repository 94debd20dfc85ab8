resource "aws_kinesis_stream" "this" {
  name                      = var.name
  shard_count               = var.capacity.mode == "PROVISIONED" ? var.capacity.shard_count : null
  retention_period          = var.retention_hours
  encryption_type           = "KMS"
  kms_key_id                = var.kms_key_arn
  shard_level_metrics       = var.shard_level_metrics
  enforce_consumer_deletion = true # consumers belong to this stack; destroy must not hang on them

  stream_mode_details {
    stream_mode = var.capacity.mode
  }

  tags = merge(var.tags, { Name = var.name })
}
