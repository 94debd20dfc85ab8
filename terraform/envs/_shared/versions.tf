# Shared by every environment root (symlinked from envs/<env>/); the environment-specific choices
# live in envs/<env>/main.tf.
terraform {
  required_version = ">= 1.5.7, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.47"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (see backend.hcl.example).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region
  # Optional guard against deploying an environment with another account's credentials.
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      Project     = "pulse"
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}
