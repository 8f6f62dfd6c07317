#!/usr/bin/env bash
# Installs the Debian bookworm packages this project builds, tests and demos with.
# Idempotent: packages already present are skipped, so the README commands and CI can
# call it every time at the cost of one dpkg query.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ ccache pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libspdlog-dev libcxxopts-dev libyaml-cpp-dev
  # tests
  doctest-dev curl jq openssl python3 procps
)

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
