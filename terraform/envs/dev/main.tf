# Pulse — dev. Shared root files (versions.tf, variables.tf, outputs.tf) are symlinks to ../_shared;
# this file holds only what differs per environment. Small and cheap: on-demand stream, short retention, low fraud thresholds so demos fire, the seed 1000 events/min alarm.

locals {
  environment = "dev"

  # Fraud-rule thresholds of this environment (unset = seed in services/fraud-rules/function.json);
  # var.fraud_rules (terraform.tfvars) overrides them.
  fraud_rules = { large_purchase_threshold = 500, cooldown_minutes = 5 }
}

module "pulse" {
  source = "../../modules/pulse"

  environment        = local.environment
  package_dir        = var.package_dir
  stream             = { mode = "ON_DEMAND", retention_hours = 24 }
  tables             = { point_in_time_recovery = true, deletion_protection = false }
  log_retention_days = 14
  tracing_mode       = "PassThrough"
  alarm_thresholds   = { events_per_minute = 1000, iterator_age_ms = 300000 }
  fraud_rules        = merge(local.fraud_rules, { for k, v in var.fraud_rules : k => v if v != null })

  alert_email_subscriptions = var.alert_email_subscriptions
  alert_slack               = var.alert_slack
  alert_sqs_subscription    = var.alert_sqs_subscription
  ops_email_addresses       = var.ops_email_addresses
  tags                      = var.tags
}
