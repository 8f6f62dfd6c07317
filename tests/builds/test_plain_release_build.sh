#!/usr/bin/env bash
# The build a new user tries first, with no preset:
#
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
#
# into a fresh build folder. It must configure with warnings as warnings (LUG_WARNINGS_AS_ERRORS
# off, no -Werror on any compile line), build everything a plain configure builds (library,
# binary, unit tests), and make a binary that reports the project's version. Release is -O3,
# where GCC 12 reports a -Wstringop-overflow false positive inside libstdc++: with warnings
# as errors by default this build stops there, and this test fails.
#
#   test_plain_release_build.sh SOURCE_DIR PROJECT_VERSION
#
# The command lines are the user's; only the environment is this machine's: two parallel
# jobs (CMAKE_BUILD_PARALLEL_LEVEL, the machine has two cores shared with other builds) and
# ccache as the compiler launcher when it is installed (CMAKE_CXX_COMPILER_LAUNCHER), so a
# second run takes minutes, not half an hour. For ccache to hit, every path on a compile line
# must be the same from run to run and checkout to checkout: the folder is always
# SOURCE_DIR/build/plain-release (emptied first, removed after; build/ is ignored by git),
# and CCACHE_BASEDIR makes the paths under SOURCE_DIR relative. LUG_KEEP_WORK=1 keeps it.
set -u
source_dir="${1:-}"
project_version="${2:-}"
if [ ! -f "$source_dir/CMakeLists.txt" ] || [ -z "$project_version" ]; then
  echo "usage: $0 SOURCE_DIR PROJECT_VERSION" >&2
  exit 2
fi
# The machine's core count: more jobs only make the other builds on it slower.
readonly BUILD_JOBS=2

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; shift; printf '       %s\n' "$@"; failed=$((failed + 1)); }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

source_dir="$(cd "$source_dir" && pwd)"
work="$source_dir/build/plain-release"
rm -rf "$work" && mkdir -p "$work" || { echo "cannot make $work" >&2; exit 2; }
if [ "${LUG_KEEP_WORK:-0}" = 1 ]; then
  echo "# keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
build="$work/build"

export CMAKE_BUILD_PARALLEL_LEVEL="$BUILD_JOBS"
# Never a generator or launcher the caller's environment chose for its own builds.
unset CMAKE_GENERATOR CMAKE_CXX_COMPILER_LAUNCHER
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
  # Every file uses the precompiled header; without this ccache refuses them all.
  export CCACHE_SLOPPINESS=pch_defines,time_macros
  export CCACHE_BASEDIR="$source_dir"
fi
echo "# plain Release build of $source_dir in $build (jobs: $BUILD_JOBS, launcher: ${CMAKE_CXX_COMPILER_LAUNCHER:-none})"

if nice cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1; then
  pass "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release configures"
else
  fail "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release configures" "$(tail -n 30 "$work/configure.log")"
  finish
fi

setting="$(sed -n 's/^LUG_WARNINGS_AS_ERRORS:BOOL=//p' "$build/CMakeCache.txt")"
if [ "$setting" = OFF ]; then
  pass "warnings are not errors by default (LUG_WARNINGS_AS_ERRORS=OFF)"
else
  fail "warnings are not errors by default" "CMakeCache.txt says LUG_WARNINGS_AS_ERRORS=${setting:-<unset>}"
fi

started=$SECONDS
if nice cmake --build "$build" >"$work/build.log" 2>&1; then
  pass "cmake --build builds it ($((SECONDS - started)) s)"
else
  fail "cmake --build builds it" "$(grep -m 5 -E 'error|Error' "$work/build.log")" "$(tail -n 20 "$work/build.log")"
  finish
fi

# The flags of every compile line, whatever the generator wrote them into.
werror="$(grep -rlE -- '-Werror([^=]|$)' "$build" --include=flags.make --include=build.ninja 2>/dev/null)"
if [ -z "$werror" ]; then
  pass "no compile line has -Werror"
else
  fail "no compile line has -Werror" "found in: $werror"
fi
# Shown, not fatal: the count is for the log, not a condition.
echo "# compiler warnings shown: $(grep -c 'warning:' "$work/build.log")"

binary="$build/webhook/longhorn-uninstall-guard"
reported="$("$binary" --version 2>&1)"
if [ "$reported" = "longhorn-uninstall-guard $project_version" ]; then
  pass "the binary runs and reports project(VERSION): $reported"
else
  fail "the binary runs and reports project(VERSION) $project_version" "got: $reported"
fi
finish
