variable "name" {
  description = "Name of the IAM policy (pulse-<environment>-erasure-operator)."
  type        = string
}

variable "table_arns" {
  description = "ARNs of the tables pulse erase reads and deletes from, keyed by resources.json key: sessions, fraud-state, alerts, replay-ledger, erasures."
  type        = map(string)

  validation {
    condition     = alltrue([for k in ["sessions", "fraud-state", "alerts", "replay-ledger", "erasures"] : contains(keys(var.table_arns), k)])
    error_message = "table_arns must name sessions, fraud-state, alerts, replay-ledger and erasures."
  }
}

variable "stream_arn" {
  description = "ARN of the Kinesis stream (pulse erase reads its retention period to size the tombstone)."
  type        = string
}

variable "invalid_records_queue_arn" {
  description = "ARN of the invalid-records queue (pulse erase receives it and deletes the messages naming the user)."
  type        = string
}

variable "erasure_key_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the HMAC key tombstones are keyed with."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key (tables, queue and secret are encrypted with it)."
  type        = string
}

variable "function_arns" {
  description = "ARNs of the Lambda functions (pulse erase reads their configuration for the tombstone refresh interval and timeout)."
  type        = list(string)
}

variable "archive_bucket_arn" {
  description = "ARN of the S3 archive bucket pulse erase rewrites, or null when the environment has no archive."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the policy."
  type        = map(string)
  default     = {}
}
