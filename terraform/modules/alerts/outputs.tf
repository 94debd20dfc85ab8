output "topic_arn" {
  description = "ARN of the SNS topic."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the SNS topic."
  value       = aws_sns_topic.this.name
}

output "email_subscription_arns" {
  description = "Subscription ARNs by email address (\"pending confirmation\" until the recipient confirms)."
  value       = { for k, s in aws_sns_topic_subscription.email : k => s.arn }
}

output "sqs_queue_url" {
  description = "URL of the optional SQS subscription queue (null when disabled)."
  value       = one(aws_sqs_queue.subscription[*].url)
}

output "sqs_queue_arn" {
  description = "ARN of the optional SQS subscription queue (null when disabled)."
  value       = one(aws_sqs_queue.subscription[*].arn)
}

output "chatbot_configuration_arn" {
  description = "ARN of the AWS Chatbot Slack channel configuration (null when disabled)."
  value       = one(aws_chatbot_slack_channel_configuration.this[*].chat_configuration_arn)
}
