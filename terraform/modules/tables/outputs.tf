output "names" {
  description = "Physical table names keyed by resources.json key."
  value       = { for k, t in aws_dynamodb_table.this : k => t.name }
}

output "arns" {
  description = "Table ARNs keyed by resources.json key."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}

output "index_arns" {
  description = "Global secondary index ARNs keyed by table key, then index name (empty map for a table without indexes)."
  value       = { for k, t in aws_dynamodb_table.this : k => { for i in var.tables[k].global_secondary_indexes : i.name => "${t.arn}/index/${i.name}" } }
}
