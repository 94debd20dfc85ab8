# Pulse — staging. Shared root files (versions.tf, variables.tf, outputs.tf) are symlinks to ../_shared;
# this file holds only what differs per environment. Production-like rules (seed thresholds), 2-day retention for replays.

locals {
  environment = "staging"

  # Fraud-rule thresholds of this environment (unset = seed in services/fraud-rules/function.json);
  # var.fraud_rules (terraform.tfvars) overrides them.
  fraud_rules = {}
}

module "pulse" {
  source = "../../modules/pulse"

  environment        = local.environment
  package_dir        = var.package_dir
  stream             = { mode = "ON_DEMAND", retention_hours = 48 }
  tables             = { point_in_time_recovery = true, deletion_protection = false }
  log_retention_days = 30
  tracing_mode       = "PassThrough"
  alarm_thresholds   = { events_per_minute = 5000, iterator_age_ms = 120000 }
  fraud_rules        = merge(local.fraud_rules, { for k, v in var.fraud_rules : k => v if v != null })

  alert_email_subscriptions = var.alert_email_subscriptions
  alert_slack               = var.alert_slack
  alert_sqs_subscription    = var.alert_sqs_subscription
  ops_email_addresses       = var.ops_email_addresses
  tags                      = var.tags
}
