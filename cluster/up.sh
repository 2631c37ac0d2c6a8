#!/usr/bin/env bash
# Brings up a one-machine cluster "the binary way": installs the Debian
# packages, builds the release binaries, installs them under $KUBE_HOME,
# writes the cluster PKI and kubeconfigs with `certs pki`, and starts
# supervisord with one program per daemon that exists (etcd first, over
# mutual TLS only). Safe to run again: keys are kept, programs updated.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
KUBE_HOME=${KUBE_HOME:-/opt/kubernetes}
"$repo/cluster/packages.sh"

echo "== building release binaries"
(cd "$repo" && cargo build --release --locked --workspace --bins)

echo "== installing into $KUBE_HOME"
mkdir -p "$KUBE_HOME"/{bin,pki,data,logs,run,supervisord.d}
chmod 0700 "$KUBE_HOME/pki"
for b in "$repo"/target/release/*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  install -m 0755 "$b" "$KUBE_HOME/bin/"
done
# The cert tool answers to cfssl's names, as the seed installs cfssl.
for alias in cfssl cfssljson cfssl-json cfssl-certinfo; do
  ln -sf certs "$KUBE_HOME/bin/$alias"
done

node=$(hostname)
cat > "$KUBE_HOME/cluster.env" <<ENV
KUBE_BIN=$KUBE_HOME/bin
KUBE_PKI=$KUBE_HOME/pki
KUBE_DATA=$KUBE_HOME/data
KUBE_LOGS=$KUBE_HOME/logs
KUBE_RUN=$KUBE_HOME/run
KUBE_PROGRAMS=$KUBE_HOME/supervisord.d
NODE_NAME=$node
KUBE_ETCD_BIN=$(command -v etcd)
KUBE_ETCD_NAME=etcd-$node
KUBE_ETCD_IP=127.0.0.1
KUBE_ETCD_CLIENT_PORT=2379
KUBE_ETCD_PEER_PORT=2380
KUBE_ETCD_INITIAL_CLUSTER=etcd-$node=https://127.0.0.1:2380
KUBE_ETCD_SERVERS=https://127.0.0.1:2379
APISERVER_IP=127.0.0.1
APISERVER_PORT=6443
SERVICE_CLUSTER_IP_RANGE=192.168.0.0/16
SERVICE_NODE_PORT_RANGE=30000-32767
CLUSTER_CIDR=172.7.0.0/16
ENV
set -a; . "$KUBE_HOME/cluster.env"; set +a

echo "== cluster PKI and kubeconfigs in $KUBE_PKI"
cat > "$KUBE_HOME/cluster.json" <<JSON
{
  "clusterName": "myk8s",
  "apiserver": { "ip": "$APISERVER_IP", "hostname": "$node", "url": "https://$APISERVER_IP:$APISERVER_PORT" },
  "etcd": [ { "name": "$KUBE_ETCD_NAME", "ip": "$KUBE_ETCD_IP" } ],
  "nodes": [ { "name": "$node", "ip": "127.0.0.1" } ],
  "serviceClusterIPRange": "$SERVICE_CLUSTER_IP_RANGE"
}
JSON
"$KUBE_BIN/certs" pki --config "$KUBE_HOME/cluster.json" --dir "$KUBE_PKI"

# The installed configuration names this machine's paths and addresses
# outright (every %(ENV_X)s replaced by cluster.env's value), so
# supervisorctl and a later `supervisord -c` work from any shell.
render() {
  local expr=() key value
  while IFS='=' read -r key value; do
    [ -n "$key" ] && expr+=(-e "s|%(ENV_${key})s|${value}|g")
  done < "$KUBE_HOME/cluster.env"
  sed "${expr[@]}" "$1" > "$2"
  if grep -q '%(ENV_' "$2"; then
    echo "unresolved variables in $2:" >&2; grep -o '%(ENV_[A-Z_]*)s' "$2" | sort -u >&2; exit 1
  fi
}

echo "== supervisord programs"
rm -f "$KUBE_PROGRAMS"/*.ini
for ini in "$repo"/supervisord/*.ini; do
  name=$(basename "$ini" .ini)
  if [ "$name" = etcd ] || [ -x "$KUBE_BIN/$name" ]; then
    render "$ini" "$KUBE_PROGRAMS/$name.ini"
    echo "  $name"
  fi
done
install -m 0644 "$repo/supervisord/audit-policy.yaml" "$KUBE_PROGRAMS/audit-policy.yaml"
render "$repo/supervisord/supervisord.conf" "$KUBE_HOME/supervisord.conf"
ctl=(supervisorctl -c "$KUBE_HOME/supervisord.conf")
# A running supervisord is restarted to pick up the new configuration and
# binaries (state stays in etcd's data directory).
if "${ctl[@]}" pid >/dev/null 2>&1; then
  "${ctl[@]}" shutdown >/dev/null
  for _ in $(seq 60); do "${ctl[@]}" pid >/dev/null 2>&1 || break; sleep 1; done
fi
supervisord -c "$KUBE_HOME/supervisord.conf"

echo "== waiting for etcd"
etcd_health() {
  ETCDCTL_API=3 etcdctl --endpoints="$KUBE_ETCD_SERVERS" --cacert="$KUBE_PKI/ca.pem" \
    --cert="$KUBE_PKI/etcd-client.pem" --key="$KUBE_PKI/etcd-client-key.pem" \
    --dial-timeout=2s endpoint health
}
for _ in $(seq 60); do etcd_health >/dev/null 2>&1 && break; sleep 1; done
etcd_health

if [ -f "$KUBE_PROGRAMS/kube-apiserver.ini" ]; then
  echo "== waiting for kube-apiserver"
  for _ in $(seq 60); do
    kubectl --kubeconfig "$KUBE_PKI/admin.kubeconfig" get --raw /readyz >/dev/null 2>&1 && break
    sleep 1
  done
  kubectl --kubeconfig "$KUBE_PKI/admin.kubeconfig" get --raw '/readyz?verbose' | tail -n 1
fi

"${ctl[@]}" status
cat <<MSG

The cluster is up. To use it:
  export PATH=$KUBE_BIN:\$PATH KUBECONFIG=$KUBE_PKI/admin.kubeconfig
  kubectl get namespaces
Programs: supervisorctl -c $KUBE_HOME/supervisord.conf status
Stop:     $repo/cluster/down.sh   (add --purge to delete data, logs and PKI)
MSG
