#!/usr/bin/env bash
# Tooling for the Terraform *checks* (`make tf-check`, `make tf-tools`), installed WITHOUT
# HashiCorp/GitHub release downloads. Deploying (`make plan|deploy|destroy`) needs none of this:
# scripts/tf/run.sh only needs Terraform on PATH and the official provider from the registry.
#
# Cached outside the repository, keyed by version, under ${PULSE_TF_CACHE:-~/.cache/pulse/tf}:
#   terraform   : the one on PATH if present, else `go install github.com/hashicorp/terraform@v1.5.7`
#   tflint      : `go install github.com/terraform-linters/tflint@v0.64.0` (Go module proxy)
#   hashicorp/aws provider, ONLY for machines that cannot reach the Terraform registry, as an
#                 unpacked filesystem mirror served through a CLI config, from either
#                 - PULSE_TF_PROVIDER_ARCHIVE=<file.zst>: a prebuilt binary of the same version,
#                   zstd-packed; unpacked and checked against PULSE_TF_PROVIDER_SHA256, or
#                 - `go install github.com/hashicorp/terraform-provider-aws@<pseudo-version>`
#                   (heavy: see terraform/README.md for measured time/memory).
#
# Usage:
#   scripts/tf/tools.sh install [--no-provider]   install/reuse everything (builds the provider if missing)
#   scripts/tf/tools.sh provider-from-archive     unpack + verify PULSE_TF_PROVIDER_ARCHIVE into the mirror
#   scripts/tf/tools.sh registry-reachable        exit 0 iff registry.terraform.io answers within a few seconds
#   scripts/tf/tools.sh status                    print what is cached (exit 0 always)
#   eval "$(scripts/tf/tools.sh env)"             export TERRAFORM, TFLINT, PULSE_TF_MIRROR_CONFIG, PULSE_TF_PROVIDER_READY
#   scripts/tf/tools.sh provider-ready            exit 0 iff the provider mirror is usable
set -euo pipefail

TF_CACHE="${PULSE_TF_CACHE:-$HOME/.cache/pulse/tf}"
TERRAFORM_VERSION="${PULSE_TERRAFORM_VERSION:-v1.5.7}"
TFLINT_VERSION="${PULSE_TFLINT_VERSION:-v0.64.0}"
# hashicorp/terraform-provider-aws main at 2026-06-02 (commit 5f2286d6d836): after 6.47.0
# (May 27 2026); its CHANGELOG head is "6.48.0 (Unreleased)". Served by the Go proxy, no replace directives.
AWS_PROVIDER_MODULE_VERSION="${PULSE_AWS_PROVIDER_MODULE_VERSION:-v1.60.1-0.20260602190131-5f2286d6d836}"
AWS_PROVIDER_VERSION="${PULSE_AWS_PROVIDER_VERSION:-6.48.0}" # the version the mirror announces to terraform
# sha256 of that build for linux_amd64 (GOFLAGS=-trimpath, -ldflags="-s -w", go1.26.8): what an
# archive given in PULSE_TF_PROVIDER_ARCHIVE must unpack to.
AWS_PROVIDER_SHA256="${PULSE_TF_PROVIDER_SHA256:-0c192bc91ebdca6b454623a50627a14cd288d40fb7d7dd35a2a288050ba1bc09}"
REGISTRY_TIMEOUT_S="${PULSE_TF_REGISTRY_TIMEOUT:-5}"

# Terraform's platform name, without needing Go.
platform() {
  local os arch
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch="$(uname -m)" ;;
  esac
  echo "${os}_${arch}"
}
GOOS_GOARCH="$(platform)"
PROVIDER_DIR="$TF_CACHE/aws-$AWS_PROVIDER_MODULE_VERSION"
PROVIDER_BIN="$PROVIDER_DIR/bin/terraform-provider-aws"
PROVIDER_LOG="$TF_CACHE/aws-build.log"
MIRROR_DIR="$TF_CACHE/mirror"
MIRROR_BIN="$MIRROR_DIR/registry.terraform.io/hashicorp/aws/$AWS_PROVIDER_VERSION/$GOOS_GOARCH/terraform-provider-aws_v$AWS_PROVIDER_VERSION"
CLI_CONFIG="$TF_CACHE/terraformrc"
TFLINT_BIN="$TF_CACHE/tflint-$TFLINT_VERSION/bin/tflint"

log() { printf '[tf-tools] %s\n' "$*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || { log "ERROR: go is required to install $1 (no release downloads allowed)"; exit 1; }
}

