#!/usr/bin/env bash
# Installs the Debian packages the cluster (or, with `test`, its test suite)
# needs (with `fuzz`, the fuzzers). Only what is missing is installed;
# `apt-get update` runs only then.
set -euo pipefail

runtime=(etcd-server etcd-client supervisor openssl ca-certificates iproute2 procps)
build=(protobuf-compiler libprotobuf-dev libssl-dev pkg-config gcc)
testing=(golang-cfssl curl python3 python3-venv faketime)

want=("${runtime[@]}" "${build[@]}")
if [ "${1:-}" = "test" ] || [ "${1:-}" = "fuzz" ]; then
  want+=("${testing[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "cargo (Rust toolchain) is required" >&2; exit 1; }
command -v kubectl >/dev/null || echo "note: kubectl is not installed; install kubectl v1.32 to drive the cluster" >&2

# The official Python client, for the client-compatibility tests.
if [ "${1:-}" = "test" ]; then
  repo=$(cd "$(dirname "$0")/.." && pwd)
  venv="$repo/target/pyenv"
  if ! "$venv/bin/python3" -c "import kubernetes" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "kubernetes==32.0.1"
  fi
fi

# The fuzzers (not part of the test command): cargo-fuzz from crates.io
# (it drives the nightly toolchain) and schemathesis from PyPI.
if [ "${1:-}" = "fuzz" ]; then
  repo=$(cd "$(dirname "$0")/.." && pwd)
  command -v cargo-fuzz >/dev/null || cargo +nightly install --locked cargo-fuzz
  venv="$repo/target/fuzzenv"
  if ! "$venv/bin/st" --version >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==4.32.5"
  fi
fi
