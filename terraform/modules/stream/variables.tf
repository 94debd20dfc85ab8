variable "name" {
  description = "Physical name of the Kinesis data stream (pulse-<environment>-events)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.name))
    error_message = "The stream name must be 1-128 characters of [a-zA-Z0-9_.-]."
  }
}

variable "capacity" {
  description = "Capacity mode: ON_DEMAND (default, scales by itself) or PROVISIONED with shard_count shards."
  type = object({
    mode        = optional(string, "ON_DEMAND")
    shard_count = optional(number, 1)
  })
  default = {}

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.capacity.mode)
    error_message = "capacity.mode must be ON_DEMAND or PROVISIONED."
  }

  validation {
    condition     = var.capacity.shard_count >= 1 && floor(var.capacity.shard_count) == var.capacity.shard_count
    error_message = "capacity.shard_count must be a whole number >= 1."
  }
}

variable "retention_hours" {
  description = "How long records stay on the stream, in hours (24-8760). Replays and consumers that fall behind need it."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "retention_hours must be between 24 and 8760."
  }
}

variable "kms_key_arn" {
  description = "ARN (or alias) of the KMS key used for server-side encryption of the stream."
  type        = string
}

variable "shard_level_metrics" {
  description = "Enhanced shard-level CloudWatch metrics to enable (extra cost); empty disables them."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