terraform_path() {
  if command -v terraform >/dev/null 2>&1; then
    command -v terraform
  else
    echo "$TF_CACHE/terraform-$TERRAFORM_VERSION/bin/terraform"
  fi
}

install_terraform() {
  local tf
  tf="$(terraform_path)"
  if [[ -x "$tf" ]]; then
    log "terraform: $tf ($("$tf" version | head -1))"
    return
  fi
  need_go terraform
  log "terraform: not on PATH; go install github.com/hashicorp/terraform@$TERRAFORM_VERSION"
  GOFLAGS=-trimpath GOBIN="$(dirname "$tf")" go install -ldflags="-s -w" "github.com/hashicorp/terraform@$TERRAFORM_VERSION"
  log "terraform: $tf"
}

install_tflint() {
  if [[ -x "$TFLINT_BIN" ]]; then
    log "tflint: $TFLINT_BIN (cached)"
    return
  fi
  need_go tflint
  log "tflint: go install github.com/terraform-linters/tflint@$TFLINT_VERSION"
  GOFLAGS=-trimpath GOBIN="$(dirname "$TFLINT_BIN")" go install -ldflags="-s -w" "github.com/terraform-linters/tflint@$TFLINT_VERSION"
}

# A build started by someone else (another shell, a previous CI step) is waited for, never duplicated.
provider_build_running() {
  pgrep -f "terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION" >/dev/null 2>&1
}

build_provider() {
  if [[ -x "$PROVIDER_BIN" ]]; then
    log "aws provider: $PROVIDER_BIN (cached)"
    return
  fi
  if provider_build_running; then
    log "aws provider: a build is already running (log: $PROVIDER_LOG); waiting for it"
    while provider_build_running; do sleep 20; done
    [[ -x "$PROVIDER_BIN" ]] || { log "ERROR: that build finished without $PROVIDER_BIN; see $PROVIDER_LOG"; exit 1; }
    return
  fi
  need_go terraform-provider-aws
  mkdir -p "$PROVIDER_DIR/bin"
  log "aws provider: building github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION"
  log "aws provider: this is slow (see terraform/README.md: tens of minutes on 2 cores, GiBs of RAM); log: $PROVIDER_LOG"
  local timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -v)
  (
    exec 9>"$TF_CACHE/aws-build.lock"
    flock 9
    [[ -x "$PROVIDER_BIN" ]] && exit 0
    GOFLAGS=-trimpath GOBIN="$PROVIDER_DIR/bin" "${timer[@]}" \
      go install -ldflags="-s -w" "github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION"
  ) >"$PROVIDER_LOG" 2>&1 || { log "ERROR: provider build failed; tail of $PROVIDER_LOG:"; tail -20 "$PROVIDER_LOG" >&2; exit 1; }
  grep -E 'Elapsed \(wall clock\)|Maximum resident' "$PROVIDER_LOG" >&2 || true
}

# Unpacked filesystem-mirror layout + CLI config, so `terraform init -backend=false` works offline.
write_mirror() {
  if [[ -x "$PROVIDER_BIN" ]]; then
    mkdir -p "$(dirname "$MIRROR_BIN")"
    if [[ ! -x "$MIRROR_BIN" ]] || ! cmp -s "$PROVIDER_BIN" "$MIRROR_BIN"; then
      ln -f "$PROVIDER_BIN" "$MIRROR_BIN" 2>/dev/null || cp -f "$PROVIDER_BIN" "$MIRROR_BIN"
    fi
  fi
  [[ -x "$MIRROR_BIN" ]] || return 0
  cat >"$CLI_CONFIG" <<EOF
# Generated by scripts/tf/tools.sh: hashicorp/aws comes from a local filesystem mirror (offline checks only).
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR_DIR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
  log "aws provider: mirror $MIRROR_BIN; CLI config $CLI_CONFIG"
}

provider_ready() { [[ -x "$MIRROR_BIN" && -f "$CLI_CONFIG" ]]; }

