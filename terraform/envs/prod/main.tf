# Pulse — prod. Shared root files (versions.tf, variables.tf, outputs.tf) are symlinks to ../_shared;
# this file holds only what differs per environment. 7-day retention, deletion protection, X-Ray, tight lag alarm.

locals {
  environment = "prod"

  # Fraud-rule thresholds of this environment (unset = seed in services/fraud-rules/function.json);
  # var.fraud_rules (terraform.tfvars) overrides them.
  fraud_rules = { large_purchase_threshold = 2000 }
}

module "pulse" {
  source = "../../modules/pulse"

  environment        = local.environment
  package_dir        = var.package_dir
  stream             = { mode = "ON_DEMAND", retention_hours = 168 }
  tables             = { point_in_time_recovery = true, deletion_protection = true }
  log_retention_days = 90
  tracing_mode       = "Active"
  alarm_thresholds   = { events_per_minute = 60000, iterator_age_ms = 60000 }
  fraud_rules        = merge(local.fraud_rules, { for k, v in var.fraud_rules : k => v if v != null })

  alert_email_subscriptions = var.alert_email_subscriptions
  alert_slack               = var.alert_slack
  alert_sqs_subscription    = var.alert_sqs_subscription
  ops_email_addresses       = var.ops_email_addresses
  tags                      = var.tags
}
