#!/usr/bin/env bash
# A real Kubernetes control plane on this machine, with no cluster and no container runtime:
# etcd, kube-apiserver and kube-controller-manager built from their modules
# (tests/cluster/build-tools.sh), their own CA and certificates made now, and the pod runner
# (tools/cmd/podrunner) playing the kubelet of one Node.
#
#   tests/cluster/control-plane.sh start DIR [BIN_DIR]   start one; DIR holds all its state
#   tests/cluster/control-plane.sh stop DIR              stop it (every process, pod, network)
#
# After `start`, DIR/env holds KUBECONFIG (an admin kubeconfig), LUG_CLUSTER_BIN (the bin
# directory, kubectl included) and the addresses below; DIR/logs/ has each component's log and
# DIR/runner/logs/ each container's output. Needs root (network and mount namespaces).
#
# The network: a bridge, $LUG_BRIDGE, carrying the first address of $LUG_POD_CIDR. The API
# server listens there (never on loopback only: webhook Services resolve to pod addresses, and
# the API server rejects 127.0.0.0/8 as an endpoint address) and each pod gets an address of
# its own in a network namespace behind a veth on that bridge. --enable-aggregator-routing
# makes the API server call a webhook Service's endpoints directly, as there is no kube-proxy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Our own addresses, inside this machine only. 10.213.0.0/24 is used for nothing else here;
# change both together if it ever clashes.
LUG_BRIDGE="${LUG_BRIDGE:-lugbr0}"
LUG_POD_CIDR="${LUG_POD_CIDR:-10.213.0.0/24}"
LUG_API_HOST="${LUG_POD_CIDR%.*/*}.1"
LUG_API_PORT="${LUG_API_PORT:-6443}"
# Cluster IPs are only names here (no kube-proxy), but Services still need a range.
SERVICE_CIDR="10.96.0.0/24"
KUBERNETES_SERVICE_IP="10.96.0.1"
ETCD_CLIENT_PORT="${LUG_ETCD_PORT:-23790}"
ETCD_PEER_PORT=$((ETCD_CLIENT_PORT + 10))
NODE_NAME="${LUG_NODE_NAME:-lug-node-1}"
# Long enough for a cold kube-apiserver on a loaded 2-core machine (its post-start hooks:
# RBAC bootstrap, priority classes) to report ready; it usually takes 5-15 s.
READY_TIMEOUT_SECONDS=180

