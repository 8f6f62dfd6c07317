#!/usr/bin/env bash
# Longhorn's uninstall on a real control plane, N rounds, with or without the guard:
# etcd, kube-apiserver, kube-controller-manager and longhorn-manager built from their modules
# at pinned versions (tests/cluster/build-tools.sh; cached, a cold build takes 15-25 minutes),
# the pod runner in the kubelet's role, the guard deployed from manifests/ as shipped.
#
#   scripts/cluster-test.sh [--runs N] [--guard off|on] [--job kubectl|helm|both]
#                           [--flag-early S] [--results FILE] [--keep DIR]
#
#   --runs N          rounds (default 10)
#   --guard off|on    webhook configurations removed, or as shipped (default on)
#   --job SHAPE       the Job as uninstall.yaml makes it, as the Helm chart's hook does, or
#                     alternating (default both)
#   --flag-early S    set the flag once, S seconds before the first round, and keep it true
#                     (default: each round sets it false, then true, then creates the Job)
#   --slow-settings-list P
#                     make the race likelier: the uninstall container reaches the API server
#                     through a proxy that delays its Settings LIST (only that) with
#                     probability P (tests/cluster/tools/cmd/slowlist)
#   --results FILE    append every round as a JSON line
#   --keep DIR        keep the control plane running in DIR afterwards (stop it with
#                     tests/cluster/control-plane.sh stop DIR)
#   --guard-binary P, --supervisor-binary P
#                     run these instead of building the dev preset's
#   --expect-no-failed-pods
#                     exit 1 if any uninstall pod ended Failed or any Job did not complete
#
# Prints a table row per round and, as its last line, one JSON object with the versions,
# the Jobs that succeeded, the pods that ended Failed and the Jobs' durations.
# Needs root (network and mount namespaces) and Go (the go command) for the upstream builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

runs=10 guard=on job=both flag_early=0 slow=0 results="" keep="" guard_binary="" supervisor_binary="" expect=""
while [ $# -gt 0 ]; do
  # --flag=value is --flag value
  if [[ "$1" == --*=* ]]; then set -- "${1%%=*}" "${1#*=}" "${@:2}"; fi
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --guard) guard="$2"; shift 2 ;;
    --job) job="$2"; shift 2 ;;
    --flag-early) flag_early="$2"; shift 2 ;;
    --slow-settings-list) slow="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --guard-binary) guard_binary="$2"; shift 2 ;;
    --supervisor-binary) supervisor_binary="$2"; shift 2 ;;
    --expect-no-failed-pods) expect="--expect-no-failed-pods"; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "cluster-test: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$guard" in on|off) ;; *) echo "cluster-test: --guard takes on or off" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "cluster-test: needs root (network and mount namespaces)" >&2; exit 1; }

if [ -z "$guard_binary" ]; then
  scripts/install-deps.sh
  # The guard binary (and the static supervisor) from the dev build, as the test suite uses.
  cmake --preset dev >/dev/null
  targets=(--target longhorn-uninstall-guard)
  if grep -qs 'longhorn-uninstall-supervisor' webhook/*/CMakeLists.txt webhook/CMakeLists.txt; then
    targets+=(--target longhorn-uninstall-supervisor)
  fi
  cmake --build --preset dev "${targets[@]}"
  guard_binary="$repo/build/dev/webhook/longhorn-uninstall-guard"
  supervisor_binary="$(find "$repo/build/dev" -name longhorn-uninstall-supervisor -type f -perm -u+x | head -1)"
fi

bin="$(tests/cluster/build-tools.sh)"
versions="$(tests/cluster/build-tools.sh --versions)"
state="${keep:-$(mktemp -d /tmp/lug-cluster.XXXXXX)}"
work="$state/work"
mkdir -p "$work"
if [ -z "$keep" ]; then
  trap '"$repo/tests/cluster/control-plane.sh" stop "$state" "$bin" || true' EXIT
fi

export LUG_CLUSTER_BIN="$bin" LUG_CLUSTER_STATE="$state"
python3 - "$state/images.json" "$guard_binary" "${supervisor_binary:-}" <<'PY'
import pathlib, sys
sys.path.insert(0, "tests/cluster")
import cluster
supervisor = pathlib.Path(sys.argv[3]) if sys.argv[3] else None
cluster.write_images_file(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), supervisor)
PY
LUG_IMAGES_FILE="$state/images.json" tests/cluster/control-plane.sh start "$state" "$bin"
# shellcheck disable=SC1091
source "$state/env"

cd tests/cluster
python3 prepare.py --guard "$guard" --work "$work"
python3 uninstall_rounds.py --runs "$runs" --guard "$guard" --job "$job" --flag-early "$flag_early" --slow-settings-list "$slow" \
  --versions "$versions" ${results:+--results "$results"} $expect
