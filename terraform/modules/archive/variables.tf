variable "name_prefix" {
  description = "Prefix of every name (pulse-<environment>); the bucket adds -archive-<account id> to be globally unique."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the environment's KMS key: the bucket's default encryption and the Athena results' encryption."
  type        = string
}

variable "schema_dir" {
  description = "Folder of the generated archive-columns.json and the saved queries (services/schema)."
  type        = string
}

variable "lifecycle_days" {
  description = "When archived objects move to cheaper storage classes and when they expire; expire_days = 0 keeps events forever."
  type = object({
    infrequent_access_days = optional(number, 30)
    glacier_ir_days        = optional(number, 180)
    expire_days            = optional(number, 0)
    noncurrent_days        = optional(number, 7)
    athena_results_days    = optional(number, 7)
  })
  default = {}

  validation {
    condition     = var.lifecycle_days.infrequent_access_days >= 30 && var.lifecycle_days.glacier_ir_days > var.lifecycle_days.infrequent_access_days
    error_message = "infrequent_access_days must be >= 30 (S3's minimum) and glacier_ir_days later than it."
  }

  validation {
    condition     = var.lifecycle_days.expire_days == 0 || var.lifecycle_days.expire_days > var.lifecycle_days.glacier_ir_days
    error_message = "expire_days must be 0 (keep forever) or later than glacier_ir_days."
  }

  validation {
    condition     = var.lifecycle_days.noncurrent_days >= 1 && var.lifecycle_days.athena_results_days >= 1
    error_message = "noncurrent_days and athena_results_days must be at least 1."
  }
}

variable "athena_bytes_scanned_cutoff" {
  description = "Athena cancels a query of this workgroup once it has scanned this many bytes (at least 10 MB)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "athena_bytes_scanned_cutoff must be at least 10485760 (10 MB, Athena's minimum)."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
