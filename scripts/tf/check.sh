#!/usr/bin/env bash
# `make tf-check`: every offline Terraform check, with a summary of what ran and what was skipped.
#
#   fmt       terraform fmt -check -recursive terraform
#   validate  terraform init -backend=false + validate of every env root with the REAL hashicorp/aws
#             provider (built from the Go module proxy by scripts/tf/tools.sh, served from a filesystem
#             mirror). Skipped, loudly, when that provider is not built yet, unless
#             PULSE_TF_BUILD_PROVIDER=1 (build it now: cold ~50 min, ~9.5 GiB RAM) or
#             PULSE_TF_REQUIRE_VALIDATE=1 (treat the skip as a failure).
#   tflint    bundled terraform ruleset (recommended + naming/doc rules) on every module and root
#   checkov   from PyPI in the project virtualenv (.venv), zero unexplained failures
#   wiring    jest tests in test/terraform (HCL parsed with @cdktf/hcl2json)
set -uo pipefail
cd "$(dirname "$0")/../.."

TOOLS=scripts/tf/tools.sh
ENVS=(dev staging prod)
# checkov pins an old botocore that breaks moto (CloudWatch over JSON), so it gets its own virtualenv.
VENV="${CHECKOV_VENV:-.venv-checkov}"
CHECKOV_SPEC="${PULSE_CHECKOV_SPEC:-checkov==3.3.30}"
declare -a SUMMARY=()
FAILED=0

note() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
record() { # name status detail
  SUMMARY+=("$(printf '%-9s %-8s %s' "$1" "$2" "$3")")
  [[ "$2" == FAIL ]] && FAILED=1
  return 0
}

# --- tools ----------------------------------------------------------------------------------------
note "tools"
$TOOLS install --no-provider || { record tools FAIL "could not install terraform/tflint (see above)"; }
if [[ "${PULSE_TF_BUILD_PROVIDER:-0}" == 1 ]]; then
  $TOOLS install || record provider FAIL "provider build failed"
fi
eval "$($TOOLS env)"
$TOOLS status

# --- fmt ------------------------------------------------------------------------------------------
note "terraform fmt -check -recursive terraform"
if "$TERRAFORM" fmt -check -recursive -diff terraform; then
  record fmt PASS "$("$TERRAFORM" version | head -1)"
else
  record fmt FAIL "run: terraform fmt -recursive terraform"
fi

# --- validate -------------------------------------------------------------------------------------
note "terraform validate (real hashicorp/aws provider)"
if [[ "$PULSE_TF_PROVIDER_READY" == 1 ]]; then
  # Validate a scratch copy: no .terraform/ or lock file churn in the repository, and a user's own
  # .terraform.lock.hcl (official provider hashes) never meets the locally built provider.
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  tar -C . --exclude='.terraform' --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - terraform services | tar -C "$scratch" -xf -
  # The oldest supported Terraform too, when it is cached (scripts/tf/tools.sh builds it when not on PATH).
  binaries=("$TERRAFORM")
  tf157="${PULSE_TF_CACHE:-$HOME/.cache/pulse/tf}/terraform-v1.5.7/bin/terraform"
  [[ -x "$tf157" && "$(realpath "$tf157")" != "$(realpath "$TERRAFORM")" ]] && binaries+=("$tf157")
  ok=1
  versions=()
  for tfbin in "${binaries[@]}"; do
    ver="$("$tfbin" version | head -1 | awk '{print $2}')"
    versions+=("$ver")
    for env in "${ENVS[@]}"; do
      dir="$scratch/terraform/envs/$env"
      echo "-- terraform $ver: envs/$env"
      rm -rf "$dir/.terraform" "$dir/.terraform.lock.hcl"
      if ! TF_IN_AUTOMATION=1 "$tfbin" -chdir="$dir" init -backend=false -input=false -no-color >"$scratch/init.log" 2>&1; then
        cat "$scratch/init.log"
        ok=0
        continue
      fi
      grep -E 'Installed hashicorp/aws' "$scratch/init.log" || true
      "$tfbin" -chdir="$dir" validate -no-color || ok=0
    done
  done
  if [[ $ok == 1 ]]; then
    record validate PASS "dev staging prod; terraform ${versions[*]}; hashicorp/aws $PULSE_AWS_PROVIDER_VERSION built from source"
  else
    record validate FAIL "see output above"
  fi
else
  why="provider not built (run: make tf-tools — cold build ~50 min and ~9.5 GiB RAM on 2 cores; or PULSE_TF_BUILD_PROVIDER=1 make tf-check)"
  $TOOLS provider-building && why="provider build in progress (log ~/.cache/pulse/tf/aws-build.log); re-run when it finishes"
  echo "SKIPPED terraform validate: $why"
  if [[ "${PULSE_TF_REQUIRE_VALIDATE:-0}" == 1 ]]; then
    record validate FAIL "required (PULSE_TF_REQUIRE_VALIDATE=1) but $why"
  else
    record validate SKIPPED "$why"
  fi
fi

# --- tflint ---------------------------------------------------------------------------------------
note "tflint (bundled terraform ruleset; tflint-ruleset-aws unavailable offline)"
if [[ -x "$TFLINT" ]]; then
  ok=1
  config="$PWD/terraform/.tflint.hcl"
  for dir in terraform/modules/* "${ENVS[@]/#/terraform/envs/}"; do
    echo "-- $dir"
    (cd "$dir" && "$TFLINT" --config="$config" --format=compact --no-color) || ok=0
  done
  if [[ $ok == 1 ]]; then record tflint PASS "$("$TFLINT" --version | head -1), 0 issues in 6 modules + 3 roots"; else record tflint FAIL "see output above"; fi
else
  record tflint FAIL "tflint not installed ($TFLINT)"
fi

# --- checkov --------------------------------------------------------------------------------------
note "checkov ($CHECKOV_SPEC in $VENV)"
if [[ ! -x "$VENV/bin/checkov" ]]; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "$CHECKOV_SPEC" || true
fi
if [[ -x "$VENV/bin/checkov" ]]; then
  out="$("$VENV/bin/checkov" -d terraform --framework terraform --compact --quiet --skip-download 2>&1)"
  rc=$?
  echo "$out"
  counts="$(grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' <<<"$out" | head -1)"
  if [[ $rc == 0 ]]; then record checkov PASS "$counts (every skip has a reason in the code)"; else record checkov FAIL "$counts"; fi
else
  record checkov FAIL "could not install $CHECKOV_SPEC into $VENV"
fi

# --- wiring tests ---------------------------------------------------------------------------------
note "jest test/terraform (HCL wiring vs services/*.json)"
# --forceExit: @cdktf/hcl2json's Go wasm runtime leaves a timer scheduled after the last parse.
if out="$(npx jest test/terraform --colors=false --forceExit 2>&1)"; then
  echo "$out" | tail -6
  record wiring PASS "$(grep -Eo 'Tests: .*' <<<"$out" | head -1)"
else
  echo "$out"
  record wiring FAIL "$(grep -Eo 'Tests: .*' <<<"$out" | head -1)"
fi

note "tf-check summary"
printf '%s\n' "${SUMMARY[@]}"
exit $FAILED
