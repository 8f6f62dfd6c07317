#!/usr/bin/env bash
# Builds the helm binary the chart tests use from its Go module, or reuses the one built
# before, and prints its path on stdout (progress goes to stderr).
#
#   tests/chart/helm/build.sh
#
# The version is the one go.mod beside this file requires (helm.sh/helm/v3, pinned with
# every dependency by go.sum); go.mod names helm's main package as a `tool`, so nothing is
# copied from helm's sources. The binary lives outside the repository, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/longhorn-uninstall-guard/helm-<version>/helm
# (LUG_HELM_CACHE overrides the parent folder), next to a stamp of go.mod, go.sum and the
# Go version it was built from: a change to any of them builds it again. A lock keeps
# parallel test runs from building it twice.
#
# The link flags are the ones helm's own Makefile sets: the version `helm version` prints,
# and the Kubernetes version `helm template` and `helm lint` assume without a cluster,
# taken (like the Makefile does) from the k8s.io/client-go helm is built with.
#
# Cold, on the 2-core machine shared with other builds: a few minutes (downloads and
# compiles about 400 modules); then instant.
set -euo pipefail
module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A cold build takes minutes here; an hour means it is stuck (or waiting on the lock
# for another build that is).
readonly BUILD_TIMEOUT_SECONDS=3600

version="$(awk '$1 == "helm.sh/helm/v3" { print $2 } $1 == "require" && $2 == "helm.sh/helm/v3" { print $3 }' "$module_dir/go.mod")"
client_go="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$module_dir/go.mod")"
if [ -z "$version" ] || [ -z "$client_go" ]; then
  echo "cannot read the helm.sh/helm/v3 or k8s.io/client-go version from $module_dir/go.mod" >&2
  exit 1
fi

cache_root="${LUG_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/longhorn-uninstall-guard}"
cache_dir="$cache_root/helm-$version"
binary="$cache_dir/helm"
mkdir -p "$cache_dir"

if ! command -v go >/dev/null 2>&1; then
  # A binary built earlier from the same go.mod and go.sum is still good without Go.
  if [ -x "$binary" ] && [ "$(sed -n 1p "$cache_dir/stamp" 2>/dev/null)" = \
    "$(cat "$module_dir/go.mod" "$module_dir/go.sum" | sha256sum | cut -d' ' -f1)" ]; then
    printf '%s\n' "$binary"
    exit 0
  fi
  echo "building helm $version needs Go (go.mod says which version); 'go' is not on PATH" >&2
  exit 1
fi

stamp="$(cat "$module_dir/go.mod" "$module_dir/go.sum" | sha256sum | cut -d' ' -f1)
$(go version)"

(
  flock -w "$BUILD_TIMEOUT_SECONDS" 9 || { echo "another build held $cache_dir.lock too long" >&2; exit 1; }
  if [ -x "$binary" ] && [ "$(cat "$cache_dir/stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
  fi
  echo "building helm $version (Kubernetes 1.$client_go client) into $cache_dir" >&2
  rm -f "$binary" "$cache_dir/stamp"
  # The Makefile's K8S_MODULES_MAJOR_VER is client-go's major plus one: v0.N is Kubernetes 1.N.
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for package in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $package.k8sVersionMajor=1 -X $package.k8sVersionMinor=$client_go"
  done
  cd "$module_dir"
  CGO_ENABLED=0 GOFLAGS=-mod=readonly timeout "$BUILD_TIMEOUT_SECONDS" \
    nice go build -trimpath -ldflags "$ldflags" -o "$binary.partial" helm.sh/helm/v3/cmd/helm
  mv "$binary.partial" "$binary"
  printf '%s\n' "$stamp" >"$cache_dir/stamp"
) 9>"$cache_dir.lock"

printf '%s\n' "$binary"
