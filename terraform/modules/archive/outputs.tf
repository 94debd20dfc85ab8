output "bucket_name" {
  description = "Name of the archive bucket (ARCHIVE_BUCKET of archive-writer)."
  value       = aws_s3_bucket.archive.id
}

output "bucket_arn" {
  description = "ARN of the archive bucket; object ARNs are this plus /*."
  value       = aws_s3_bucket.archive.arn
}

output "glue_database" {
  description = "Glue database holding the events and invalid tables."
  value       = aws_glue_catalog_database.archive.name
}

output "athena_workgroup" {
  description = "Athena workgroup for archive queries (results encrypted, scans bounded)."
  value       = aws_athena_workgroup.archive.name
}

output "named_queries" {
  description = "Saved query name -> Athena named query id."
  value       = { for k, q in aws_athena_named_query.archive : k => q.id }
}
