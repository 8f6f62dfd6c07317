#!/usr/bin/env bash
# Installs the Debian bookworm packages this project builds, tests and demos with.
# Idempotent: packages already present are skipped, so the README commands and CI can
# call it every time at the cost of one dpkg query.
#
#   scripts/install-deps.sh          everything: build, tests and demos
#   scripts/install-deps.sh build    only what compiles the webhook (the Dockerfile's build stage)
set -euo pipefail

build_packages=(
  cmake ninja-build g++ ccache pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libspdlog-dev libcxxopts-dev libyaml-cpp-dev libsimdjson-dev
  # we link only its core library (libprometheus-cpp-core1.0 at run time); the -dev package
  # also brings civetweb, curl and zlib headers because its CMake config asks for them
  prometheus-cpp-dev
)
test_packages=(
  doctest-dev curl jq openssl python3 procps
  # the cluster tests: network namespaces, veths and a bridge (ip), port checks (ss)
  iproute2
)
# The manifest tests run node and npm (tests/manifests/tools.sh). The machine may have them
# from outside Debian (NodeSource's nodejs bundles npm, and Debian's npm conflicts with
# it), so the commands decide here, not dpkg.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  test_packages+=(nodejs npm)
fi

case "${1:-all}" in
  all) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  build) packages=("${build_packages[@]}") ;;
  *) echo "usage: $0 [all|build]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
