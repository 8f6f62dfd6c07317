#!/usr/bin/env bash
# Profiles the guard on one benchmark case and prints its top symbols (see bench/profile.py).
#
#   bench/profile.sh perf|callgrind|heaptrack [out-of-scope|in-scope|mutate]
#
# Uses GUARD_BIN when set, else builds the release preset like bench/run.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1:-}" in
  perf) bench_install_tools perf:linux-perf ;;
  callgrind) bench_install_tools valgrind:valgrind ;;
  heaptrack) bench_install_tools heaptrack:heaptrack ;;
  *) echo "usage: $0 perf|callgrind|heaptrack [out-of-scope|in-scope|mutate]" >&2; exit 2 ;;
esac
bench_prepare
bench_python_args
python3 "$bench_dir/profile.py" "$@" "${BENCH_PYTHON_ARGS[@]}"
