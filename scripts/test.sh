#!/usr/bin/env bash
# Builds the project and runs the whole test suite: unit tests, the integration tests
# against the real binary over TLS, the Kubernetes API stand-in's own tests, and (dev build)
# the cluster tests on a real control plane built from the upstream Go modules.
#
#   scripts/test.sh            the dev preset (Debug)
#   scripts/test.sh asan       the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#
# Installs missing Debian packages first (see scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
preset="${1:-dev}"

scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset"
# The cluster tests' upstream components, built (cold: 15-25 minutes) or reused from the cache
# before CTest starts, so that no test timeout has to cover a compile.
if [ "$preset" = dev ]; then tests/cluster/build-tools.sh >/dev/null; fi
# Integration tests are mostly waiting (holds, timeouts); two at a time halves the wall time
# on a 2-core machine without starving the servers under test. Tests labelled `slow` (a
# whole second build of the project) are left out; .ci/run runs them once on their own.
ctest --preset "$preset" --parallel 2 --label-exclude slow
