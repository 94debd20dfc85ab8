#!/usr/bin/env bash
# terraform apply (then destroy) of the whole stack against a local moto server, with the offline
# provider mirror: plans everything, then applies every resource whose type moto can emulate
# (test/terraform/moto/emulator-gaps.json lists the others, with why) through -target, so moto's
# gaps never stop the rest. Exit 0 only when that apply and the destroy succeed.
# Needs: make tf-tools or PULSE_TF_PROVIDER_ARCHIVE, .venv with moto[server] (make install),
# dist/<fn>.zip (make build; dummy zips are used when missing).
set -uo pipefail
cd "$(dirname "$0")/../.."
eval "$(scripts/tf/tools.sh env)"
# Exit 3: a prerequisite is missing (tf-check reports it as skipped, or as a failure when required).
[[ "$PULSE_TF_PROVIDER_READY" == 1 ]] || { echo "SKIPPED moto apply: no provider mirror (make tf-tools or PULSE_TF_PROVIDER_ARCHIVE)"; exit 3; }
export TF_CLI_CONFIG_FILE="$PULSE_TF_MIRROR_CONFIG"
[[ -x .venv/bin/moto_server ]] || { echo "SKIPPED moto apply: .venv/bin/moto_server missing (make install)"; exit 3; }

work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
moto_port="$(free_port)"
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
# moto lacks Kinesis ListTagsForResource (called by aws_kinesis_stream_consumer): a shim answers it.
python3 scripts/tf/moto-shim.py "$port" "$moto_port" &
shim_pid=$!
trap 'kill "$moto_pid" "$shim_pid" 2>/dev/null; rm -rf "$work"' EXIT
for p in "$moto_port" "$port"; do for _ in $(seq 50); do curl -s "http://127.0.0.1:$p/moto-api/" >/dev/null && break; sleep 0.2; done; done

pkg="$PWD/dist"
for fn in session-updater fraud-rules metrics-emitter; do
  if [[ ! -f "$pkg/$fn.zip" ]]; then
    pkg="$work/dist"
    mkdir -p "$pkg"
    (cd "$work" && echo 'export const handler = async () => ({ batchItemFailures: [] });' >index.mjs &&
      for f in session-updater fraud-rules metrics-emitter; do python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write('index.mjs'); z.close()" "$pkg/$f.zip"; done)
    break
  fi
done

root=test/terraform/moto
export TF_DATA_DIR="$work/.terraform" TF_IN_AUTOMATION=1
vars=(-var "endpoint=http://127.0.0.1:$port" -var "package_dir=$pkg" -state="$work/terraform.tfstate")
trap 'kill "$moto_pid" "$shim_pid" 2>/dev/null; rm -rf "$work" "$root/.terraform.lock.hcl"' EXIT
"$TERRAFORM" -chdir="$root" init -backend=false -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
start=$(date +%s)
"$TERRAFORM" -chdir="$root" plan -input=false -no-color -out="$work/plan" "${vars[@]}" >"$work/plan.log" 2>&1 || { cat "$work/plan.log"; exit 1; }
"$TERRAFORM" -chdir="$root" show -json "$work/plan" >"$work/plan.json"
# Every planned resource instance, minus the emulator gaps: its address becomes a -target.
python3 - "$work/plan.json" test/terraform/moto/emulator-gaps.json "$work/targets" "$work/gaps" <<'PY'
import json, sys
plan, gaps = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
changes = [r for r in plan["resource_changes"] if r["mode"] == "managed" and "create" in r["change"]["actions"]]
open(sys.argv[3], "w").write("".join(r["address"] + "\n" for r in changes if r["type"] not in gaps))
left = {}
for r in changes:
    if r["type"] in gaps:
        left[r["type"]] = left.get(r["type"], 0) + 1
open(sys.argv[4], "w").write("".join(f"{n} x {t}: {gaps[t]}\n" for t, n in sorted(left.items())))
PY
planned=$(jq '[.resource_changes[] | select(.mode == "managed")] | length' "$work/plan.json")
targets=()
while IFS= read -r a; do targets+=("-target=$a"); done <"$work/targets"
echo "moto plan: $planned resources; applying ${#targets[@]}; left out (emulator gaps, test/terraform/moto/emulator-gaps.json):"
sed 's/^/  /' "$work/gaps"
timeout "${PULSE_MOTO_TIMEOUT:-600}" "$TERRAFORM" -chdir="$root" apply -auto-approve -input=false -no-color "${vars[@]}" "${targets[@]}" 2>&1 | tee "$work/apply.log" | grep -E 'Error|Apply complete' | sed 's/^/  /'
rc=${PIPESTATUS[0]}
created=$(grep -c 'Creation complete' "$work/apply.log")
echo "moto apply: exit $rc, $created of ${#targets[@]} resources created in $(($(date +%s) - start)) s"
if [[ $rc != 0 ]]; then grep -A8 '^Error' "$work/apply.log" | head -60; fi
[[ $rc == 0 && $created != "${#targets[@]}" ]] && { echo "moto apply: expected ${#targets[@]} creations"; rc=1; }
if "$TERRAFORM" -chdir="$root" destroy -auto-approve -input=false -no-color "${vars[@]}" >"$work/destroy.log" 2>&1; then
  echo "moto destroy: ok"
else
  echo "moto destroy: failed"
  grep -A5 '^Error' "$work/destroy.log" | head -20
  rc=1
fi
exit $rc
