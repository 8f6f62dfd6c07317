#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) and runs each for a bounded time; fails on the
# first crash, sanitizer report, broken invariant, leak or hang.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    SECONDS per target (default 30); all targets
#                                            unless some are named
#
# Installs clang and the sanitizer runtimes when missing (Debian bookworm: clang-14 and
# libclang-rt-14-dev, which holds libFuzzer), configures the `fuzz` preset into
# build/fuzz, seeds build/fuzz/corpus/<target> from the test fixtures (fuzz/seed_corpus.sh)
# and keeps whatever corpus earlier runs grew there. A crashing input is written to
# build/fuzz/artifacts/; replay it with `build/fuzz/fuzz/<target> <file>`.
#
# Environment: FUZZ_JOBS (default 1) runs that many fuzzing processes per target, for long
# runs on a bigger machine; FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_review fuzz_setting_read fuzz_http fuzz_text fuzz_kubeconfig)

# The largest input each target is given. Reviews: the largest fixture is 12.5 KiB; HTTP:
# two pipelined reviews with headers; a Setting answer and a kubeconfig are small; the
# text target parses flag values and URLs. Larger inputs only slow the search down.
declare -A max_len=([fuzz_review]=16384 [fuzz_setting_read]=4096 [fuzz_http]=32768 [fuzz_text]=256 [fuzz_kubeconfig]=8192)
declare -A dict=([fuzz_review]=json [fuzz_setting_read]=json [fuzz_http]=http [fuzz_text]= [fuzz_kubeconfig]=yaml)

scripts/install-deps.sh
need=()
command -v clang++ >/dev/null 2>&1 || need+=(clang)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cmake --preset fuzz
cmake --build --preset fuzz --target fuzzers

build=build/fuzz
mkdir -p "$build/artifacts"
fuzz/seed_corpus.sh "$build/corpus"

# Leaks are checked per input; a hang of 10 s on one input is a bug (every path answers
# in microseconds), as is using 2 GiB.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
jobs="${FUZZ_JOBS:-1}"

summary=()
status=0
for target in "${targets[@]}"; do
  [ -n "${max_len[$target]+set}" ] || { echo "unknown fuzz target: $target" >&2; exit 2; }
  args=(-max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-")
  [ -z "${dict[$target]}" ] || args+=(-dict="fuzz/dict/${dict[$target]}.dict")
  [ "$jobs" -le 1 ] || args+=(-jobs="$jobs" -workers="$jobs")
  # shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags
  args+=(${FUZZ_ARGS:-})
  log="$build/$target.log"
  echo "== $target: ${seconds}s, -max_len=${max_len[$target]}"
  start=$(date +%s)
  if "$build/fuzz/$target" "${args[@]}" "$build/corpus/$target" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 60 "$log" >&2
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  summary+=("$(printf '%-18s %-6s %9s runs %7s exec/s  %-10s %3ss' "$target" "$result" "${runs:-?}" "${rate:-?}" "${cov:-}" "$(($(date +%s) - start))")")
done

echo
echo "fuzz summary (${seconds}s per target; logs and crashes in $build):"
printf '  %s\n' "${summary[@]}"
exit "$status"
