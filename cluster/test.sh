#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration suites that
# start the real binaries against real etcd and drive them with kubectl.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
"$repo/cluster/packages.sh" test
cargo build --locked --workspace --bins
cargo nextest run --locked --workspace --no-fail-fast "$@"
