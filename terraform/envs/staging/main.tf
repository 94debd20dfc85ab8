# Pulse — staging: only what differs per environment. Production-like rules (seed thresholds), 2-day retention for replays.
# The module call (pulse.tf), versions.tf, variables.tf and outputs.tf are symlinks to ../_shared.

locals {
  environment = "staging"

  settings = {
    stream             = { mode = "ON_DEMAND", retention_hours = 48 }
    tables             = { point_in_time_recovery = true, deletion_protection = false }
    log_retention_days = 30
    tracing_mode       = "PassThrough"
    # Reserved concurrency per function, e.g. { fraud-rules = 50 }; {} = unreserved (see terraform/README.md).
    reserved_concurrency = {}
    alarm_thresholds     = { events_per_minute = 5000, iterator_age_ms = 120000 }
    # Anomaly bands (standard deviations) and the volume per 5 minutes below which they stay quiet.
    anomaly_alarms = { events = { band_width = 3, minimum = 1000 }, purchases = { band_width = 3, minimum = 20 }, revenue = { USD = { band_width = 3, minimum = 1000 } } }
    # Fraud-rule thresholds (unset = seed in services/fraud-rules/function.json); var.fraud_rules overrides them.
    fraud_rules = {}
  }
}
