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
