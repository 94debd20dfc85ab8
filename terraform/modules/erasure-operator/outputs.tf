output "policy_arn" {
  description = "ARN of the erasure operator policy: attach it to the role or group that runs pulse erase."
  value       = aws_iam_policy.this.arn
}

output "policy_json" {
  description = "The policy document (for review and for the wiring tests)."
  value       = data.aws_iam_policy_document.this.json
}
