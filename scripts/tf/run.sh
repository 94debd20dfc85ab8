#!/usr/bin/env bash
# scripts/tf/run.sh plan|apply|destroy <env>: what `make plan|deploy|destroy ENV=<env>` runs.
# Needs only Terraform (>= 1.5.7) on PATH, AWS credentials and terraform/envs/<env>/backend.hcl
# (copy backend.hcl.example). No Go, no tflint, no provider build: the provider comes from the
# Terraform registry as usual. PULSE_TF_USE_MIRROR=1 uses the offline mirror that `make tf-tools`
# (or PULSE_TF_PROVIDER_ARCHIVE) prepared instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

MIN_TERRAFORM=1.5.7
TERRAFORM="${TERRAFORM:-terraform}"

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

if ! command -v "$TERRAFORM" >/dev/null 2>&1; then
  cat >&2 <<MSG
error: Terraform is not on PATH (looked for '$TERRAFORM').
  make plan|deploy|destroy need Terraform >= $MIN_TERRAFORM: install it from HashiCorp's packages
  or your package manager, or point TERRAFORM=/path/to/terraform at one.
MSG
  exit 2
fi
have="$("$TERRAFORM" version 2>/dev/null | sed -n 's/^Terraform v\([0-9][0-9.]*\).*/\1/p' | head -1)"
if [[ -z "$have" || "$(printf '%s\n%s\n' "$MIN_TERRAFORM" "$have" | sort -V | head -1)" != "$MIN_TERRAFORM" ]]; then
  echo "error: $TERRAFORM is version '${have:-unknown}'; Pulse needs Terraform >= $MIN_TERRAFORM (< 2.0). Upgrade it first." >&2
  exit 2
fi
if [[ "${PULSE_TF_USE_MIRROR:-0}" == 1 ]]; then
  eval "$(scripts/tf/tools.sh env 2>/dev/null)"
  [[ "${PULSE_TF_PROVIDER_READY:-0}" == 1 ]] || { echo "error: PULSE_TF_USE_MIRROR=1 but no provider mirror (make tf-tools)" >&2; exit 2; }
  export TF_CLI_CONFIG_FILE="$PULSE_TF_MIRROR_CONFIG"
fi

# plan and apply deploy the bundles; destroy never reads them (it works from a fresh clone).
if [[ "$action" != destroy ]]; then
  for spec in services/*/function.json; do
    fn="$(basename "$(dirname "$spec")")"
    [[ -f "dist/$fn.zip" ]] || { echo "error: dist/$fn.zip missing; run make build (make plan/deploy do)" >&2; exit 2; }
  done
fi

# destroy: confirmed before anything else runs. Unattended (CI), CONFIRM_ENV=<env> is the
# confirmation; without it a terminal is asked, and with neither the run stops and says why.
if [[ "$action" == destroy ]]; then
  echo "This destroys every Pulse resource of '$env' (stream, tables and their data, topics, functions)."
  [[ "$env" == prod ]] && echo "prod tables have deletion protection: set tables.deletion_protection = false and deploy first."
  if [[ -n "${CONFIRM_ENV:-}" ]]; then
    if [[ "$CONFIRM_ENV" != "$env" ]]; then
      echo "error: CONFIRM_ENV='$CONFIRM_ENV' does not name the environment being destroyed ('$env'); nothing was destroyed." >&2
      exit 2
    fi
    echo "confirmed by CONFIRM_ENV=$env"
  elif [[ -t 0 ]]; then
    read -r -p "Type the environment name to confirm: " answer
    if [[ "$answer" != "$env" ]]; then
      echo "aborted (typed '$answer', expected '$env'); nothing was destroyed." >&2
      exit 1
    fi
  else
    echo "error: make destroy needs a confirmation and there is no terminal to ask (stdin is not a TTY)." >&2
    echo "  Unattended (CI): make destroy ENV=$env CONFIRM_ENV=$env" >&2
    exit 2
  fi
fi

tf() { "$TERRAFORM" -chdir="$dir" "$@"; }
tf init -input=false -backend-config=backend.hcl

case "$action" in
  plan)
    tf plan -input=false
    ;;
  apply)
    if [[ "${AUTO_APPROVE:-0}" == 1 ]]; then tf apply -input=false -auto-approve; else tf apply -input=false; fi
    echo
    tf output
    ;;
  destroy)
    tf destroy -input=false -auto-approve
    ;;
esac
