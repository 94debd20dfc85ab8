# Shared by every environment root (symlinked from envs/<env>/). Set values in envs/<env>/terraform.tfvars.

variable "aws_region" {
  description = "AWS region of this environment."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "AWS account ids this environment may be deployed to, e.g. [\"<12-digit id>\"]; Terraform stops before any change when the credentials belong to another account. null = no check."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || try(length(var.allowed_account_ids) > 0 && alltrue([for a in var.allowed_account_ids : can(regex("^[0-9]{12}$", a))]), false)
    error_message = "allowed_account_ids must be null or a non-empty list of 12-digit AWS account ids."
  }
}

variable "max_event_ahead_seconds" {
  description = "How far (seconds) an event's timestamp may be ahead of its arrival before it is rejected as invalid; MAX_EVENT_AHEAD_SECONDS of every function. Late events are always accepted."
  type        = number
  default     = 300

  validation {
    condition     = var.max_event_ahead_seconds >= 0 && var.max_event_ahead_seconds <= 86400 && floor(var.max_event_ahead_seconds) == var.max_event_ahead_seconds
    error_message = "max_event_ahead_seconds must be a whole number between 0 and 86400."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of the functions, PassThrough or Active; null = this environment's choice in main.tf."
  type        = string
  default     = null

  validation {
    condition     = var.tracing_mode == null || contains(["PassThrough", "Active"], coalesce(var.tracing_mode, "PassThrough"))
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "package_dir" {
  description = "Directory of the bundles (<function>.zip) built by `make build`; null = the repository's dist/."
  type        = string
  default     = null
}

variable "alert_email_subscriptions" {
  description = "Emails subscribed to fraud alerts: [{ address = \"a@example.com\", min_severity = \"medium\" }] (min_severity low|medium|high, omitted = all). Each recipient must click the confirmation link AWS mails."
  type = list(object({
    address      = string
    min_severity = optional(string)
  }))
  default = []
}

variable "alert_slack" {
  description = "Slack channel for fraud alerts through AWS Chatbot: { team_id = \"T...\", channel_id = \"C...\" }. Authorise the Slack workspace in the AWS Chatbot console once first. The channel role has no permissions and the default guardrail denies everything (notifications only); guardrail_policy_arns may name only your own policies. region: us-east-2, us-west-2, eu-west-1 or ap-southeast-1 (where the AWS Chatbot API exists); omitted = aws_region if it is one of these, else us-east-2. null = no Slack."
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
  description = "Optional SQS queue subscribed to fraud alerts: { enabled = true, min_severity = \"high\" }."
  type = object({
    enabled                   = optional(bool, false)
    min_severity              = optional(string)
    message_retention_seconds = optional(number, 1209600)
  })
  default = {}
}

variable "ops_email_addresses" {
  description = "Emails subscribed to the ops topic (CloudWatch alarms). Each must confirm the subscription."
  type        = list(string)
  default     = []
}

variable "fraud_rules" {
  description = "Overrides of this environment's fraud-rule thresholds (see locals.fraud_rules in main.tf and the seed in services/fraud-rules/function.json). Rendered into FRAUD_RULES (JSON)."
  type = object({
    large_purchase_threshold         = optional(number)
    purchase_velocity_count          = optional(number)
    purchase_velocity_window_minutes = optional(number)
    spend_velocity_amount            = optional(number)
    spend_velocity_window_minutes    = optional(number)
    country_hop_window_minutes       = optional(number)
    cooldown_minutes                 = optional(number)
    disabled_rules                   = optional(list(string))
  })
  default = {}
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
