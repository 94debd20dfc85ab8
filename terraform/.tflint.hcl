# tflint with the bundled terraform ruleset only. The AWS ruleset (tflint-ruleset-aws) is not
# available offline: it is not served by the Go module proxy and `tflint --init` downloads from
# GitHub releases, which CI cannot reach. Run by scripts/tf/check.sh with --config pointing here.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

rule "terraform_naming_convention" {
  enabled = true
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_standard_module_structure" {
  enabled = true
}

rule "terraform_comment_syntax" {
  enabled = true
}

rule "terraform_unused_required_providers" {
  enabled = true
}
