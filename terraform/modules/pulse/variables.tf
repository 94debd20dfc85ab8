variable "environment" {
  description = "Environment name; physical names are pulse-<environment>-<key> and it is the `Environment` metric dimension."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lower-case letters/digits (e.g. dev, staging, prod)."
  }
}

variable "services_dir" {
  description = "Directory holding resources.json and <function>/function.json (the single source of truth). null = the repository's services/."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Directory holding the bundles <function>.zip built by `make build`. null = the repository's dist/."
  type        = string
  default     = null
}

variable "stream" {
  description = "Kinesis stream sizing: capacity mode ON_DEMAND (absorbs spikes, bills per GB and stream-hour) or PROVISIONED with shard_count (about half the cost at steady load, throttles above its shards), and retention in hours."
  type = object({
    mode            = optional(string, "ON_DEMAND")
    shard_count     = optional(number)
    retention_hours = optional(number, 24)
  })
  default = {}

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream.mode)
    error_message = "stream.mode must be ON_DEMAND or PROVISIONED."
  }

  # A provisioned stream silently sized at one shard would throttle; size it with pulse plan.
  validation {
    condition = (
      var.stream.mode == "PROVISIONED"
      ? try(var.stream.shard_count >= 1 && floor(var.stream.shard_count) == var.stream.shard_count, false)
      : true
    )
    error_message = "stream.shard_count: PROVISIONED needs a whole number >= 1 (size it with pulse plan)."
  }
}

variable "tables" {
  description = "DynamoDB settings applied to every table."
  type = object({
    point_in_time_recovery = optional(bool, true)
    deletion_protection    = optional(bool, false)
  })
  default = {}
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups in days."
  type        = number
  default     = 30
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions: PassThrough (default) or Active (also grants the X-Ray write actions)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "max_event_ahead_seconds" {
  description = "How far ahead of its arrival time an event's timestamp may be (seconds, 0-86400); set as MAX_EVENT_AHEAD_SECONDS on every function. Late events are always accepted."
  type        = number
  default     = 300

  validation {
    condition     = var.max_event_ahead_seconds >= 0 && var.max_event_ahead_seconds <= 86400 && floor(var.max_event_ahead_seconds) == var.max_event_ahead_seconds
    error_message = "max_event_ahead_seconds must be a whole number of seconds between 0 and 86400."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions per function (keyed by service name, e.g. { fraud-rules = 20 }); absent = unreserved. On-demand streams add shards on their own, so this is the only hard cap on concurrency; a cap that is reached throttles the stream (the throttles alarm fires)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.reserved_concurrency : v >= 0 && floor(v) == v])
    error_message = "reserved_concurrency values must be whole numbers >= 0 (0 stops the function)."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime of every function (make build targets Node.js 22)."
  type        = string
  default     = "nodejs22.x"
}

variable "lambda_architecture" {
  description = "Instruction set of every function: arm64 (default) or x86_64. The bundles are plain JavaScript, so either works."
  type        = string
  default     = "arm64"
}

variable "lambda_handler" {
  description = "Handler of every function; make build writes index.mjs exporting handler."
  type        = string
  default     = "index.handler"
}

variable "lambda_log_format" {
  description = "Lambda log format: Text (default; the services already write one JSON object per line) or JSON."
  type        = string
  default     = "Text"
}