usage() { sed -n '2,9p' "$0" >&2; exit 2; }
die() { echo "control-plane: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------- certificates
make_pki() {
  local pki="$1"
  mkdir -p "$pki"; cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=longhorn-uninstall-guard test cluster CA" 2>/dev/null
  # One key pair signs and verifies the ServiceAccount tokens (TokenRequest and legacy).
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  sign serving "/CN=kube-apiserver" \
    "subjectAltName=IP:$LUG_API_HOST,IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
  # system:masters: the test harness and the pod runner act as cluster admins.
  sign admin "/O=system:masters/CN=lug-admin" "extendedKeyUsage=clientAuth"
  sign controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  cd - >/dev/null
}

sign() {  # sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by ca.key
  local name="$1" subject="$2" ext="$3"
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

kubeconfig() {  # kubeconfig FILE CERT_NAME
  local pki="$STATE/pki"
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lug
  cluster:
    server: https://$LUG_API_HOST:$LUG_API_PORT
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: lug
  context: {cluster: lug, user: $2}
current-context: lug
EOF
}

# ---------------------------------------------------------------------------- network
network_up() {
  if ! ip link show "$LUG_BRIDGE" >/dev/null 2>&1; then
    ip link add "$LUG_BRIDGE" type bridge
  fi
  ip addr replace "$LUG_API_HOST/${LUG_POD_CIDR#*/}" dev "$LUG_BRIDGE"
  ip link set "$LUG_BRIDGE" up
}

network_down() {
  ip link del "$LUG_BRIDGE" 2>/dev/null || true
}

# ---------------------------------------------------------------------------- processes
start_bg() {  # start_bg NAME COMMAND...: in its own process group, output to logs/NAME.log
  local name="$1"; shift
  setsid "$@" > "$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pids/$name"
}

wait_for() {  # wait_for NAME WHAT SECONDS COMMAND...: until COMMAND succeeds, while NAME runs
  local name="$1" what="$2" seconds="$3"; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$STATE/pids/$name")" 2>/dev/null; then
      die "$name exited before $what; the end of $STATE/logs/$name.log:
$(grep -v '^I' "$STATE/logs/$name.log" | tail -5)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then die "$what not ready after ${seconds}s (see $STATE/logs/)"; fi
    sleep 0.3
  done
}

stop_pid() {  # stop_pid NAME GRACE_SECONDS: SIGTERM the process group, then SIGKILL
  local file="$STATE/pids/$1" grace="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "needs root: it makes network and mount namespaces"
  BIN="${BIN:-$("$here/build-tools.sh")}"
  for b in etcd kube-apiserver kube-controller-manager kubectl; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (tests/cluster/build-tools.sh builds it)"
  done
  [ -f "$STATE/pids/kube-apiserver" ] && die "$STATE already runs a control plane; stop it first"
  # Another control plane on the same ports would answer our health checks: refuse early.
  local port
  for port in "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      die "port $port is taken (another control plane?); set LUG_ETCD_PORT"
    fi
  done
  if ss -Hltn "src $LUG_API_HOST and sport = :$LUG_API_PORT" | grep -q .; then
    die "$LUG_API_HOST:$LUG_API_PORT is taken (another control plane?); set LUG_POD_CIDR and LUG_BRIDGE"
  fi
  # Only what a previous start made: DIR may hold the caller's files (the images file).
  rm -rf "$STATE"/{logs,pids,etcd,pki,runner}
  mkdir -p "$STATE"/{logs,pids,etcd}
  make_pki "$STATE/pki"
  kubeconfig "$STATE/admin.kubeconfig" admin
  kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
  network_up
  local pki="$STATE/pki"
  # The audit log records when each client's Settings requests reached the API server and
  # when their answers were complete: the uninstall rounds compare that with the moment
  # longhorn-manager checked the flag (uninstall_rounds.py). Settings only, metadata only,
  # so it stays small and cheap.
  cat > "$STATE/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: longhorn.io
        resources: [settings]
  - level: None
EOF

  # fsync off: etcd's data dies with the test, and fsync on a shared disk makes every write
  # (each pod status update) slow and noisy.
  start_bg etcd "$BIN/etcd" --name lug --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "lug=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for etcd etcd 60 curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

  # RBAC and Node authorization, the default admission plugins (they include both webhook
  # plugins, ServiceAccount, Priority and PodSecurity), a real token signer. The watch cache
  # stays on (the default): longhorn-manager v1.10's first LIST is served from it.
  start_bg kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address "$LUG_API_HOST" --advertise-address "$LUG_API_HOST" --secure-port "$LUG_API_PORT" \
    --tls-cert-file "$pki/serving.crt" --tls-private-key-file "$pki/serving.key" \
    --client-ca-file "$pki/ca.crt" \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --enable-aggregator-routing=true \
    --allow-privileged=true \
    --audit-policy-file "$STATE/audit-policy.yaml" --audit-log-path "$STATE/logs/audit.log" \
    --audit-log-format json --audit-log-mode blocking \
    --profiling=false \
    --v=1
  wait_for kube-apiserver kube-apiserver "$READY_TIMEOUT_SECONDS" \
    curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://$LUG_API_HOST:$LUG_API_PORT/readyz"

  # Only the controllers the tests need. Node lifecycle is off: the pod runner's Node needs no
  # health checks, and nothing must evict its pods. Each controller uses its own
  # ServiceAccount, so their RBAC is exercised as in a real cluster.
  start_bg kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --controllers job-controller,deployment-controller,replicaset-controller,endpoints-controller,endpointslice-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller,disruption-controller,pod-garbage-collector-controller \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 \
    --v=1

  export KUBECONFIG="$STATE/admin.kubeconfig"
  # The controllers are up once the ServiceAccount controller has made `default` and the
  # root CA publisher kube-root-ca.crt (every pod's token volume reads it).
  wait_for kube-controller-manager "the default ServiceAccount" "$READY_TIMEOUT_SECONDS" \
    "$BIN/kubectl" -n default get serviceaccount default
  wait_for kube-controller-manager "kube-root-ca.crt" "$READY_TIMEOUT_SECONDS" \
    "$BIN/kubectl" -n default get configmap kube-root-ca.crt

  if [ -x "$BIN/podrunner" ]; then
    mkdir -p "$STATE/runner"
    [ -f "$STATE/images.json" ] || echo '{"images":[]}' > "$STATE/images.json"
    start_bg podrunner "$BIN/podrunner" --kubeconfig "$KUBECONFIG" --node-name "$NODE_NAME" \
      --images "${LUG_IMAGES_FILE:-$STATE/images.json}" --state-dir "$STATE/runner" \
      --pod-bridge "$LUG_BRIDGE" --pod-cidr "$LUG_POD_CIDR" \
      --api-host "$LUG_API_HOST" --api-port "$LUG_API_PORT"
    wait_for podrunner "the pod runner's Node" 60 "$BIN/kubectl" get node "$NODE_NAME"
  fi

  cat > "$STATE/env" <<EOF
export KUBECONFIG='$STATE/admin.kubeconfig'
export LUG_CLUSTER_BIN='$BIN'
export LUG_CLUSTER_STATE='$STATE'
export LUG_API_HOST='$LUG_API_HOST'
export LUG_API_PORT='$LUG_API_PORT'
export LUG_NODE_NAME='$NODE_NAME'
export LUG_POD_CIDR='$LUG_POD_CIDR'
EOF
  echo "control-plane: up ($STATE/env)" >&2
}

stop() {
  [ -d "$STATE" ] || return 0
  # The runner first: it stops its pods and removes their network namespaces.
  stop_pid podrunner 40
  stop_pid kube-controller-manager 10
  stop_pid kube-apiserver 15
  stop_pid etcd 10
  # Whatever a killed runner left behind: the network namespaces of this runner's pods only
  # (named lugpod- and the first 11 hex digits of the pod's UID; other control planes' pods
  # may be running). The bridge is this control plane's own.
  local uid
  for uid in $(ls "$STATE/runner/pods" 2>/dev/null); do
    uid="${uid//-/}"
    ip netns del "lugpod-${uid:0:11}" 2>/dev/null || true
  done
  network_down
}

[ $# -ge 2 ] || usage
STATE="$(mkdir -p "$2" && cd "$2" && pwd)"
BIN="${3:-${LUG_CLUSTER_BIN:-}}"
case "$1" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
