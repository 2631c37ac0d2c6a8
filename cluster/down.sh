#!/usr/bin/env bash
# Stops the one-machine cluster that up.sh started. With --purge, also
# deletes its data, logs, PKI and installed binaries.
set -euo pipefail
KUBE_HOME=${KUBE_HOME:-/opt/kubernetes}
conf="$KUBE_HOME/supervisord.conf"
if [ -f "$KUBE_HOME/cluster.env" ]; then
  set -a; . "$KUBE_HOME/cluster.env"; set +a
fi
if [ -f "$conf" ] && supervisorctl -c "$conf" pid >/dev/null 2>&1; then
  supervisorctl -c "$conf" shutdown
  for _ in $(seq 30); do supervisorctl -c "$conf" pid >/dev/null 2>&1 || break; sleep 1; done
else
  echo "supervisord is not running"
fi
if [ "${1:-}" = "--purge" ]; then
  rm -rf "${KUBE_HOME:?}"
  echo "removed $KUBE_HOME"
fi
