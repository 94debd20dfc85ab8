# Pulse — dev: only what differs per environment. Small and cheap; low fraud thresholds so demos fire; the seed 1000 events/min alarm.
# The module call (pulse.tf), versions.tf, variables.tf and outputs.tf are symlinks to ../_shared.

locals {
  environment = "dev"

  settings = {
    stream             = { mode = "ON_DEMAND", retention_hours = 24 }
    tables             = { point_in_time_recovery = true, deletion_protection = false }
    log_retention_days = 14
    tracing_mode       = "PassThrough"
    # Reserved concurrency per function, e.g. { fraud-rules = 50 }; {} = unreserved (see terraform/README.md).
    reserved_concurrency = {}
    alarm_thresholds     = { events_per_minute = 1000, iterator_age_ms = 300000 }
    # Anomaly bands (standard deviations) and the volume per 5 minutes below which they stay quiet.
    anomaly_alarms = { events = { band_width = 3, minimum = 500 }, purchases = { band_width = 3, minimum = 10 }, revenue = { USD = { band_width = 3, minimum = 500 } } }
    # Fraud-rule thresholds (unset = seed in services/fraud-rules/function.json); var.fraud_rules overrides them.
    fraud_rules = { large_purchase_threshold = 500, cooldown_minutes = 5 }
  }
}
