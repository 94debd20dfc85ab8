#!/usr/bin/env bash
# `make tf-check`: every Terraform check, with a summary of what ran and what was skipped.
#
#   fmt       terraform fmt -check -recursive terraform
#   validate  terraform init -backend=false + validate of every env root with the REAL hashicorp/aws
#             provider, then a canary: a misspelled argument must make validate fail.
#             - registry reachable (every normal machine): the official provider, a plain
#               `terraform init`; nothing is built or unpacked.
#             - no registry (answers within PULSE_TF_REGISTRY_TIMEOUT s, default 5): the local
#               filesystem mirror, from PULSE_TF_PROVIDER_ARCHIVE (a prebuilt .zst, unpacked and
#               sha256-checked) or from an earlier `make tf-tools` build.
#             - neither: SKIPPED, loudly; a failure with PULSE_TF_REQUIRE_VALIDATE=1.
#             PULSE_TF_BUILD_PROVIDER=1 builds the provider first (cold ~50 min, ~9.5 GiB RAM).
#   tflint    bundled terraform ruleset (recommended + naming/doc rules) on every module and root
#   moto      scripts/tf/moto-apply.sh: apply + destroy of the whole stack against moto, every
#             resource but the emulator gaps (test/terraform/moto/emulator-gaps.json); needs the
#             provider (as validate) and .venv's moto_server. PULSE_TF_MOTO_APPLY=0 skips it.
#   checkov   from PyPI in its own virtualenv, zero unexplained failures
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
# tflint is built here (Go module proxy) when missing; a machine without Go skips it, loudly.
if command -v go >/dev/null 2>&1 || [[ -x "$($TOOLS env | sed -n "s/^export TFLINT='\(.*\)'$/\1/p")" ]]; then
  $TOOLS install --no-provider || { record tools FAIL "could not install terraform/tflint (see above)"; }
fi
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
source_kind=""
if [[ "${PULSE_TF_USE_MIRROR:-0}" != 1 ]] && $TOOLS registry-reachable; then
  source_kind=registry
  echo "registry.terraform.io answers: validating with the official provider (plain terraform init)"
else
  echo "registry.terraform.io does not answer within ${PULSE_TF_REGISTRY_TIMEOUT:-5} s (or PULSE_TF_USE_MIRROR=1): using the local mirror"
  if [[ -n "${PULSE_TF_PROVIDER_ARCHIVE:-}" ]]; then
    $TOOLS provider-from-archive || record provider FAIL "PULSE_TF_PROVIDER_ARCHIVE=$PULSE_TF_PROVIDER_ARCHIVE could not be unpacked/verified"
  fi
  eval "$($TOOLS env)"
  [[ "$PULSE_TF_PROVIDER_READY" == 1 ]] && source_kind=mirror
fi

