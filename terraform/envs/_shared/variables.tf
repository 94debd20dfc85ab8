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
  description = "Slack channel for fraud alerts through AWS Chatbot: { team_id = \"T...\", channel_id = \"C...\" }. Authorise the Slack workspace in the AWS Chatbot console once first. null = no Slack."
  type = object({
    team_id               = string
    channel_id            = string
    guardrail_policy_arns = optional(list(string))
    logging_level         = optional(string, "ERROR")
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
