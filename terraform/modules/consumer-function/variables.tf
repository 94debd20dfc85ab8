variable "name" {
  description = "Physical name of the function (pulse-<environment>-<function>); also names its role, log group, consumer and on-failure queue."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,52}$", var.name))
    error_message = "name must be 1-52 characters of [a-zA-Z0-9-_] (room is left for the -on-failure suffix)."
  }
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = ""
}

variable "package_path" {
  description = "Path of the deployment zip produced by `make build` (dist/<function>.zip, handler index.handler in index.mjs). Only read at plan/apply."
  type        = string
}

variable "memory_size" {
  description = "Memory in MB (from function.json)."
  type        = number

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds (from function.json)."
  type        = number

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "environment_variables" {
  description = "Complete environment of the function (static variables, resource names/URLs/ARNs, ENVIRONMENT...)."
  type        = map(string)
  default     = {}
}

variable "stream_arn" {
  description = "ARN of the Kinesis data stream the function's enhanced fan-out consumer registers on."
  type        = string
}

variable "event_source_mapping" {
  description = "Event source mapping settings (from function.json eventSourceMapping)."
  type = object({
    batch_size                         = number
    maximum_batching_window_in_seconds = number
    parallelization_factor             = number
    starting_position                  = string
    maximum_retry_attempts             = number
    bisect_batch_on_function_error     = bool
    maximum_record_age_in_seconds      = number
    per_shard_state                    = optional(bool, false)
  })

  validation {
    condition     = var.event_source_mapping.batch_size >= 1 && var.event_source_mapping.batch_size <= 10000
    error_message = "batch_size must be 1-10000 for Kinesis."
  }

  validation {
    condition     = var.event_source_mapping.maximum_batching_window_in_seconds >= 0 && var.event_source_mapping.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be 0-300."
  }

  validation {
    condition     = var.event_source_mapping.parallelization_factor >= 1 && var.event_source_mapping.parallelization_factor <= 10
    error_message = "parallelization_factor must be 1-10."
  }

  # A function that keeps state per shard (metrics-emitter's sequence watermark) must see each
  # shard's records in order from a single poller: more than one batch per shard at a time would
  # move the watermark past records another batch has not emitted yet.
  validation {
    condition     = !var.event_source_mapping.per_shard_state || var.event_source_mapping.parallelization_factor == 1
    error_message = "parallelization_factor must be 1 for a function that keeps per-shard state (per_shard_state = true)."
  }

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.event_source_mapping.starting_position)
    error_message = "starting_position must be TRIM_HORIZON or LATEST."
  }

  # -1 (infinite, Lambda's own default) is what Pulse deploys: a transient failure, however long,
  # never makes Lambda give up on a batch; a poison record is set aside per user by the function.
  validation {
    condition     = var.event_source_mapping.maximum_retry_attempts == -1 || (var.event_source_mapping.maximum_retry_attempts >= 0 && var.event_source_mapping.maximum_retry_attempts <= 10000)
    error_message = "maximum_retry_attempts must be -1 (infinite: retry until the record expires) or 0-10000."
  }

  validation {
    condition     = var.event_source_mapping.maximum_record_age_in_seconds == -1 || (var.event_source_mapping.maximum_record_age_in_seconds >= 60 && var.event_source_mapping.maximum_record_age_in_seconds <= 604800)
    error_message = "maximum_record_age_in_seconds must be -1 (infinite: as long as the stream keeps the record) or 60-604800."
  }
}

variable "stream_retention_hours" {
  description = "Retention of the source stream in hours: a finite maximum_record_age_in_seconds must end replay_window_hours before it, so a batch given up for age can still be replayed."
  type        = number

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "stream_retention_hours must be between 24 and 8760 (what Kinesis accepts)."
  }
}

variable "replay_window_hours" {
  description = "Hours an operator has to replay a batch given up for age before the stream trims it (only with a finite maximum_record_age_in_seconds)."
  type        = number
  default     = 6

  validation {
    condition     = var.replay_window_hours >= 1
    error_message = "replay_window_hours must be at least 1."
  }
}

variable "resource_access" {
  description = "Least-privilege grants keyed by the environment variable that names the resource: exactly these actions on exactly these ARNs."
  type = map(object({
    arns    = list(string)
    actions = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, v in var.resource_access : length(v.arns) > 0 && length(v.actions) > 0 && !contains(v.arns, "*") && alltrue([for a in v.actions : !strcontains(a, "*")])])
    error_message = "resource_access entries need explicit ARNs and actions (no wildcards)."
  }
}

variable "put_metric_data" {
  description = "Allow cloudwatch:PutMetricData, restricted to metrics_namespace by an IAM condition."
  type        = bool
  default     = false
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the function may publish to when put_metric_data is true."
  type        = string
  default     = "Pulse"
}

variable "kms_key_arn" {
  description = "Customer managed KMS key: encrypts the environment, logs and on-failure queue, and is needed to read the stream and use the encrypted tables/queues/topics."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: PassThrough (default) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}

variable "runtime" {
  description = "Lambda runtime identifier."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs[0-9]+\\.x$", var.runtime))
    error_message = "runtime must be a Node.js runtime (nodejsNN.x): the bundles are ES modules for Node.js."
  }
}

variable "architecture" {
  description = "Instruction set architecture of the function: arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "handler" {
  description = "Function entry point (<file without extension>.<export>)."
  type        = string
  default     = "index.handler"

  validation {
    condition     = can(regex("^[^.\\s]+\\.[A-Za-z_$][A-Za-z0-9_$]*$", var.handler))
    error_message = "handler must look like index.handler."
  }
}

variable "log_format" {
  description = "Lambda log format: Text (the services already write one JSON object per line) or JSON."
  type        = string
  default     = "Text"

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "log_format must be Text or JSON."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the function; null = unreserved (the account's unreserved pool)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be null or a whole number >= 0."
  }
}

variable "schedule" {
  description = "Optional periodic invocation through EventBridge Scheduler: { expression = \"rate(5 minutes)\", input = <JSON string> }; null = none."
  type = object({
    expression = string
    input      = string
  })
  default = null

  validation {
    condition     = var.schedule == null || try(can(regex("^(rate|cron|at)\\(.+\\)$", var.schedule.expression)) && can(jsondecode(var.schedule.input)), false)
    error_message = "schedule.expression must be rate(...), cron(...) or at(...), and schedule.input a JSON document."
  }
}