if [[ -n "$source_kind" ]]; then
  # Validate a scratch copy: no .terraform/ or lock file churn in the repository, and a user's own
  # .terraform.lock.hcl (official provider hashes) never meets a locally built provider.
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  tar -C . --exclude='.terraform' --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - terraform services | tar -C "$scratch" -xf -
  tfenv=(env TF_IN_AUTOMATION=1)
  if [[ $source_kind == mirror ]]; then
    tfenv+=(TF_CLI_CONFIG_FILE="$PULSE_TF_MIRROR_CONFIG")
    provider_note="hashicorp/aws $PULSE_AWS_PROVIDER_VERSION from the local mirror ($([[ -n "${PULSE_TF_PROVIDER_ARCHIVE:-}" ]] && echo "prebuilt archive, sha256 verified" || echo "built from source"))"
  else
    # One download for every root and Terraform version.
    mkdir -p "${PULSE_TF_CACHE:-$HOME/.cache/pulse/tf}/plugin-cache"
    tfenv+=(TF_PLUGIN_CACHE_DIR="${PULSE_TF_CACHE:-$HOME/.cache/pulse/tf}/plugin-cache")
    provider_note="official hashicorp/aws from the registry"
  fi
  # The oldest supported Terraform too, when it is cached (scripts/tf/tools.sh builds it when not on PATH).
  binaries=("$TERRAFORM")
  tf157="${PULSE_TF_CACHE:-$HOME/.cache/pulse/tf}/terraform-v1.5.7/bin/terraform"
  [[ -x "$tf157" && "$(realpath "$tf157")" != "$(realpath "$TERRAFORM")" ]] && binaries+=("$tf157")
  ok=1
  versions=()
  init_validate() { # tfbin dir -> 0 iff init and validate pass
    rm -rf "$2/.terraform" "$2/.terraform.lock.hcl"
    if ! "${tfenv[@]}" "$1" -chdir="$2" init -backend=false -input=false -no-color >"$scratch/init.log" 2>&1; then
      cat "$scratch/init.log"
      return 1
    fi
    grep -E 'Installed hashicorp/aws|Using hashicorp/aws|Reusing previous version of hashicorp/aws' "$scratch/init.log" | tail -1 || true
    "${tfenv[@]}" "$1" -chdir="$2" validate -no-color
  }
  for tfbin in "${binaries[@]}"; do
    ver="$("$tfbin" version 2>/dev/null | head -1 | awk '{print $2}')"
    versions+=("$ver")
    for env in "${ENVS[@]}"; do
      echo "-- terraform $ver: envs/$env"
      init_validate "$tfbin" "$scratch/terraform/envs/$env" || ok=0
    done
  done
  # Canary: validation that cannot tell a misspelled argument from a real one proves nothing.
  canary=terraform/modules/consumer-function/main.tf
  sed -i -E 's/^([[:space:]]*)memory_size([[:space:]]*)= var\.memory_size$/\1memory_sise\2= var.memory_size/' "$scratch/$canary"
  canary_result="canary NOT RUN (pattern not found in $canary)"
  if grep -q 'memory_sise' "$scratch/$canary"; then
    echo "-- canary: envs/dev with aws_lambda_function.memory_size misspelled (must fail)"
    if init_validate "$TERRAFORM" "$scratch/terraform/envs/dev" >"$scratch/canary.log" 2>&1; then
      cat "$scratch/canary.log"
      canary_result="canary FAILED: a misspelled argument passed validate"
      ok=0
    elif grep -q 'Unsupported argument' "$scratch/canary.log"; then
      grep -m1 -A2 'Unsupported argument' "$scratch/canary.log" || true
      canary_result="misspelled argument rejected"
    else
      cat "$scratch/canary.log"
      canary_result="canary failed for another reason (see above)"
      ok=0
    fi
  else
    ok=0
  fi
  if [[ $ok == 1 ]]; then
    record validate PASS "dev staging prod; terraform ${versions[*]}; $provider_note; $canary_result"
  else
    record validate FAIL "see output above ($canary_result)"
  fi
else
  why="no registry access and no provider mirror (offline: set PULSE_TF_PROVIDER_ARCHIVE=<terraform-provider-aws_${PULSE_AWS_PROVIDER_VERSION}_linux_amd64.zst>, or make tf-tools to build it — cold ~50 min, ~9.5 GiB RAM)"
  $TOOLS provider-building && why="provider build in progress (log ~/.cache/pulse/tf/aws-build.log); re-run when it finishes"
  printf '\n\033[1;31m!! SKIPPED terraform validate: %s\033[0m\n\n' "$why"
  if [[ "${PULSE_TF_REQUIRE_VALIDATE:-0}" == 1 ]]; then
    record validate FAIL "required (PULSE_TF_REQUIRE_VALIDATE=1) but $why"
  else
    record validate SKIPPED "$why"
  fi
fi

# --- apply against moto --------------------------------------------------------------------------
note "terraform apply against moto (all but test/terraform/moto/emulator-gaps.json)"
if [[ "${PULSE_TF_MOTO_APPLY:-1}" == 0 ]]; then
  record moto SKIPPED "PULSE_TF_MOTO_APPLY=0"
else
  out="$(scripts/tf/moto-apply.sh 2>&1)"
  rc=$?
  echo "$out"
  summary="$(grep -E '^moto apply:' <<<"$out" | head -1)"
  if [[ $rc == 0 ]]; then
    record moto PASS "$summary; destroyed"
  elif [[ $rc == 3 && "${PULSE_TF_REQUIRE_VALIDATE:-0}" != 1 ]]; then
    record moto SKIPPED "$(grep -m1 SKIPPED <<<"$out")"
  else
    record moto FAIL "${summary:-$(grep -m1 SKIPPED <<<"$out")}"
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
elif ! command -v go >/dev/null 2>&1; then
  printf '\n\033[1;31m!! SKIPPED tflint: not cached and no Go toolchain to build it (go install from the Go module proxy)\033[0m\n\n'
  record tflint SKIPPED "no Go toolchain to build tflint $TFLINT"
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
