output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "consumer_arn" {
  description = "ARN of the function's enhanced fan-out stream consumer."
  value       = aws_kinesis_stream_consumer.this.arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "on_failure_queue_arn" {
  description = "ARN of the on-failure destination queue."
  value       = aws_sqs_queue.on_failure.arn
}

output "on_failure_queue_name" {
  description = "Name of the on-failure destination queue (its depth is alarmed)."
  value       = aws_sqs_queue.on_failure.name
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that invokes the function (null without a schedule)."
  value       = one(aws_scheduler_schedule.this[*].arn)
}
