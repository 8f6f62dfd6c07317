# Shared by bench/run.sh and bench/profile.sh: tools, the guard binary, a temp dir with a
# throw-away PKI. Sourced, never run. After bench_prepare [GUARD_BINARY]:
#   GUARD_BIN   the guard to measure (given, or built from the release preset)
#   BENCH_WORK  temp dir, removed on exit unless BENCH_KEEP_WORK=1
#   PKI_CA, PKI_SERVER_CERT, PKI_SERVER_KEY   from the integration tests' gen_test_pki

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench_dir/.." && pwd)"

# Debian bookworm packages: nginx is the reference server, nghttp2-client has h2load
# (run with --h1), util-linux has taskset; valgrind, linux-perf and heaptrack only for
# profiling.
bench_install_tools() {
  local missing=() tool
  for tool in nginx:nginx h2load:nghttp2-client openssl:openssl taskset:util-linux python3:python3 "$@"; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${BENCH_SKIP_INSTALL:-0}" = 1 ]; then
    echo "bench: missing packages (${missing[*]}) and BENCH_SKIP_INSTALL=1" >&2
    exit 2
  fi
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "# installing ${missing[*]} with apt-get" >&2
  # policy-rc.d in containers stops the package from starting a system nginx; either way
  # the benchmark runs its own nginx on a free port.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

bench_build_guard() {
  echo "# building the release preset in build/bench" >&2
  (cd "$root" && cmake --preset release -B build/bench >&2 && cmake --build build/bench -j2 >&2)
  GUARD_BIN="$root/build/bench/webhook/longhorn-uninstall-guard"
}

bench_cleanup() {
  if [ "${BENCH_KEEP_WORK:-0}" = 1 ]; then
    echo "# kept work dir $BENCH_WORK" >&2
  else
    rm -rf "$BENCH_WORK"
  fi
}

bench_prepare() {
  GUARD_BIN="${1:-${GUARD_BIN:-}}"
  if [ -z "$GUARD_BIN" ]; then
    bench_build_guard
  fi
  if [ ! -x "$GUARD_BIN" ]; then
    echo "bench: guard binary '$GUARD_BIN' is not executable" >&2
    exit 2
  fi
  GUARD_BIN="$(cd "$(dirname "$GUARD_BIN")" && pwd)/$(basename "$GUARD_BIN")"
  BENCH_WORK="$(mktemp -d "${TMPDIR:-/tmp}/lug-bench.XXXXXX")"
  trap bench_cleanup EXIT
  # The integration tests' PKI helper: a CA and a serverAuth leaf for 127.0.0.1 (RSA 2048
  # by default, what cert-manager issues). nginx, the stand-in and the guard all serve it.
  # shellcheck source=../tests/integration/lib.sh
  source "$root/tests/integration/lib.sh"
  gen_test_pki "$BENCH_WORK/pki" "${BENCH_KEY_TYPE:-rsa}" >&2
}

# The arguments bench.py and profile.py take after bench_prepare.
bench_python_args() {
  BENCH_PYTHON_ARGS=(--guard "$GUARD_BIN" --work "$BENCH_WORK" --root "$root"
    --ca "$PKI_CA" --cert "$PKI_SERVER_CERT" --key "$PKI_SERVER_KEY")
}
