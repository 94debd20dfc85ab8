# `terraform apply` of the dev-shaped stack against moto (scripts/tf/moto-apply.sh): every resource
# except the types moto cannot emulate (emulator-gaps.json, left out with -target).
# Not a deployment root: local state, fake credentials, every endpoint pointed at moto.
terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}

variable "endpoint" {
  description = "moto server URL."
  type        = string
}

variable "package_dir" {
  description = "Directory with <fn>.zip."
  type        = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  # moto serves S3 on its one port: the bucket cannot be a host name there.
  s3_use_path_style = true

  endpoints {
    athena         = var.endpoint
    chatbot        = var.endpoint
    cloudwatch     = var.endpoint
    dynamodb       = var.endpoint
    glue           = var.endpoint
    iam            = var.endpoint
    kinesis        = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    logs           = var.endpoint
    s3             = var.endpoint
    s3control      = var.endpoint
    sns            = var.endpoint
    scheduler      = var.endpoint
    secretsmanager = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
  }
}

module "pulse" {
  source = "../../../terraform/modules/pulse"

  environment               = "moto"
  package_dir               = var.package_dir
  alert_email_subscriptions = [{ address = "fraud@example.com", min_severity = "medium" }]
  alert_sqs_subscription    = { enabled = true, min_severity = "high" }
  ops_email_addresses       = ["ops@example.com"]
  # The channel itself is an emulator gap (emulator-gaps.json); its role, guardrail and log group are applied.
  alert_slack = { team_id = "T07EA123LEP", channel_id = "C07EZ1ABC23" }
  # The provider reads bucket tags through S3 Control, whose account-id host prefix
  # (<account>.<endpoint host>) cannot reach a local endpoint: the archive is left out here; its
  # resources are checked by validate, checkov and the wiring tests.
  archive = { enabled = false }
}

output "stream_name" {
  description = "Stream name."
  value       = module.pulse.stream_name
}

output "function_names" {
  description = "Functions."
  value       = module.pulse.function_names
}

output "dashboard_url" {
  description = "Dashboard."
  value       = module.pulse.dashboard_url
}
