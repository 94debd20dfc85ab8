#!/usr/bin/env bash
# scripts/tf/run.sh plan|apply|destroy <env>: what `make plan|deploy|destroy ENV=<env>` runs.
# Needs AWS credentials and terraform/envs/<env>/backend.hcl (copy backend.hcl.example).
# The provider comes from the Terraform registry as usual; PULSE_TF_USE_MIRROR=1 uses the locally
# built one from scripts/tf/tools.sh instead (offline).
set -euo pipefail
cd "$(dirname "$0")/../.."

action="${1:-}"
env="${2:-}"
case "$env" in
  dev | staging | prod) ;;
  *) echo "error: environment must be one of: dev staging prod (got '$env')" >&2; exit 2 ;;
esac
case "$action" in
  plan | apply | destroy) ;;
  *) echo "usage: $0 plan|apply|destroy dev|staging|prod" >&2; exit 2 ;;
esac

dir="terraform/envs/$env"
if [[ ! -f "$dir/backend.hcl" ]]; then
  cat >&2 <<MSG
error: $dir/backend.hcl is missing.
  cp $dir/backend.hcl.example $dir/backend.hcl   # then set your state bucket, region and lock table
  (one-time state bucket + lock table: see terraform/README.md, "Bootstrap the state backend")
MSG
  exit 2
fi

scripts/tf/tools.sh install --no-provider >/dev/null
eval "$(scripts/tf/tools.sh env)"
if [[ "${PULSE_TF_USE_MIRROR:-0}" != 1 ]]; then
  unset TF_CLI_CONFIG_FILE # use the user's normal CLI config and the public registry
fi

tf() { "$TERRAFORM" -chdir="$dir" "$@"; }
tf init -input=false -backend-config=backend.hcl

case "$action" in
  plan)
    tf plan -input=false
    ;;
  apply)
    for fn in session-updater fraud-rules metrics-emitter; do
      [[ -f "dist/$fn.zip" ]] || { echo "error: dist/$fn.zip missing; run make build" >&2; exit 2; }
    done
    if [[ "${AUTO_APPROVE:-0}" == 1 ]]; then tf apply -input=false -auto-approve; else tf apply -input=false; fi
    echo
    tf output
    ;;
  destroy)
    echo "This destroys every Pulse resource of '$env' (stream, tables and their data, topics, functions)."
    [[ "$env" == prod ]] && echo "prod tables have deletion protection: set tables.deletion_protection = false and deploy first."
    read -r -p "Type the environment name to confirm: " answer
    if [[ "$answer" != "$env" ]]; then
      echo "aborted (typed '$answer', expected '$env')" >&2
      exit 1
    fi
    tf destroy -input=false -auto-approve
    ;;
esac
