#!/usr/bin/env bash
# Stretch check: terraform apply (then destroy) of the whole stack against a local moto server,
# using the locally built provider. Reports how far it gets. Needs: make tf-tools, .venv with
# moto[server] (make install), dist/<fn>.zip (make build; dummy zips are used when missing).
set -uo pipefail
cd "$(dirname "$0")/../.."
eval "$(scripts/tf/tools.sh env)"
[[ "$PULSE_TF_PROVIDER_READY" == 1 ]] || { echo "SKIPPED moto apply: provider not built (make tf-tools)"; exit 0; }
export TF_CLI_CONFIG_FILE="$PULSE_TF_MIRROR_CONFIG"
[[ -x .venv/bin/moto_server ]] || { echo "SKIPPED moto apply: .venv/bin/moto_server missing (make install)"; exit 0; }

work="$(mktemp -d)"
port="${PULSE_MOTO_PORT:-5099}"
.venv/bin/moto_server -p "$((port + 1))" >"$work/moto.log" 2>&1 &
moto_pid=$!
# moto lacks Kinesis ListTagsForResource (called by aws_kinesis_stream_consumer): a shim answers it.
python3 scripts/tf/moto-shim.py "$port" "$((port + 1))" &
shim_pid=$!
trap 'kill "$moto_pid" "$shim_pid" 2>/dev/null; rm -rf "$work"' EXIT
for p in "$((port + 1))" "$port"; do for _ in $(seq 50); do curl -s "http://127.0.0.1:$p/moto-api/" >/dev/null && break; sleep 0.2; done; done

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
timeout "${PULSE_MOTO_TIMEOUT:-600}" "$TERRAFORM" -chdir="$root" apply -auto-approve -input=false -no-color "${vars[@]}" 2>&1 | tee "$work/apply.log" | grep -E 'Creation complete|Error|error|Apply complete' | sed 's/^/  /'
rc=${PIPESTATUS[0]}
created=$(grep -c 'Creation complete' "$work/apply.log")
echo "moto apply: exit $rc, $created resources created in $(($(date +%s) - start)) s"
if [[ $rc != 0 ]]; then grep -A8 '^Error' "$work/apply.log" | head -60; fi
"$TERRAFORM" -chdir="$root" destroy -auto-approve -input=false -no-color "${vars[@]}" >"$work/destroy.log" 2>&1 &&
  echo "moto destroy: ok" || { echo "moto destroy: failed"; grep -A5 '^Error' "$work/destroy.log" | head -20; }
exit $rc
