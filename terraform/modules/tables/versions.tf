terraform {
  required_version = ">= 1.5.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.37, < 7.0" # global_secondary_index.key_schema (6.29; reliable from 6.37)
    }
  }
}
