variable "name" {
  description = "Physical name of the SNS topic (e.g. pulse-dev-alerts)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the topic (and the optional SQS queue)."
  type        = string
}

variable "email_subscriptions" {
  description = "Email endpoints to subscribe. With min_severity (low|medium|high) a subscription only gets messages whose `severity` attribute is at least that; null (default) gets every message (use null for topics whose messages carry no severity, e.g. CloudWatch alarms). AWS mails a confirmation link that must be clicked."
  type = list(object({
    address      = string
    min_severity = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.email_subscriptions : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.address))])
    error_message = "Every email_subscriptions[].address must look like an email address."
  }

  validation {
    condition     = alltrue([for s in var.email_subscriptions : s.min_severity == null || contains(["low", "medium", "high"], coalesce(s.min_severity, "low"))])
    error_message = "email_subscriptions[].min_severity must be one of low, medium, high."
  }
}

variable "email_body_filter_policy" {
  description = "Optional SNS filter policy (JSON) on the message body for email subscriptions without min_severity, e.g. on the ops topic to mail only alarm state changes into or out of ALARM. null = every message."
  type        = string
  default     = null

  validation {
    condition     = var.email_body_filter_policy == null || can(jsondecode(var.email_body_filter_policy))
    error_message = "email_body_filter_policy must be JSON (an SNS filter policy)."
  }
}

variable "slack" {
  description = "Optional AWS Chatbot Slack channel. The Slack workspace must be authorised once in the AWS Chatbot console first (see README). region: where the channel configuration lives; the AWS Chatbot API exists only in us-east-2, us-west-2, eu-west-1 and ap-southeast-1, so omitted means the environment's region when it is one of these, else us-east-2 (the topic may be in any region). null disables it."
  type = object({
    team_id               = string
    channel_id            = string
    guardrail_policy_arns = optional(list(string))
    logging_level         = optional(string, "ERROR")
    log_retention_days    = optional(number, 30)
    region                = optional(string)
  })
  default = null

  # An empty list is not "no guardrail": AWS then applies AdministratorAccess.
  validation {
    condition     = var.slack == null || try(var.slack.guardrail_policy_arns == null ? true : length(var.slack.guardrail_policy_arns) > 0, false)
    error_message = "slack.guardrail_policy_arns must be omitted (notifications-only guardrail) or list at least one policy: an empty list makes AWS apply AdministratorAccess."
  }

  # No AWS managed policy at all: a list of broad names always misses one (job-function/ViewOnlyAccess,
  # job-function/SystemAdministrator, SecurityAudit, AWSCodePipeline_FullAccess, ...), and the
  # guardrail is the most anyone in the channel can do. Your own policies only.
  validation {
    condition = var.slack == null || try(alltrue([
      for a in(var.slack.guardrail_policy_arns == null ? [] : var.slack.guardrail_policy_arns) : !can(regex("^arn:[a-z-]+:iam::aws:policy/", a))
    ]), false)
    error_message = "slack.guardrail_policy_arns must name your own policies (arn:aws:iam::<account>:policy/...), never an AWS managed one (arn:aws:iam::aws:policy/...): those such as ReadOnlyAccess, job-function/ViewOnlyAccess or SecurityAudit let anyone in the channel read the account."
  }

  validation {
    condition     = var.slack == null || try(alltrue([for a in(var.slack.guardrail_policy_arns == null ? [] : var.slack.guardrail_policy_arns) : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/", a))]), false)
    error_message = "slack.guardrail_policy_arns must be IAM policy ARNs of your account: arn:aws:iam::<12-digit account>:policy/[path/]<name>."
  }

  # The AWS Chatbot API exists only in these regions; a configuration elsewhere fails at apply,
  # after everything else was created.
  validation {
    condition     = var.slack == null || try(contains(["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"], coalesce(var.slack.region, "us-east-2")), false)
    error_message = "slack.region must be a region where the AWS Chatbot API exists: us-east-2, us-west-2, eu-west-1 or ap-southeast-1 (omit it to use the environment's region when it is one of these, else us-east-2)."
  }

  validation {
    condition     = var.slack == null || try(contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.slack.log_retention_days), false)
    error_message = "slack.log_retention_days must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180 or 365)."
  }

  validation {
    condition     = var.slack == null || try(can(regex("^T[A-Z0-9]+$", var.slack.team_id)) && can(regex("^[A-Z0-9]+$", var.slack.channel_id)), false)
    error_message = "slack.team_id looks like T07EA123LEP and slack.channel_id like C07EZ1ABC23 (upper-case IDs, not names)."
  }

  validation {
    condition     = var.slack == null || try(contains(["ERROR", "INFO", "NONE"], var.slack.logging_level), false)
    error_message = "slack.logging_level must be ERROR, INFO or NONE."
  }
}

variable "sqs_subscription" {
  description = "Optional SQS queue (created here, KMS-encrypted) subscribed with raw message delivery, for programmatic consumers of alerts."
  type = object({
    enabled                   = optional(bool, false)
    min_severity              = optional(string)
    message_retention_seconds = optional(number, 1209600)
  })
  default = {}

  validation {
    condition     = var.sqs_subscription.min_severity == null || contains(["low", "medium", "high"], coalesce(var.sqs_subscription.min_severity, "low"))
    error_message = "sqs_subscription.min_severity must be one of low, medium, high."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