variable "fraud_rules" {
  description = "Fraud-rule thresholds of this environment. Unset (null) attributes keep the seed values from services/fraud-rules/function.json. Rendered into the FRAUD_RULES environment variable (JSON)."
  type = object({
    large_purchase_threshold         = optional(number)
    purchase_velocity_count          = optional(number)
    purchase_velocity_window_minutes = optional(number)
    spend_velocity_amount            = optional(number)
    spend_velocity_window_minutes    = optional(number)
    country_hop_window_minutes       = optional(number)
    cooldown_minutes                 = optional(number)
    disabled_rules                   = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = alltrue([for r in var.fraud_rules.disabled_rules : contains(["largePurchase", "purchaseVelocity", "spendVelocity", "countryHop"], r)])
    error_message = "fraud_rules.disabled_rules may only name largePurchase, purchaseVelocity, spendVelocity, countryHop."
  }

  # The same bounds as the function's own FRAUD_RULES parser (services/fraud-rules/rules.ts), so a
  # plan accepts exactly what the function accepts: zero is a valid threshold and cool-down.
  validation {
    condition     = alltrue([for v in [var.fraud_rules.large_purchase_threshold, var.fraud_rules.cooldown_minutes] : v == null || try(v >= 0, false)])
    error_message = "fraud_rules.large_purchase_threshold and cooldown_minutes must be >= 0."
  }

  validation {
    condition     = var.fraud_rules.spend_velocity_amount == null || try(var.fraud_rules.spend_velocity_amount > 0, false)
    error_message = "fraud_rules.spend_velocity_amount must be > 0."
  }

  validation {
    condition     = var.fraud_rules.purchase_velocity_count == null || try(var.fraud_rules.purchase_velocity_count >= 2 && floor(var.fraud_rules.purchase_velocity_count) == var.fraud_rules.purchase_velocity_count, false)
    error_message = "fraud_rules.purchase_velocity_count must be a whole number >= 2."
  }

  validation {
    condition = alltrue([for v in [
      var.fraud_rules.purchase_velocity_window_minutes, var.fraud_rules.spend_velocity_window_minutes, var.fraud_rules.country_hop_window_minutes,
    ] : v == null || try(v > 0 && v <= 10080, false)])
    error_message = "fraud_rules window minutes must be > 0 and <= 10080 (7 days)."
  }
}

variable "alarm_thresholds" {
  description = "Alarm thresholds; unset attributes take the modules/observability defaults (events_per_minute = the seed's 1000, iterator_age_ms = 60000, 0 errors/throttles/on-failure messages/invalid records, parked_user_age_s = 3600)."
  type = object({
    events_per_minute   = optional(number)
    iterator_age_ms     = optional(number)
    function_errors     = optional(number)
    function_throttles  = optional(number)
    on_failure_messages = optional(number)
    invalid_records     = optional(number)
    evaluation_periods  = optional(number)
    datapoints_to_alarm = optional(number)
    parked_user_age_s   = optional(number)
  })
  default = {}
}

variable "anomaly_alarms" {
  description = "Anomaly-detection alarms on Events, Purchases and Revenue per currency (modules/observability variable anomaly): band width in standard deviations, minimum volume per period below which each stays quiet, revenue = { <currency> = { minimum = <major units per period> } }."
  type = object({
    period_s            = optional(number, 300)
    evaluation_periods  = optional(number, 3)
    datapoints_to_alarm = optional(number, 3)
    events              = optional(object({ band_width = optional(number, 3), minimum = optional(number, 500) }), {})
    purchases           = optional(object({ band_width = optional(number, 3), minimum = optional(number, 10) }), {})
    revenue = optional(map(object({
      band_width = optional(number, 3)
      minimum    = number
    })), {})
  })
  default = {}
}

variable "alert_email_subscriptions" {
  description = "Emails subscribed to fraud alerts, each with an optional min_severity (low|medium|high)."
  type = list(object({
    address      = string
    min_severity = optional(string)
  }))
  default = []
}

variable "alert_slack" {
  description = "Optional AWS Chatbot Slack channel for fraud alerts ({ team_id, channel_id, ... }); null disables it."
  type = object({
    team_id               = string
    channel_id            = string
    guardrail_policy_arns = optional(list(string))
    logging_level         = optional(string, "ERROR")
    log_retention_days    = optional(number, 30)
    region                = optional(string)
  })
  default = null
}

variable "alert_sqs_subscription" {
  description = "Optional SQS queue subscribed to fraud alerts ({ enabled = true, min_severity = \"high\" })."
  type = object({
    enabled                   = optional(bool, false)
    min_severity              = optional(string)
    message_retention_seconds = optional(number, 1209600)
  })
  default = {}
}

variable "ops_email_addresses" {
  description = "Emails subscribed to the ops topic that receives CloudWatch alarms."
  type        = list(string)
  default     = []
}

variable "archive" {
  description = "Event archive: on (default) or off (no bucket, catalog, Athena or archive-writer), storage tiering and expiry of archived objects, and Athena's bytes-scanned limit per query."
  type = object({
    enabled = optional(bool, true)
    lifecycle_days = optional(object({
      infrequent_access_days = optional(number, 30)
      glacier_ir_days        = optional(number, 180)
      expire_days            = optional(number, 0)
      noncurrent_days        = optional(number, 7)
      athena_results_days    = optional(number, 7)
    }), {})
    athena_bytes_scanned_cutoff = optional(number, 10737418240)
  })
  default = {}
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