# A prebuilt provider of the pinned version: unpacked once, verified, then reused while the
# recorded checksum still matches (a stamp next to the binary avoids hashing 900 MB every run).
provider_from_archive() {
  local archive="${PULSE_TF_PROVIDER_ARCHIVE:-}"
  [[ -n "$archive" ]] || { log "ERROR: PULSE_TF_PROVIDER_ARCHIVE is not set"; return 1; }
  [[ -f "$archive" ]] || { log "ERROR: PULSE_TF_PROVIDER_ARCHIVE=$archive does not exist"; return 1; }
  local stamp="$MIRROR_BIN.sha256"
  if [[ -x "$MIRROR_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$AWS_PROVIDER_SHA256" ]]; then
    log "aws provider: $MIRROR_BIN (from archive, sha256 verified earlier)"
    write_mirror
    return 0
  fi
  command -v zstd >/dev/null 2>&1 || { log "ERROR: zstd is needed to unpack $archive (apt-get install zstd)"; return 1; }
  mkdir -p "$(dirname "$MIRROR_BIN")"
  local tmp="$MIRROR_BIN.unpacking.$$"
  log "aws provider: unpacking $archive"
  if ! zstd -d -q -f --long=27 -o "$tmp" "$archive"; then
    rm -f "$tmp"
    log "ERROR: could not unpack $archive"
    return 1
  fi
  local sum
  sum="$(sha256sum "$tmp" | awk '{print $1}')"
  if [[ "$sum" != "$AWS_PROVIDER_SHA256" ]]; then
    rm -f "$tmp"
    log "ERROR: $archive unpacks to sha256 $sum, expected $AWS_PROVIDER_SHA256 (PULSE_TF_PROVIDER_SHA256)"
    return 1
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$MIRROR_BIN"
  echo "$sum" >"$stamp"
  log "aws provider: $MIRROR_BIN (sha256 $sum verified)"
  write_mirror
}

# The official provider is preferred wherever the registry answers; the answer must come quickly,
# so an offline machine falls back to the mirror in seconds instead of hanging in `terraform init`.
registry_reachable() {
  command -v curl >/dev/null 2>&1 || return 1
  curl -fsS -o /dev/null --connect-timeout "$REGISTRY_TIMEOUT_S" --max-time "$REGISTRY_TIMEOUT_S" \
    "https://registry.terraform.io/v1/providers/hashicorp/aws/versions" 2>/dev/null
}

cmd="${1:-install}"
shift || true
mkdir -p "$TF_CACHE"
case "$cmd" in
  install)
    with_provider=1
    [[ "${1:-}" == "--no-provider" ]] && with_provider=0
    install_terraform
    install_tflint
    if [[ $with_provider == 1 && -n "${PULSE_TF_PROVIDER_ARCHIVE:-}" ]]; then
      provider_from_archive # the same build, prebuilt: no 50-minute compile
    elif [[ $with_provider == 1 ]]; then
      build_provider
    fi
    write_mirror
    ;;
  env)
    write_mirror 2>/dev/null
    echo "export TERRAFORM='$(terraform_path)'"
    echo "export TFLINT='$TFLINT_BIN'"
    echo "export PULSE_AWS_PROVIDER_VERSION='$AWS_PROVIDER_VERSION'"
    # Not TF_CLI_CONFIG_FILE: the mirror is only for offline checks, and callers opt in to it.
    if provider_ready; then
      echo "export PULSE_TF_MIRROR_CONFIG='$CLI_CONFIG'"
      echo "export PULSE_TF_PROVIDER_READY=1"
    else
      echo "export PULSE_TF_PROVIDER_READY=0"
    fi
    ;;
  provider-ready)
    write_mirror 2>/dev/null
    provider_ready
    ;;
  provider-building)
    provider_build_running
    ;;
  provider-from-archive)
    provider_from_archive
    ;;
  registry-reachable)
    registry_reachable
    ;;
  status)
    echo "cache:     $TF_CACHE"
    echo "terraform: $(terraform_path) $([[ -x "$(terraform_path)" ]] && echo present || echo missing)"
    echo "tflint:    $TFLINT_BIN $([[ -x "$TFLINT_BIN" ]] && echo present || echo missing)"
    echo "provider:  $PROVIDER_BIN $([[ -x "$PROVIDER_BIN" ]] && echo present || { provider_build_running && echo building || echo missing; })"
    echo "mirror:    $MIRROR_BIN $([[ -x "$MIRROR_BIN" ]] && echo present || echo missing)"
    echo "archive:   ${PULSE_TF_PROVIDER_ARCHIVE:-(PULSE_TF_PROVIDER_ARCHIVE not set)}"
    ;;
  *)
    echo "usage: $0 install [--no-provider] | env | status | provider-ready | provider-building | provider-from-archive | registry-reachable" >&2
    exit 2
    ;;
esac
