#!/usr/bin/env bash
# The Helm chart on the real control plane (CTest cluster.chart_install): a control plane with
# Longhorn and no guard, then tests/chart/test_install.sh (server-side dry runs, `helm install`
# in existing-Secret mode, an uninstall round through the chart-installed guard, `helm
# uninstall` leaving nothing behind).
#
#   tests/cluster/test_chart_install.sh GUARD_BINARY [SUPERVISOR_BINARY]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
guard_binary="$1" supervisor_binary="${2:-}"
bin="$("$here/build-tools.sh")"
state="$(mktemp -d /tmp/lug-chart-cluster.XXXXXX)"
trap '"$here/control-plane.sh" stop "$state" "$bin" >/dev/null 2>&1 || true' EXIT
export LUG_CLUSTER_BIN="$bin" LUG_CLUSTER_STATE="$state"
(cd "$here" && python3 -c "
import pathlib, sys, cluster
supervisor = pathlib.Path(sys.argv[3]) if sys.argv[3] else None
cluster.write_images_file(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), supervisor)
" "$state/images.json" "$guard_binary" "$supervisor_binary")
LUG_IMAGES_FILE="$state/images.json" "$here/control-plane.sh" start "$state" "$bin"
# shellcheck disable=SC1091
source "$state/env"
(cd "$here" && python3 prepare.py --guard none --work "$state/work")
KUBECTL="$bin/kubectl" bash "$here/../chart/test_install.sh" "$KUBECONFIG" "$here/longhorn/uninstall-kubectl.yaml"
