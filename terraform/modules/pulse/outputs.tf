output "stream_name" {
  description = "Name of the Kinesis data stream producers put events on."
  value       = module.stream.name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = module.stream.arn
}

output "alerts_topic_arn" {
  description = "ARN of the fraud alerts SNS topic (subscribe email, Slack via AWS Chatbot, or SQS)."
  value       = module.alerts.topic_arn
}

output "ops_topic_arn" {
  description = "ARN of the ops SNS topic that receives CloudWatch alarms."
  value       = module.ops.topic_arn
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard."
  value       = module.observability.dashboard_url
}

output "function_names" {
  description = "Lambda function names keyed by service."
  value       = { for k, f in module.functions : k => f.function_name }
}

output "on_failure_queue_arns" {
  description = "On-failure destination queue ARNs keyed by service."
  value       = { for k, f in module.functions : k => f.on_failure_queue_arn }
}

output "table_names" {
  description = "DynamoDB table names keyed by resources.json key."
  value       = module.tables.names
}

output "invalid_records_queue_url" {
  description = "URL of the invalid-records queue."
  value       = local.queue_urls["invalid-records"]
}

output "alerts_sqs_queue_url" {
  description = "URL of the optional SQS queue subscribed to fraud alerts (null when disabled)."
  value       = module.alerts.sqs_queue_url
}

output "kms_key_arn" {
  description = "ARN of the environment's customer managed KMS key (producers need kms:GenerateDataKey on it to put records)."
  value       = aws_kms_key.this.arn
}

output "environment" {
  description = "Environment name (the `Environment` dimension of the Pulse metrics)."
  value       = var.environment
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the Pulse metrics (resources.json)."
  value       = local.namespace
}

output "log_group_names" {
  description = "CloudWatch log group of each function, keyed by service."
  value       = { for k, f in module.functions : k => f.log_group_name }
}

output "query_definition_names" {
  description = "Saved CloudWatch Logs Insights queries of this environment."
  value       = module.observability.query_definition_names
}

output "erasure_operator_policy_arn" {
  description = "IAM policy with exactly the permissions pulse erase needs; attach it to whoever handles erasure requests."
  value       = module.erasure_operator.policy_arn
}

output "alarm_names" {
  description = "Every CloudWatch alarm of this environment (make smoke checks each one's state)."
  value       = sort(keys(module.observability.alarm_arns))
}

output "stalled_alarm_names" {
  description = "The per-function stalled alarms, keyed by function."
  value       = module.observability.stalled_alarm_names
}

output "alerts_failed_metric_filter" {
  description = "Name, log group, pattern and matched message of the parked-alerts metric filter."
  value       = module.observability.alerts_failed_metric_filter
}

output "chatbot_configuration_arn" {
  description = "ARN of the AWS Chatbot Slack channel configuration of the alert topic (null without alert_slack)."
  value       = module.alerts.chatbot_configuration_arn
}

output "archive" {
  description = "The event archive: bucket, Glue database, Athena workgroup and saved query ids (null when archive.enabled = false)."
  value = var.archive.enabled ? {
    bucket           = module.archive[0].bucket_name
    glue_database    = module.archive[0].glue_database
    athena_workgroup = module.archive[0].athena_workgroup
    named_queries    = module.archive[0].named_queries
  } : null
}
