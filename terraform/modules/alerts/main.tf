locals {
  # Alerts carry the message attribute `severity` (low|medium|high); a subscription with
  # min_severity = "medium" receives medium and high.
  severities = ["low", "medium", "high"]
  severity_filter = {
    for s in local.severities : s => jsonencode({ severity = slice(local.severities, index(local.severities, s), length(local.severities)) })
  }
  emails = { for s in var.email_subscriptions : s.address => s }
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
  tags              = merge(var.tags, { Name = var.name })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.emails

  topic_arn           = aws_sns_topic.this.arn
  protocol            = "email"
  endpoint            = each.key
  filter_policy_scope = each.value.min_severity != null ? "MessageAttributes" : (var.email_body_filter_policy == null ? null : "MessageBody")
  filter_policy       = each.value.min_severity != null ? local.severity_filter[each.value.min_severity] : var.email_body_filter_policy
}

# --- optional SQS subscription -------------------------------------------------------------

resource "aws_sqs_queue" "subscription" {
  count = var.sqs_subscription.enabled ? 1 : 0

  name                      = "${var.name}-feed"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = var.sqs_subscription.message_retention_seconds
  tags                      = merge(var.tags, { Name = "${var.name}-feed" })
}

data "aws_iam_policy_document" "subscription_queue" {
  count = var.sqs_subscription.enabled ? 1 : 0

  statement {
    sid       = "AllowAlertTopic"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.subscription[0].arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "subscription" {
  count = var.sqs_subscription.enabled ? 1 : 0

  queue_url = aws_sqs_queue.subscription[0].id
  policy    = data.aws_iam_policy_document.subscription_queue[0].json
}

resource "aws_sns_topic_subscription" "sqs" {
  count = var.sqs_subscription.enabled ? 1 : 0

  topic_arn            = aws_sns_topic.this.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.subscription[0].arn
  raw_message_delivery = true
  filter_policy_scope  = var.sqs_subscription.min_severity == null ? null : "MessageAttributes"
  filter_policy        = var.sqs_subscription.min_severity == null ? null : local.severity_filter[var.sqs_subscription.min_severity]
}

# --- optional Slack channel through AWS Chatbot ----------------------------------------------
# AWS Chatbot subscribes itself (HTTPS) to the topic; that subscription has no filter policy, so
# Slack receives every severity.
#
# Delivering notifications needs no AWS permissions, so the channel role has no policy at all and
# the guardrail (the most any channel member's command could ever do) denies everything. Without
# an explicit guardrail AWS applies AdministratorAccess, hence the validation on
# slack.guardrail_policy_arns.

data "aws_region" "current" {}

locals {
  # Regions with the AWS Chatbot API (its API reference); the configuration may sit in any of them
  # and still subscribe to a topic in another region.
  chatbot_regions = ["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"]
  chatbot_region = var.slack == null ? null : coalesce(
    var.slack.region,
    contains(local.chatbot_regions, data.aws_region.current.region) ? data.aws_region.current.region : "us-east-2",
  )
}

data "aws_iam_policy_document" "chatbot_assume" {
  count = var.slack == null ? 0 : 1

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["chatbot.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "chatbot" {
  count = var.slack == null ? 0 : 1

  name               = "${var.name}-chatbot"
  assume_role_policy = data.aws_iam_policy_document.chatbot_assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "chatbot_guardrail" {
  count = var.slack == null ? 0 : 1

  statement {
    sid       = "NotificationsOnly"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "chatbot_guardrail" {
  count = var.slack == null ? 0 : 1

  name        = "${var.name}-chatbot-guardrail"
  description = "Guardrail of the ${var.name} Slack channel: notifications only, no command may call AWS."
  policy      = data.aws_iam_policy_document.chatbot_guardrail[0].json
  tags        = var.tags
}

# Chatbot writes its delivery log to /aws/chatbot/<configuration> in us-east-1 and, left to itself,
# creates that group with no expiry. Terraform owns it instead (retention, tags, removed on
# destroy); with logging_level = NONE there is nothing to keep.
resource "aws_cloudwatch_log_group" "chatbot" {
  #checkov:skip=CKV_AWS_158:Chatbot logs live in us-east-1, where the environment's regional KMS key cannot be used; they hold delivery status, not alert content.
  #checkov:skip=CKV_AWS_338:Delivery-status logs are kept slack.log_retention_days (default 30); they are not an audit record.
  count = var.slack == null ? 0 : (var.slack.logging_level == "NONE" ? 0 : 1)

  region            = "us-east-1"
  name              = "/aws/chatbot/${var.name}"
  retention_in_days = var.slack.log_retention_days
  tags              = var.tags
}

resource "aws_chatbot_slack_channel_configuration" "this" {
  count = var.slack == null ? 0 : 1

  region                = local.chatbot_region
  configuration_name    = var.name
  iam_role_arn          = aws_iam_role.chatbot[0].arn
  slack_team_id         = var.slack.team_id
  slack_channel_id      = var.slack.channel_id
  sns_topic_arns        = [aws_sns_topic.this.arn]
  logging_level         = var.slack.logging_level
  guardrail_policy_arns = coalesce(var.slack.guardrail_policy_arns, [aws_iam_policy.chatbot_guardrail[0].arn])
  tags                  = var.tags

  depends_on = [aws_cloudwatch_log_group.chatbot]
}
