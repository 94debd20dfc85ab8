# Shared by every environment root (symlinked from envs/<env>/).

output "stream_name" {
  description = "Kinesis stream producers put events on (partition key userId)."
  value       = module.pulse.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis stream."
  value       = module.pulse.stream_arn
}

output "alerts_topic_arn" {
  description = "Fraud alerts SNS topic: subscribe email, Slack (AWS Chatbot) or SQS."
  value       = module.pulse.alerts_topic_arn
}

output "ops_topic_arn" {
  description = "SNS topic receiving CloudWatch alarms."
  value       = module.pulse.ops_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard of this environment."
  value       = module.pulse.dashboard_url
}

output "function_names" {
  description = "Lambda function names keyed by service."
  value       = module.pulse.function_names
}

output "kms_key_arn" {
  description = "KMS key of the environment (producers need kms:GenerateDataKey on it)."
  value       = module.pulse.kms_key_arn
}

output "environment" {
  description = "Environment name: the `Environment` dimension of the Pulse metrics (make smoke reads it)."
  value       = module.pulse.environment
}

output "aws_region" {
  description = "Region of this environment."
  value       = var.aws_region
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the Pulse metrics."
  value       = module.pulse.metrics_namespace
}

output "table_names" {
  description = "DynamoDB table names keyed by resources.json key (sessions, fraud-state, alerts, watermarks)."
  value       = module.pulse.table_names
}

output "invalid_records_queue_url" {
  description = "SQS queue of records that failed JSON/schema validation, with the reason."
  value       = module.pulse.invalid_records_queue_url
}

output "alerts_sqs_queue_url" {
  description = "SQS queue subscribed to fraud alerts (alert_sqs_subscription); null when disabled."
  value       = module.pulse.alerts_sqs_queue_url
}

output "on_failure_queue_arns" {
  description = "On-failure destination queue of each function (batches it gave up on), keyed by service."
  value       = module.pulse.on_failure_queue_arns
}

output "log_group_names" {
  description = "CloudWatch log group of each function, keyed by service."
  value       = module.pulse.log_group_names
}

output "erasure_operator_policy_arn" {
  description = "IAM policy for pulse erase (attach it to the operators who handle erasure requests)."
  value       = module.pulse.erasure_operator_policy_arn
}

output "query_definition_names" {
  description = "Saved CloudWatch Logs Insights queries (Logs Insights -> Saved queries), keyed by query file."
  value       = module.pulse.query_definition_names
}

output "chatbot_configuration_arn" {
  description = "AWS Chatbot Slack channel configuration of the fraud alerts (null without alert_slack); make smoke sends one test message through it."
  value       = module.pulse.chatbot_configuration_arn
}

output "alarm_names" {
  description = "Every CloudWatch alarm of this environment; make smoke checks that each has a valid state."
  value       = module.pulse.alarm_names
}

output "stalled_alarm_names" {
  description = "The per-function stalled alarms; make smoke evaluates each one's metric math once."
  value       = module.pulse.stalled_alarm_names
}

output "alerts_failed_metric_filter" {
  description = "The parked-alerts metric filter (name, log group, pattern, matched message); make smoke tests the pattern."
  value       = module.pulse.alerts_failed_metric_filter
}
