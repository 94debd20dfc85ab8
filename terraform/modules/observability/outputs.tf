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
  value       = merge({ for a in aws_cloudwatch_metric_alarm.this : a.alarm_name => a.arn }, { for a in aws_cloudwatch_metric_alarm.stalled : a.alarm_name => a.arn })
}

output "query_definition_names" {
  description = "Names of the saved CloudWatch Logs Insights queries, keyed by query file."
  value       = { for k, q in aws_cloudwatch_query_definition.this : k => q.name }
}
