#!/usr/bin/env bash
# Builds the project and runs the whole test suite: unit tests, the integration tests
# against the real binary over TLS, and the Kubernetes API stand-in's own tests.
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
# Integration tests are mostly waiting (holds, timeouts); two at a time halves the wall time
# on a 2-core machine without starving the servers under test. Tests labelled `slow` (a
# whole second build of the project) are left out; .ci/run runs them once on their own.
ctest --preset "$preset" --parallel 2 --label-exclude slow
