# Shared by every environment root (symlinked from envs/<env>/): the stack, configured from the
# environment's local.environment and local.settings (envs/<env>/main.tf) and the user's tfvars.

module "pulse" {
  source = "../../modules/pulse"

  environment        = local.environment
  package_dir        = var.package_dir
  stream             = local.settings.stream
  tables             = local.settings.tables
  log_retention_days = local.settings.log_retention_days
  tracing_mode       = coalesce(var.tracing_mode, local.settings.tracing_mode)
  # Unreserved unless the environment reserves concurrency per function (main.tf).
  reserved_concurrency    = local.settings.reserved_concurrency
  max_event_ahead_seconds = var.max_event_ahead_seconds
  alarm_thresholds        = local.settings.alarm_thresholds
  anomaly_alarms          = local.settings.anomaly_alarms
  # the environment's thresholds, overridden attribute by attribute by var.fraud_rules
  fraud_rules = merge(local.settings.fraud_rules, { for k, v in var.fraud_rules : k => v if v != null })

  alert_email_subscriptions = var.alert_email_subscriptions
  alert_slack               = var.alert_slack
  alert_sqs_subscription    = var.alert_sqs_subscription
  ops_email_addresses       = var.ops_email_addresses
  tags                      = var.tags
}
