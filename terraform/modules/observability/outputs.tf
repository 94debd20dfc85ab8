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
    { for a in concat(values(aws_cloudwatch_metric_alarm.iterator_age), values(aws_cloudwatch_metric_alarm.errors), values(aws_cloudwatch_metric_alarm.throttles), values(aws_cloudwatch_metric_alarm.on_failure_depth)) : a.alarm_name => a.arn },
    { (aws_cloudwatch_metric_alarm.events_per_minute.alarm_name) = aws_cloudwatch_metric_alarm.events_per_minute.arn },
    { (aws_cloudwatch_metric_alarm.invalid_records.alarm_name) = aws_cloudwatch_metric_alarm.invalid_records.arn },
  )
}
