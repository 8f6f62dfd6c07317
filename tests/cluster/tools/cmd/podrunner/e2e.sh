#!/usr/bin/env bash
# End-to-end check of the pod runner on a real control plane:
#
#   tests/cluster/tools/cmd/podrunner/e2e.sh [UPSTREAM_BIN_DIR]
#
# UPSTREAM_BIN_DIR holds etcd, kube-apiserver, kube-controller-manager and kubectl (default:
# what tests/cluster/build-tools.sh prints). Builds the runner and the e2e test binary (which
# doubles as a server image), writes an images file mapping lug-e2e/shell to /bin/sh and
# lug-e2e/server to the test binary, starts tests/cluster/control-plane.sh with them, runs the
# e2e tests (e2e_test.go) and stops the control plane. Needs root. Extra `go test` flags can
# be passed in E2E_FLAGS (e.g. E2E_FLAGS='-test.run Shell'); E2E_RACE=1, see below.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(cd "$here/../.." && pwd)"
cluster="$(cd "$tools/.." && pwd)"
control_plane="${LUG_CONTROL_PLANE:-$cluster/control-plane.sh}"
[ -x "$control_plane" ] || { echo "e2e: $control_plane not found" >&2; exit 1; }
upstream="${1:-$("$cluster/build-tools.sh")}"

# Addresses and ports of its own, so that it can run beside other control planes (a cluster
# test's uses lugbr0, 10.213.0.0/24, 6443 and 23790 by default, others count up from there).
export LUG_BRIDGE="${LUG_BRIDGE:-lugbr199}" LUG_POD_CIDR="${LUG_POD_CIDR:-10.213.199.0/24}"
export LUG_API_PORT="${LUG_API_PORT:-6499}" LUG_ETCD_PORT="${LUG_ETCD_PORT:-24990}"
export LUG_NODE_NAME="${LUG_NODE_NAME:-lug-e2e-node}"
# A port already taken would be fatal in a quiet way: the control plane's health check would
# pass against someone else's etcd, and two API servers would share one store.
for port in "$LUG_API_PORT" "$LUG_ETCD_PORT" "$((LUG_ETCD_PORT + 10))"; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    echo "e2e: port $port is in use; set LUG_API_PORT / LUG_ETCD_PORT to free ones" >&2; exit 1
  fi
done
if ip link show "$LUG_BRIDGE" >/dev/null 2>&1; then
  echo "e2e: bridge $LUG_BRIDGE exists (another control plane?); set LUG_BRIDGE and LUG_POD_CIDR" >&2; exit 1
fi

work="$(mktemp -d /tmp/podrunner-e2e.XXXXXX)"
bin="$work/bin"
mkdir -p "$bin"
for b in etcd kube-apiserver kube-controller-manager kubectl; do
  [ -x "$upstream/$b" ] || { echo "e2e: $upstream/$b missing" >&2; exit 1; }
  ln -s "$upstream/$b" "$bin/$b"
done
# E2E_RACE=1 builds the runner with the race detector (cgo, and a slower first build) and
# fails the run if it reports a race.
if [ "${E2E_RACE:-0}" = 1 ]; then
  (cd "$tools" && CGO_ENABLED=1 go build -race -o "$bin/podrunner" ./cmd/podrunner)
else
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -o "$bin/podrunner" ./cmd/podrunner)
fi
(cd "$tools" && CGO_ENABLED=0 go test -c -tags e2e -trimpath -o "$bin/podrunner-e2e.test" ./cmd/podrunner)

cat > "$work/images.json" <<EOF
{"images":[
  {"repository":"lug-e2e/shell","files":{"/bin/sh":"$(readlink -f /bin/sh)"},
   "env":{"PATH":"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
  {"repository":"lug-e2e/server","files":{"/usr/local/bin/e2e-server":"$bin/podrunner-e2e.test"},
   "entrypoint":["/usr/local/bin/e2e-server"]}
]}
EOF

# The binaries go (about 200 MB); the logs stay for a look after a failure.
stop() { [ -d "$bin" ] || return 0; "$control_plane" stop "$work/cp" || true; rm -rf "$bin"; }
trap stop EXIT
LUG_IMAGES_FILE="$work/images.json" "$control_plane" start "$work/cp" "$bin"
# shellcheck disable=SC1091
. "$work/cp/env"
status=0
"$bin/podrunner-e2e.test" -test.v -test.count=1 ${E2E_FLAGS:-} || status=$?
stop
if grep -q "WARNING: DATA RACE" "$work/cp/logs/podrunner.log"; then
  echo "e2e: the race detector reported races in the runner (see its log)" >&2
  status=1
fi
echo "e2e: runner log $work/cp/logs/podrunner.log, container logs $work/cp/runner/logs/" >&2
exit "$status"
