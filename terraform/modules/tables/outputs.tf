output "names" {
  description = "Physical table names keyed by resources.json key."
  value       = { for k, t in aws_dynamodb_table.this : k => t.name }
}

output "arns" {
  description = "Table ARNs keyed by resources.json key."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}
