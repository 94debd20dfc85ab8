# Pulse — prod: only what differs per environment. 7-day retention, deletion protection, X-Ray, tight lag alarm.
# The module call (pulse.tf), versions.tf, variables.tf and outputs.tf are symlinks to ../_shared.

locals {
  environment = "prod"

  settings = {
    stream             = { mode = "ON_DEMAND", retention_hours = 168 }
    tables             = { point_in_time_recovery = true, deletion_protection = true }
    log_retention_days = 90
    tracing_mode       = "Active"
    # Reserved concurrency per function, e.g. { fraud-rules = 50 }; {} = unreserved (see terraform/README.md).
    reserved_concurrency = {}
    alarm_thresholds     = { events_per_minute = 60000, iterator_age_ms = 60000 }
    # Anomaly bands (standard deviations) and the volume per 5 minutes below which they stay quiet.
    anomaly_alarms = { events = { band_width = 3, minimum = 5000 }, purchases = { band_width = 3, minimum = 50 }, revenue = { USD = { band_width = 3, minimum = 2500 } } }
    # Fraud-rule thresholds (unset = seed in services/fraud-rules/function.json); var.fraud_rules overrides them.
    fraud_rules = { large_purchase_threshold = 2000 }
  }
}
