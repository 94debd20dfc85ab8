output "name" {
  description = "Name of the Kinesis data stream."
  value       = aws_kinesis_stream.this.name
}

output "arn" {
  description = "ARN of the Kinesis data stream (consumers register on it)."
  value       = aws_kinesis_stream.this.arn
}
