output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "alarm_arns" {
  description = "ARNs of every alarm, keyed by alarm name."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.this : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.stalled : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.anomaly : a.alarm_name => a.arn },
  )
}

output "stalled_alarm_names" {
  description = "Names of the per-function stalled alarms, keyed by function (make smoke evaluates their metric math once)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.stalled : k => a.alarm_name }
}

output "alerts_failed_metric_filter" {
  description = "The metric filter counting alerts parked as FAILED: its name, log group and the exact message it matches (make smoke tests the pattern against it)."
  value = {
    name           = aws_cloudwatch_log_metric_filter.alerts_failed.name
    log_group_name = aws_cloudwatch_log_metric_filter.alerts_failed.log_group_name
    pattern        = aws_cloudwatch_log_metric_filter.alerts_failed.pattern
    message        = local.alerts_failed.message
  }
}

output "query_definition_names" {
  description = "Names of the saved CloudWatch Logs Insights queries, keyed by query file."
  value       = { for k, q in aws_cloudwatch_query_definition.this : k => q.name }
}
