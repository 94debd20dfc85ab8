variable "name_prefix" {
  description = "Prefix of alarm and dashboard names (pulse-<environment>)."
  type        = string
}

variable "environment" {
  description = "Environment name: the value of the `Environment` dimension of the Pulse metrics."
  type        = string
}

variable "metrics_namespace" {
  description = "Namespace the services publish to."
  type        = string
  default     = "Pulse"
}

variable "functions" {
  description = "Consumer functions keyed by service name: Lambda function name, on-failure queue name (alarmed per function) and log group (saved Logs Insights queries)."
  type = map(object({
    function_name         = string
    on_failure_queue_name = string
    log_group_name        = string
  }))
}

variable "alarm_topic_arn" {
  description = "SNS topic (ops) that receives alarm and OK notifications."
  type        = string
}

variable "alerts_topic_name" {
  description = "Name of the fraud alerts topic; its NumberOfMessagesPublished is the dashboard's alerts widget."
  type        = string
}

variable "fraud_rules_log_group_name" {
  description = "Log group of fraud-rules, where the metric filter counts alerts parked as FAILED."
  type        = string
}

variable "stream_name" {
  description = "Name of the Kinesis stream (incoming records on the dashboard)."
  type        = string
}

variable "thresholds" {
  description = "Alarm thresholds. events_per_minute is the seed's 1000 events/min; iterator_age_ms is how far behind a consumer may fall."
  type = object({
    events_per_minute      = optional(number, 1000)
    iterator_age_ms        = optional(number, 60000)
    function_errors        = optional(number, 0)
    function_throttles     = optional(number, 0)
    on_failure_messages    = optional(number, 0)
    invalid_records        = optional(number, 0)
    evaluation_periods     = optional(number, 3)
    datapoints_to_alarm    = optional(number, 2)
    iterator_age_period_s  = optional(number, 60)
    error_alarm_period_s   = optional(number, 300)
    events_alarm_period_s  = optional(number, 60)
    invalid_alarm_period_s = optional(number, 60)
    stalled_period_s       = optional(number, 300)
    stalled_periods        = optional(number, 3)
  })
  default = {}

  validation {
    condition     = var.thresholds.events_per_minute > 0 && var.thresholds.iterator_age_ms > 0
    error_message = "thresholds.events_per_minute and thresholds.iterator_age_ms must be positive."
  }

  validation {
    condition     = var.thresholds.datapoints_to_alarm >= 1 && var.thresholds.datapoints_to_alarm <= var.thresholds.evaluation_periods
    error_message = "thresholds.datapoints_to_alarm must be between 1 and evaluation_periods."
  }

  validation {
    condition = alltrue([for p in [
      var.thresholds.iterator_age_period_s, var.thresholds.error_alarm_period_s,
      var.thresholds.events_alarm_period_s, var.thresholds.invalid_alarm_period_s,
      var.thresholds.stalled_period_s,
    ] : p >= 60 && p % 60 == 0])
    error_message = "Alarm periods must be multiples of 60 seconds."
  }

  # Long enough that a quiet minute or a slow batch is not "stalled", short enough to page
  # within a quarter of an hour.
  validation {
    condition     = var.thresholds.stalled_period_s * var.thresholds.stalled_periods >= 600 && var.thresholds.stalled_period_s * var.thresholds.stalled_periods <= 900
    error_message = "The stalled alarm must look at 10-15 minutes: stalled_period_s x stalled_periods between 600 and 900."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}

variable "anomaly" {
  description = <<-EOT
    Anomaly-detection alarms on what the business notices first: Events and Purchases of the
    environment, and Revenue per currency. Each compares a period's value with the band CloudWatch
    learns for that hour and weekday, and alarms on a drop below it and a spike above it.
    band_width: the band's width in standard deviations (ANOMALY_DETECTION_BAND's second argument;
    wider = fewer, surer alarms). minimum: the volume per period below which the alarm stays quiet
    (values under it are raised to it, so noise at night cannot leave the band, while a fall from
    normal volume to nothing still does). revenue: one alarm per currency code, with its own minimum
    in that currency's major units ({} = no revenue alarms).
  EOT
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

  validation {
    condition     = alltrue([for b in concat([var.anomaly.events.band_width, var.anomaly.purchases.band_width], [for r in values(var.anomaly.revenue) : r.band_width]) : b >= 1 && b <= 10])
    error_message = "anomaly band_width must be between 1 and 10 standard deviations."
  }

  validation {
    condition     = alltrue([for m in concat([var.anomaly.events.minimum, var.anomaly.purchases.minimum], [for r in values(var.anomaly.revenue) : r.minimum]) : m > 0])
    error_message = "anomaly minimum volumes must be positive: with 0 every quiet night would be an anomaly."
  }

  validation {
    condition     = alltrue([for c in keys(var.anomaly.revenue) : can(regex("^[A-Z]{3}$", c))])
    error_message = "anomaly.revenue is keyed by ISO 4217 currency code (EUR, USD, ...), the Currency dimension of Revenue."
  }

  validation {
    condition     = var.anomaly.period_s >= 60 && var.anomaly.period_s % 60 == 0 && var.anomaly.datapoints_to_alarm >= 1 && var.anomaly.datapoints_to_alarm <= var.anomaly.evaluation_periods
    error_message = "anomaly.period_s must be a multiple of 60 and datapoints_to_alarm between 1 and evaluation_periods."
  }
}
