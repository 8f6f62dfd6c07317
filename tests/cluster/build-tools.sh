#!/usr/bin/env bash
# Builds, or reuses, the test-only Go programs the cluster tests run, and prints the directory
# that holds them:
#   upstream: etcd, kube-apiserver, kube-controller-manager, kubectl, longhorn-manager, built
#             from their modules at the versions pinned in tests/cluster/tools/go.mod;
#   ours:     podrunner (plays the kubelet) and longhorn-settings (Longhorn's setting defaults).
#
#   tests/cluster/build-tools.sh            prints the bin directory
#   tests/cluster/build-tools.sh --versions prints the pinned versions as JSON
#
# Nothing built here goes in the repository. The binaries live under
# ${LUG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/longhorn-uninstall-guard}/cluster-tools/,
# one directory per content hash of what they are built from (go.mod, go.sum, the sources), so
# a second run, or a run of another checkout of the same versions, starts in well under a
# second, and a version bump never reuses stale binaries. Go's own build and module caches
# make a rebuild after a small change of our programs take seconds, not the cold build's
# minutes. Only modules are downloaded, by name, through the Go module proxy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/tools"
cache_root="${LUG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/longhorn-uninstall-guard}/cluster-tools"

module_version() {  # the version go.mod requires of a module
  awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod"
}

if [ "${1:-}" = "--versions" ]; then
  printf '{"kubernetes":"%s","etcd":"%s","longhorn_manager":"%s"}\n' \
    "$(module_version k8s.io/kubernetes)" "$(module_version go.etcd.io/etcd/server/v3)" \
    "$(module_version github.com/longhorn/longhorn-manager)"
  exit 0
fi

command -v go >/dev/null || { echo "build-tools: Go is needed (the go command is not on PATH)" >&2; exit 1; }

# Two keys: the upstream binaries change only with go.mod/go.sum/shims, our programs with their
# sources too; keeping them apart means editing the pod runner never rebuilds kube-apiserver.
hash_of() { (cd "$tools" && find "$@" -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
# The version stamps the upstream builds get (their Makefiles set them with -X; without them
# kube-apiserver reports v0.0.0-master, and Helm refuses a chart's kubeVersion against it).
kube_version="$(module_version k8s.io/kubernetes)"
longhorn_version="$(module_version github.com/longhorn/longhorn-manager)"
kube_minor="${kube_version#v1.}"; kube_minor="${kube_minor%%.*}"
upstream_ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version"
upstream_ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$kube_minor"
upstream_ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"
upstream_ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$kube_minor"
upstream_ldflags+=" -X github.com/longhorn/longhorn-manager/meta.Version=$longhorn_version"
upstream_key="$( (hash_of go.mod go.sum shims cmd/etcd; echo "$upstream_ldflags") | sha256sum | cut -c1-16)"
ours_key="$(hash_of go.mod go.sum cmd)"
upstream_dir="$cache_root/upstream-$upstream_key"
ours_dir="$cache_root/ours-$ours_key"
bin_dir="$cache_root/bin-$upstream_key-$ours_key"

upstream=(kube-apiserver kube-controller-manager kubectl longhorn-manager etcd)
ours=(podrunner longhorn-settings slowlist)

have_all() { local d="$1"; shift; for b in "$@"; do [ -x "$d/$b" ] || return 1; done; }

build_into() {  # build_into DIR LDFLAGS PACKAGE... : builds into a temporary directory, then renames
  local dir="$1" ldflags="$2"; shift 2
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  # CGO off: static binaries that need nothing from the host, as upstream ships them.
  # -trimpath keeps the cache's path out of the binaries, so the content hash is the key.
  (cd "$tools" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@")
  rm -rf "$dir"; mv "$tmp" "$dir"
}

mkdir -p "$cache_root"
if ! have_all "$upstream_dir" "${upstream[@]}"; then
  echo "build-tools: building etcd, kube-apiserver, kube-controller-manager, kubectl and longhorn-manager" \
       "($(module_version k8s.io/kubernetes), longhorn-manager $(module_version github.com/longhorn/longhorn-manager));" \
       "a cold build takes 15-25 minutes on 2 cores" >&2
  build_into "$upstream_dir" "$upstream_ldflags" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl github.com/longhorn/longhorn-manager ./cmd/etcd
fi
if ! have_all "$ours_dir" "${ours[@]}"; then
  echo "build-tools: building the pod runner and longhorn-settings" >&2
  build_into "$ours_dir" "" ./cmd/podrunner ./cmd/longhorn-settings ./cmd/slowlist
fi
if ! have_all "$bin_dir" "${upstream[@]}" "${ours[@]}"; then
  rm -rf "$bin_dir.tmp.$$"; mkdir -p "$bin_dir.tmp.$$"
  for b in "${upstream[@]}"; do ln -s "$upstream_dir/$b" "$bin_dir.tmp.$$/$b"; done
  for b in "${ours[@]}"; do ln -s "$ours_dir/$b" "$bin_dir.tmp.$$/$b"; done
  rm -rf "$bin_dir"; mv "$bin_dir.tmp.$$" "$bin_dir"
fi
# Old builds of our programs pile up while they are edited; keep the newest few.
ls -1dt "$cache_root"/ours-* 2>/dev/null | tail -n +4 | xargs -r rm -rf
ls -1dt "$cache_root"/bin-* 2>/dev/null | tail -n +4 | xargs -r rm -rf
echo "$bin_dir"
