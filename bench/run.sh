#!/usr/bin/env bash
# Benchmark of longhorn-uninstall-guard against the TLS + HTTP/1.1 ceiling (nginx answering
# a fixed AdmissionReview), measured in the same run on the same machine. Prints the
# results tables; it is not a test and never fails on a missed goal. See bench/README.md.
#
#   bench/run.sh                 # installs tools if missing, builds the release preset, runs
#   bench/run.sh path/to/guard   # benchmarks that binary instead of building one
#
# Everything it starts listens on 127.0.0.1 with a free port and is stopped on exit.
# Durations and sizes come from BENCH_* variables, listed in bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bench_install_tools
bench_prepare "${1:-}"
bench_python_args
python3 "$bench_dir/bench.py" "${BENCH_PYTHON_ARGS[@]}"
