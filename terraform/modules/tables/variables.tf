variable "name_prefix" {
  description = "Prefix of every table name; a table's physical name is <name_prefix>-<key> (e.g. pulse-dev-sessions)."
  type        = string
}

variable "tables" {
  description = "Tables keyed by their key in services/resources.json. Keys are strings (S). ttl_attribute enables TTL. global_secondary_indexes are sparse string-keyed indexes with projection ALL."
  type = map(object({
    hash_key      = string
    range_key     = optional(string)
    ttl_attribute = optional(string)
    global_secondary_indexes = optional(list(object({
      name      = string
      hash_key  = string
      range_key = optional(string)
    })), [])
  }))

  validation {
    condition     = alltrue([for k, t in var.tables : can(regex("^[a-z0-9-]+$", k)) && t.hash_key != ""])
    error_message = "Table keys must be lower-case kebab-case and every table needs a hash_key."
  }

  validation {
    condition = alltrue([for k, t in var.tables : alltrue([
      for i in t.global_secondary_indexes : can(regex("^[a-zA-Z0-9_.-]{3,255}$", i.name)) && i.hash_key != "" && i.range_key != ""
    ]) && length(distinct([for i in t.global_secondary_indexes : i.name])) == length(t.global_secondary_indexes)])
    error_message = "Every global secondary index needs a unique name (3-255 of [a-zA-Z0-9_.-]) and a hash_key; range_key is optional but not empty."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key used for server-side encryption."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery (continuous backups) on every table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Protect the tables from deletion (turn off before `make destroy`)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
