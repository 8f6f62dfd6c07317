# Shared helpers for the integration tests. Sourced, never run.
#
# A test script looks like this:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   setup_test "$@"                 # binary from $1 or $GUARD_BIN, temp dir, cleanup trap
#   gen_test_pki "$LUG_WORK/pki"    # test CA, server and client certificates
#   start_guard                     # serve on a free port; sets GUARD_URL, GUARD_PID, GUARD_LOG
#   post_review /validate other-pod.json
#   assert_eq "other pod is answered" 200 "$HTTP_STATUS"
#   assert_json .response.allowed true "$RESPONSE_BODY"
#   finish                          # prints "N passed, M failed", exits 1 if M > 0
#
# Contract of these helpers:
# - Nothing here depends on a fixed port: the guard listens on 127.0.0.1:0 and the port is
#   read back from its "listening" log line.
# - Everything is bounded in time: curl gets --max-time, waits poll with a deadline, and
#   every process started through these helpers is killed by the EXIT trap.
# - A failing check never aborts the script: it is counted, and finish reports it. Scripts
#   run with `set -u` only, never `set -e`.
# - The temp dir is removed on exit unless LUG_KEEP_WORK=1 (then its path is printed).
#
# Tools needed: bash, curl, jq, openssl, python3 (stdlib only), timeout (coreutils).

LUG_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LUG_ROOT="$(cd "$LUG_LIB_DIR/../.." && pwd)"
LUG_FIXTURES="$LUG_ROOT/tests/fixtures"

LUG_PASSED=0
LUG_FAILED=0
LUG_PIDS=()
LUG_GUARD_LOGS=()
LUG_WORK=""

# start_guard waits for the "listening" line at most this long: start-up is loading two PEM
# files and binding a socket, so 10 s only runs out when something is wrong.
LUG_START_TIMEOUT="${LUG_START_TIMEOUT:-10}"
# Default curl --max-time for one request. The guard answers out-of-scope reviews at once;
# in-scope ones may be held up to --max-hold, so tests that post those pass their own.
LUG_CURL_TIMEOUT="${LUG_CURL_TIMEOUT:-15}"
# stop_guard waits this long for the process to exit: above the default --shutdown-grace
# of 20 s, so a server that honours its grace period is never killed by the harness.
LUG_STOP_TIMEOUT="${LUG_STOP_TIMEOUT:-25}"

# setup_test [BINARY]
# Resolves the guard binary (first argument, else $GUARD_BIN), exports GUARD_BIN, checks
# the tools above are installed, creates the temp dir $LUG_WORK and installs the EXIT trap
# that kills every registered process and removes the dir. Exits 2 when the binary or a
# tool is missing, so a broken environment is not mistaken for a passing run.
setup_test() {
  set -u
  GUARD_BIN="${1:-${GUARD_BIN:-}}"
  if [ -z "$GUARD_BIN" ] || [ ! -x "$GUARD_BIN" ]; then
    echo "usage: $0 PATH_TO_longhorn-uninstall-guard (or set GUARD_BIN); got '${GUARD_BIN}'" >&2
    exit 2
  fi
  GUARD_BIN="$(cd "$(dirname "$GUARD_BIN")" && pwd)/$(basename "$GUARD_BIN")"
  export GUARD_BIN
  local tool
  for tool in curl jq openssl python3 timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$0: required tool '$tool' is not installed (scripts/install-deps.sh installs it)" >&2
      exit 2
    fi
  done
  LUG_WORK="$(mktemp -d "${TMPDIR:-/tmp}/lug-it.XXXXXX")"
  export LUG_WORK
  RESPONSE_BODY="$LUG_WORK/response.body"
  RESPONSE_HEADERS="$LUG_WORK/response.headers"
  RESPONSE_ERR="$LUG_WORK/response.err"
  trap lug_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "# $(basename "$0"): binary $GUARD_BIN, work dir $LUG_WORK"
}

# lug_cleanup
# The EXIT trap: sends SIGTERM to every process in LUG_PIDS still alive (`timeout`, which
# guard_py runs under, passes it on to python), gives them 2 s, SIGKILLs what is left,
# then removes $LUG_WORK. Tests stop the guard themselves when they care how it exits.
lug_cleanup() {
  local pid alive=()
  for pid in "${LUG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      alive+=("$pid")
    fi
  done
  for pid in "${alive[@]}"; do
    wait_pid_exit "$pid" 2 || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  done
  if [ -n "$LUG_WORK" ] && [ -d "$LUG_WORK" ]; then
    if [ "${LUG_KEEP_WORK:-0}" = 1 ]; then
      echo "# kept work dir $LUG_WORK"
    else
      rm -rf "$LUG_WORK"
    fi
  fi
}

# register_pid PID
# Adds a background process started by a test to the list the EXIT trap kills.
register_pid() {
  LUG_PIDS+=("$1")
}

# free_port
# Prints a TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released).
# Used only for addresses the guard is told about but must never contact.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# gen_test_pki DIR [rsa|ec]
# Creates with the openssl CLI, in DIR (keys mode 0600, certificates valid 7 days):
#   ca.crt/ca.key                 test CA
#   server.crt/server.key         serverAuth leaf for DNS:localhost and IP:127.0.0.1, signed by ca
#   client-ca.crt/client-ca.key   CA for client certificates (for --client-ca)
#   client.crt/client.key         clientAuth leaf signed by client-ca
#   other-ca.crt/other-ca.key     an unrelated CA
#   other.crt/other.key           a leaf for localhost/127.0.0.1 with both EKUs, signed by other-ca
# Key type: RSA 2048 (default, what cert-manager issues by default) or EC P-256 (what
# kube-webhook-certgen issues). Exports PKI_DIR, PKI_CA, PKI_SERVER_CERT, PKI_SERVER_KEY,
# PKI_CLIENT_CA, PKI_CLIENT_CERT, PKI_CLIENT_KEY, PKI_OTHER_CA, PKI_OTHER_CERT, PKI_OTHER_KEY.
# Returns non-zero (after printing openssl's output) when any step fails.
gen_test_pki() {
  local dir="$1" key_type="${2:-rsa}"
  mkdir -p "$dir" || return 1
  cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[both_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  local out="$dir/openssl.out"
  : >"$out"
  lug_pki_key() {
    if [ "$key_type" = ec ]; then
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" >>"$out" 2>&1
    else
      openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" >>"$out" 2>&1
    fi && chmod 600 "$1"
  }
  lug_pki_ca() {  # NAME CN
    lug_pki_key "$dir/$1.key" &&
      openssl req -new -x509 -config "$dir/openssl.cnf" -extensions ca_ext -key "$dir/$1.key" \
        -subj "/O=longhorn-uninstall-guard tests/CN=$2" -days 7 -out "$dir/$1.crt" >>"$out" 2>&1
  }
  lug_pki_leaf() {  # NAME CN CA EXTENSIONS
    lug_pki_key "$dir/$1.key" &&
      openssl req -new -config "$dir/openssl.cnf" -key "$dir/$1.key" \
        -subj "/O=longhorn-uninstall-guard tests/CN=$2" -out "$dir/$1.csr" >>"$out" 2>&1 &&
      openssl x509 -req -in "$dir/$1.csr" -CA "$dir/$3.crt" -CAkey "$dir/$3.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days 7 \
        -extfile "$dir/openssl.cnf" -extensions "$4" -out "$dir/$1.crt" >>"$out" 2>&1
  }
  if ! { lug_pki_ca ca "lug test CA" &&
    lug_pki_leaf server localhost ca server_ext &&
    lug_pki_ca client-ca "lug test client CA" &&
    lug_pki_leaf client "system:apiserver" client-ca client_ext &&
    lug_pki_ca other-ca "lug unrelated CA" &&
    lug_pki_leaf other localhost other-ca both_ext; }; then
    echo "gen_test_pki: openssl failed:" >&2
    cat "$out" >&2
    return 1
  fi
  rm -f "$dir"/*.csr
  export PKI_DIR="$dir"
  export PKI_CA="$dir/ca.crt" PKI_SERVER_CERT="$dir/server.crt" PKI_SERVER_KEY="$dir/server.key"
  export PKI_CLIENT_CA="$dir/client-ca.crt" PKI_CLIENT_CERT="$dir/client.crt" PKI_CLIENT_KEY="$dir/client.key"
  export PKI_OTHER_CA="$dir/other-ca.crt" PKI_OTHER_CERT="$dir/other.crt" PKI_OTHER_KEY="$dir/other.key"
}

# guard_serve_args
# Fills the array GUARD_SERVE_ARGS with the arguments start_guard uses before any extra
# ones: `serve --listen 127.0.0.1:0 --tls-cert .. --tls-key .. --log-format json` plus the
# Kubernetes API flags. The API defaults to an address nothing listens on (out-of-scope
# pods never contact it); set GUARD_KUBE_API / GUARD_KUBE_CA / GUARD_KUBE_TOKEN_FILE to
# point the guard at a fake API server instead. Needs gen_test_pki first.
guard_serve_args() {
  local token_file="${GUARD_KUBE_TOKEN_FILE:-$LUG_WORK/kube-token}"
  if [ ! -e "$token_file" ]; then
    (umask 077 && printf 'integration-test-token' >"$token_file")
  fi
  GUARD_SERVE_ARGS=(serve
    --listen 127.0.0.1:0 --health-probe-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
    --tls-cert "$PKI_SERVER_CERT" --tls-key "$PKI_SERVER_KEY"
    --log-format json
    --kube-api "${GUARD_KUBE_API:-https://127.0.0.1:$(free_port)}"
    --kube-ca-file "${GUARD_KUBE_CA:-$PKI_CA}"
    --kube-token-file "$token_file")
}

# start_guard [EXTRA_ARGS...]
# Starts "$GUARD_BIN" (through $GUARD_WRAPPER when set) with guard_serve_args plus EXTRA_ARGS in the background, stderr to a
# fresh log file, and waits (at most $LUG_START_TIMEOUT s) for the JSON log line
# {"msg":"listening","address":"127.0.0.1:PORT"}. On success exports GUARD_PID, GUARD_PORT,
# GUARD_ADDRESS, GUARD_URL (https://127.0.0.1:PORT, the webhook), GUARD_PROBE_PORT and
# GUARD_PROBE_URL (http://127.0.0.1:PORT, /healthz and /readyz), GUARD_METRICS_PORT and
# GUARD_METRICS_URL (/metrics; both empty when that listener is disabled), GUARD_LOG
# (stderr), GUARD_STDOUT and returns 0. On failure (exited early, or no listening line in time) counts a failure,
# prints the log, kills the process and returns 1. Call it directly, not in $(...): the
# guard must be a child of the test shell for stop_guard to read its exit code.
start_guard() {
  guard_serve_args
  local n=$((${#LUG_GUARD_LOGS[@]} + 1))
  GUARD_LOG="$LUG_WORK/guard.$n.log"
  GUARD_STDOUT="$LUG_WORK/guard.$n.stdout"
  LUG_GUARD_LOGS+=("$GUARD_LOG")
  # GUARD_WRAPPER: a command that execs the guard (e.g. "taskset -c 0"), so $! stays its pid.
  local wrapper=()
  [ -n "${GUARD_WRAPPER:-}" ] && read -r -a wrapper <<<"$GUARD_WRAPPER"
  "${wrapper[@]}" "$GUARD_BIN" "${GUARD_SERVE_ARGS[@]}" "$@" >"$GUARD_STDOUT" 2>"$GUARD_LOG" </dev/null &
  GUARD_PID=$!
  register_pid "$GUARD_PID"
  local deadline=$((SECONDS + LUG_START_TIMEOUT)) address=""
  while [ $SECONDS -le $deadline ]; do
    address="$(jq -R -r 'fromjson? | select(type == "object" and .msg == "listening") | .address' \
      "$GUARD_LOG" 2>/dev/null | head -n 1)"
    [ -n "$address" ] && break
    if ! kill -0 "$GUARD_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if [ -z "$address" ]; then
    local why="no \"listening\" log line within ${LUG_START_TIMEOUT}s"
    if ! kill -0 "$GUARD_PID" 2>/dev/null; then
      wait "$GUARD_PID" 2>/dev/null
      why="exited with code $? before listening"
    fi
    fail "start_guard $*: $why" "command: $GUARD_BIN ${GUARD_SERVE_ARGS[*]} $*" \
      "stderr: $(head -c 2000 "$GUARD_LOG")"
    kill -KILL "$GUARD_PID" 2>/dev/null
    wait "$GUARD_PID" 2>/dev/null
    return 1
  fi
  GUARD_ADDRESS="$address"
  GUARD_PORT="${address##*:}"
  GUARD_URL="https://127.0.0.1:$GUARD_PORT"
  # The other two listeners, from the same line; empty when disabled.
  local listening
  listening="$(jq -R -c 'fromjson? | select(type == "object" and .msg == "listening")' "$GUARD_LOG" | head -n 1)"
  GUARD_PROBE_PORT="$(jq -r '.health_probe_address // "" | split(":") | last // ""' <<<"$listening")"
  GUARD_METRICS_PORT="$(jq -r '.metrics_address // "" | split(":") | last // ""' <<<"$listening")"
  local metrics_scheme=http
  [ "$(jq -r '.metrics_tls' <<<"$listening")" = true ] && metrics_scheme=https
  GUARD_PROBE_URL="${GUARD_PROBE_PORT:+http://127.0.0.1:$GUARD_PROBE_PORT}"
  GUARD_METRICS_URL="${GUARD_METRICS_PORT:+$metrics_scheme://127.0.0.1:$GUARD_METRICS_PORT}"
  export GUARD_PID GUARD_PORT GUARD_ADDRESS GUARD_URL GUARD_LOG GUARD_STDOUT
  export GUARD_PROBE_PORT GUARD_PROBE_URL GUARD_METRICS_PORT GUARD_METRICS_URL
  return 0
}

# stop_guard [SIGNAL] [TIMEOUT_SECONDS]
# Sends SIGNAL (default TERM) to $GUARD_PID and waits at most TIMEOUT (default
# $LUG_STOP_TIMEOUT) for it to exit. Sets GUARD_EXIT to its exit code (128+n for a signal)
# and GUARD_STOP_SECONDS to the time it took (fractional), and returns GUARD_EXIT. When it
# does not exit in time it is SIGKILLed, GUARD_EXIT is "timeout" and the return is 124.
stop_guard() {
  local signal="${1:-TERM}" timeout="${2:-$LUG_STOP_TIMEOUT}"
  local start
  start="$(now_us)"
  kill -"$signal" "$GUARD_PID" 2>/dev/null
  wait_pid_exit "$GUARD_PID" "$timeout"
  local rc=$?
  GUARD_STOP_SECONDS="$(elapsed_since "$start")"
  if [ "$rc" = 124 ] && kill -0 "$GUARD_PID" 2>/dev/null; then
    kill -KILL "$GUARD_PID" 2>/dev/null
    wait "$GUARD_PID" 2>/dev/null
    GUARD_EXIT=timeout
    return 124
  fi
  GUARD_EXIT=$rc
  return "$rc"
}

# wait_for_file FILE TIMEOUT_SECONDS: polls until FILE exists; returns 1 on timeout.
wait_for_file() {
  local deadline=$((SECONDS + $2))
  while [ ! -e "$1" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.05
  done
}

# kubelet_publish DIR NAME=FILE...
# The kubelet's atomic update of a Secret, ConfigMap or projected volume mounted at DIR
# (NAME -> ..data/NAME, ..data -> a hidden timestamped directory): copies each FILE to NAME
# in a new hidden directory, re-points ..data at it with one rename(2) and removes the
# previous directory, so a reader sees the old files or the new ones, never a mix. The first
# publish makes DIR and the NAME links. FILE may be <(printf ...) for content in hand.
kubelet_publish() {
  local dir="$1" previous="" generation=1 pair
  shift
  mkdir -p "$dir" || return 1
  if [ -L "$dir/..data" ]; then
    previous="$(readlink "$dir/..data")"
    generation=$((${previous##*.} + 1))
  fi
  local next="..2026_01_01_00_00_00.$generation"
  mkdir "$dir/$next" || return 1
  for pair in "$@"; do
    cp "${pair#*=}" "$dir/$next/${pair%%=*}" || return 1
  done
  ln -s "$next" "$dir/..data_tmp" && mv -T "$dir/..data_tmp" "$dir/..data" || return 1
  if [ -n "$previous" ]; then
    rm -rf "${dir:?}/$previous"
  else
    for pair in "$@"; do
      ln -s "..data/${pair%%=*}" "$dir/${pair%%=*}"
    done
  fi
}

# now_us
# Prints the wall clock in microseconds (bash's EPOCHREALTIME, no subprocess).
now_us() {
  printf '%s\n' "${EPOCHREALTIME/./}"
}

# wait_pid_exit PID TIMEOUT_SECONDS
# Waits for a child process of this shell to exit, polling every 50 ms for at most
# TIMEOUT seconds (may be fractional). Returns its exit code, or 124 if it is still running.
wait_pid_exit() {
  local pid="$1" timeout="$2"
  local deadline=$(($(now_us) + $(seconds_to_us "$timeout")))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(now_us)" -gt "$deadline" ] && return 124
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
}

# seconds_to_us SECONDS
# Prints SECONDS (integer or decimal such as 2.5) in microseconds.
seconds_to_us() {
  local whole="${1%%.*}" fraction=""
  [[ "$1" == *.* ]] && fraction="${1#*.}"
  fraction="${fraction}000000"
  printf '%s\n' $((10#${whole:-0} * 1000000 + 10#${fraction:0:6}))
}

# elapsed_since START_US
# Prints the seconds (3 decimals) since START_US, a value of now_us.
elapsed_since() {
  local us=$(($(now_us) - $1))
  printf '%d.%03d\n' $((us / 1000000)) $((us % 1000000 / 1000))
}

# guard_request METHOD PATH [CURL_ARGS...]
# One HTTPS request to $GUARD_URL$PATH with curl (server verified with $PKI_CA, --max-time
# $LUG_CURL_TIMEOUT unless CURL_ARGS carry their own). Sets HTTP_STATUS (curl's
# %{http_code}; 000 when no HTTP answer came), CURL_EXIT, and writes the body to
# $RESPONSE_BODY, the headers to $RESPONSE_HEADERS and curl's stderr to $RESPONSE_ERR.
# Always returns 0: look at the variables.
guard_request() {
  request_at "$GUARD_URL" "$@"
}

# probe_request METHOD PATH [CURL_ARGS...]: guard_request on the health-probe listener
# (plain HTTP: /healthz, /readyz).
probe_request() {
  request_at "$GUARD_PROBE_URL" "$@"
}

# metrics_request METHOD PATH [CURL_ARGS...]: guard_request on the metrics listener.
metrics_request() {
  request_at "$GUARD_METRICS_URL" "$@"
}

# request_at BASE_URL METHOD PATH [CURL_ARGS...]: what guard_request does, at BASE_URL.
request_at() {
  local base="$1" method="$2" path="$3"
  shift 3
  local method_args=(-X "$method")
  [ "$method" = HEAD ] && method_args=(--head)
  : >"$RESPONSE_BODY"
  : >"$RESPONSE_HEADERS"
  HTTP_STATUS="$(curl -sS --max-time "$LUG_CURL_TIMEOUT" --cacert "$PKI_CA" "${method_args[@]}" \
    -o "$RESPONSE_BODY" -D "$RESPONSE_HEADERS" -w '%{http_code}' "$@" "$base$path" \
    2>"$RESPONSE_ERR")"
  CURL_EXIT=$?
  return 0
}

# fixture_path NAME_OR_PATH
# Prints NAME_OR_PATH if it is an existing file, else tests/fixtures/NAME_OR_PATH.
fixture_path() {
  if [ -f "$1" ]; then printf '%s\n' "$1"; else printf '%s\n' "$LUG_FIXTURES/$1"; fi
}

# post_review PATH FIXTURE_OR_- [CURL_ARGS...]
# POSTs a fixture (a name in tests/fixtures, a file path, or - for stdin) to PATH with
# Content-Type: application/json, through guard_request: sets HTTP_STATUS, CURL_EXIT,
# $RESPONSE_BODY, $RESPONSE_HEADERS. A missing fixture is counted as a failure.
post_review() {
  local path="$1" fixture="$2"
  shift 2
  local data="@-"
  if [ "$fixture" != - ]; then
    fixture="$(fixture_path "$fixture")"
    if [ ! -f "$fixture" ]; then
      fail "post_review: fixture $fixture does not exist"
      HTTP_STATUS=000 CURL_EXIT=1
      return 0
    fi
    data="@$fixture"
  fi
  guard_request POST "$path" -H 'Content-Type: application/json' --data-binary "$data" "$@"
}

# response_header NAME
# Prints the value of the last response header NAME (case-insensitive) from
# $RESPONSE_HEADERS, without the trailing CR; prints nothing when it is absent.
response_header() {
  tr -d '\r' <"$RESPONSE_HEADERS" |
    awk -v name="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
      { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == name) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); value = v } }
      END { printf "%s", value }'
}

# pass DESCRIPTION / fail DESCRIPTION [DETAIL_LINES...]
# Count one passed or failed check and print it; fail prints each detail indented.
pass() {
  LUG_PASSED=$((LUG_PASSED + 1))
  printf 'ok   - %s\n' "$1"
}
fail() {
  LUG_FAILED=$((LUG_FAILED + 1))
  printf 'FAIL - %s\n' "$1"
  shift
  local detail
  for detail in "$@"; do
    printf '%s\n' "$detail" | head -c 3000 | sed 's/^/         /'
  done
}

# assert_eq DESCRIPTION EXPECTED ACTUAL
assert_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}

# assert_ne DESCRIPTION UNEXPECTED ACTUAL
assert_ne() {
  if [ "$2" != "$3" ]; then pass "$1"; else fail "$1" "expected anything but: $2"; fi
}

# assert_contains DESCRIPTION NEEDLE HAYSTACK (plain substring, not a pattern)
assert_contains() {
  case "$3" in
    *"$2"*) pass "$1" ;;
    *) fail "$1" "expected to contain: $2" "actual: $3" ;;
  esac
}

# assert_not_contains DESCRIPTION NEEDLE HAYSTACK
assert_not_contains() {
  case "$3" in
    *"$2"*) fail "$1" "expected not to contain: $2" "actual: $3" ;;
    *) pass "$1" ;;
  esac
}

# assert_match DESCRIPTION EXTENDED_REGEX ACTUAL
assert_match() {
  if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match: $2" "actual: $3"; fi
}

# assert_seconds_between DESCRIPTION MIN MAX ACTUAL
# ACTUAL seconds (decimal, e.g. from elapsed_since) lies in [MIN, MAX].
assert_seconds_between() {
  local actual_us
  actual_us="$(seconds_to_us "$4")"
  if [ "$actual_us" -ge "$(seconds_to_us "$2")" ] && [ "$actual_us" -le "$(seconds_to_us "$3")" ]; then
    pass "$1 (${4}s)"
  else
    fail "$1" "expected between ${2}s and ${3}s, took ${4}s"
  fi
}

# assert_true DESCRIPTION COMMAND [ARGS...]
# Passes when COMMAND exits 0; on failure shows its output.
assert_true() {
  local desc="$1" output
  shift
  if output="$("$@" 2>&1)"; then pass "$desc"; else fail "$desc" "command failed: $*" "$output"; fi
}

# assert_json JQ_EXPR EXPECTED FILE [DESCRIPTION]
# Evaluates JQ_EXPR on the JSON in FILE; a string result is compared bare, anything else as
# compact JSON (true, 200, null, {"a":1}). A file that is not JSON fails the check.
assert_json() {
  local expr="$1" expected="$2" file="$3" desc="${4:-$1 == $2}" actual
  if ! actual="$(jq -r "$expr | if type == \"string\" then . else tojson end" "$file" 2>&1)"; then
    fail "$desc" "jq failed on $expr" "$actual" "body: $(head -c 1000 "$file")"
    return
  fi
  if [ "$actual" = "$expected" ]; then
    pass "$desc"
  else
    fail "$desc" "expected: $expected" "actual:   $actual" "body: $(head -c 1000 "$file")"
  fi
}

# json_value JQ_EXPR FILE
# Prints the result of JQ_EXPR on FILE like assert_json compares it; empty when not JSON.
json_value() {
  jq -r "$1 | if type == \"string\" then . else tojson end" "$2" 2>/dev/null
}

# apply_patch REVIEW [RESPONSE_FILE]
# Applies the base64 JSON patch of an AdmissionReview response (default: the last one,
# $RESPONSE_BODY) to .request.object of REVIEW (a fixture name or a file), with a strict
# RFC 6902 implementation (tests/support/json_patch.py), the way the API server applies a
# mutating webhook's patch.
# Prints the patched object, or "error: ..." when an operation cannot apply (for example
# "add /spec/initContainers/-" to a pod without them).
apply_patch() {
  python3 "$LUG_ROOT/tests/support/json_patch.py" "$(fixture_path "$1")" "${2:-$RESPONSE_BODY}"
}

# assert_status_response DESCRIPTION HTTP_CODE
# Checks the last guard_request got HTTP_CODE with Content-Type application/json and a
# body shaped like a Kubernetes metav1.Status: kind Status, apiVersion v1, metadata {},
# status Failure, a non-empty message and reason, and code equal to HTTP_CODE.
assert_status_response() {
  local desc="$1" code="$2"
  assert_eq "$desc: HTTP status" "$code" "$HTTP_STATUS"
  assert_match "$desc: Content-Type is application/json" '^application/json' "$(response_header content-type)"
  local shape
  shape="$(jq -c --argjson code "$code" '{
      kind: (.kind == "Status"), apiVersion: (.apiVersion == "v1"), metadata: (.metadata == {}),
      status: (.status == "Failure"),
      message: ((.message | type) == "string" and (.message | length) > 0),
      reason: ((.reason | type) == "string" and (.reason | length) > 0),
      code: (.code == $code)}' "$RESPONSE_BODY" 2>&1)"
  assert_eq "$desc: body is a metav1.Status with code $code" \
    '{"kind":true,"apiVersion":true,"metadata":true,"status":true,"message":true,"reason":true,"code":true}' \
    "$shape"
}

# assert_healthy DESCRIPTION
# Within 5 s each: GET /healthz on the probe port answers 200 (the process is alive) and
# the webhook port answers HTTP (GET /validate is 405): the server is alive and serving.
assert_healthy() {
  local saved="$LUG_CURL_TIMEOUT" health webhook
  LUG_CURL_TIMEOUT=5
  probe_request GET /healthz
  health="$HTTP_STATUS"
  guard_request GET /validate
  webhook="$HTTP_STATUS"
  LUG_CURL_TIMEOUT="$saved"
  if [ "$health" = 200 ] && [ "$webhook" = 405 ]; then
    pass "$1"
  else
    fail "$1" "GET /healthz gave $health, GET /validate on the webhook port $webhook (curl exit $CURL_EXIT): $(cat "$RESPONSE_ERR")" \
      "process alive: $(kill -0 "$GUARD_PID" 2>/dev/null && echo yes || echo no)" \
      "log tail: $(tail -n 5 "$GUARD_LOG")"
  fi
}

# wait_for_log JQ_FILTER [TIMEOUT_SECONDS]
# Waits (default 5 s) for a line of $GUARD_LOG that parses as JSON and makes JQ_FILTER
# true (for example '.msg == "admission" and .uid == "x"'), and prints the first such line
# compactly. Returns 1 when none appears in time.
wait_for_log() {
  local filter="$1" timeout="${2:-5}"
  local deadline=$((SECONDS + timeout)) line
  while :; do
    line="$(jq -R -c "fromjson? | select(type == \"object\") | select($filter)" "$GUARD_LOG" 2>/dev/null | head -n 1)"
    if [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

# assert_log DESCRIPTION JQ_FILTER
# A JSON line of $GUARD_LOG makes JQ_FILTER true within 3 s (see wait_for_log).
assert_log() {
  if wait_for_log "$2" 3 >/dev/null; then
    pass "$1"
  else
    fail "$1" "no log line matching: $2" "log tail: $(tail -n 5 "$GUARD_LOG")"
  fi
}

# count_log JQ_FILTER
# Prints how many JSON lines of $GUARD_LOG make JQ_FILTER true.
count_log() {
  jq -R -c "fromjson? | select(type == \"object\") | select($1)" "$GUARD_LOG" 2>/dev/null | wc -l | tr -d ' '
}

# assert_log_json_lines DESCRIPTION [FILE]
# Every line of FILE (default $GUARD_LOG) must be strict UTF-8 holding one JSON object with
# string fields time, level and msg. Lists the offending lines on failure.
assert_log_json_lines() {
  local desc="$1" file="${2:-$GUARD_LOG}" output
  if output="$(python3 "$LUG_ROOT/tests/support/json_log_lines.py" "$file")"; then
    pass "$desc"
  else
    fail "$desc" "$output"
  fi
}

# run_cli TIMEOUT_SECONDS ARGS...
# Runs "$GUARD_BIN" ARGS with no stdin, killed after TIMEOUT seconds. Sets CLI_EXIT (124
# when it had to be killed), CLI_STDOUT and CLI_STDERR (their text).
run_cli() {
  local limit="$1"
  shift
  timeout -k 2 "$limit" "$GUARD_BIN" "$@" >"$LUG_WORK/cli.stdout" 2>"$LUG_WORK/cli.stderr" </dev/null
  CLI_EXIT=$?
  CLI_STDOUT="$(cat "$LUG_WORK/cli.stdout")"
  CLI_STDERR="$(cat "$LUG_WORK/cli.stderr")"
}

# guard_py [ARGS...] <<'EOF' ... EOF
# Runs python3 (stdlib only) on the script read from stdin, with everything of
# tests/support/guard_client.py imported: helpers for talking to the guard where curl cannot
# (raw bytes, held-open connections, partial requests; see that file), the modules json, os,
# socket, ssl, sys and time, and HOST, PORT (from $GUARD_PORT), PROBE_PORT (from
# $GUARD_PROBE_PORT) and CA (from $PKI_CA). ARGS become sys.argv[1:]. The whole run is
# bounded by LUG_PY_TIMEOUT (default 60 s).
guard_py() {
  local script
  script="$(cat)"
  local run=(env "PYTHONPATH=$LUG_ROOT/tests${PYTHONPATH:+:$PYTHONPATH}"
    timeout -k 2 "${LUG_PY_TIMEOUT:-60}" python3 -c "from support.guard_client import *
$script" "$@")
  export GUARD_PORT="${GUARD_PORT:-0}" GUARD_PROBE_PORT="${GUARD_PROBE_PORT:-}" PKI_CA="${PKI_CA:-}" LUG_FIXTURES
  # Started with & (a subshell): become `timeout` (env execs it) so that the PID the caller
  # registers is the one that forwards the cleanup trap's SIGTERM to python.
  if [ "$BASHPID" != "$$" ]; then exec "${run[@]}"; fi
  "${run[@]}"
}

# check_sanitizer_reports
# Under the asan preset a sanitizer report in any file of the run (the guard's stderr logs,
# captured command output) fails the test, even when the process carried on (UBSan) or was
# not stopped with a checked exit code. A no-op in other builds: nothing ever prints these.
check_sanitizer_reports() {
  local reports
  reports="$(grep -r -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error: ' "$LUG_WORK" 2>/dev/null)"
  if [ -n "$reports" ]; then
    local file
    for file in $reports; do
      fail "sanitizer report in $file" "$(grep -m 1 -A 12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error: ' "$file" | head -c 3000)"
    done
  fi
}

# finish
# Prints the closing line "N passed, M failed" and exits 1 when a check failed (after
# showing the tail of each guard log of the run) or when no check ran at all, else 0.
finish() {
  check_sanitizer_reports
  if [ "$LUG_FAILED" -gt 0 ]; then
    local log
    for log in "${LUG_GUARD_LOGS[@]}"; do
      [ -s "$log" ] || continue
      echo "# last lines of $log:"
      tail -n 8 "$log" | head -c 4000 | sed 's/^/#   /'
    done
  fi
  echo "$LUG_PASSED passed, $LUG_FAILED failed"
  if [ $((LUG_PASSED + LUG_FAILED)) -eq 0 ]; then
    echo "# no check ran: counted as a failure" >&2
    exit 1
  fi
  [ "$LUG_FAILED" -eq 0 ] && exit 0
  exit 1
}

# --- the Kubernetes API stand-in (tests/support/kube_api_standin.py) ------------------------

# start_kube_api_standin [EXTRA_ARGS...]
# Starts the stand-in on 127.0.0.1:0 with $PKI_SERVER_CERT/$PKI_SERVER_KEY (gen_test_pki
# first), accepting the bearer token $STANDIN_TOKEN (default "standin-token"), plus
# EXTRA_ARGS (e.g. --setting longhorn-system/deleting-confirmation-flag=false,
# --cache-lag-ms 500). It runs under `timeout` ($LUG_STANDIN_LIFETIME s, default 600) and is
# killed by the EXIT trap. Waits at most $LUG_START_TIMEOUT s for its ready file. On
# success exports STANDIN_URL (https://127.0.0.1:PORT), STANDIN_PID, STANDIN_LOG (its
# request log) and STANDIN_TOKEN_FILE (the token, for --kube-token-file), and returns 0;
# otherwise counts a failure, shows the log and returns 1.
start_kube_api_standin() {
  STANDIN_TOKEN="${STANDIN_TOKEN:-standin-token}"
  STANDIN_TOKEN_FILE="$LUG_WORK/standin.token"
  STANDIN_LOG="$LUG_WORK/standin.log"
  local ready="$LUG_WORK/standin.ready"
  (umask 077 && printf '%s\n' "$STANDIN_TOKEN" >"$STANDIN_TOKEN_FILE")
  rm -f "$ready"
  timeout -k 2 "${LUG_STANDIN_LIFETIME:-600}" python3 "$LUG_ROOT/tests/support/kube_api_standin.py" \
    --listen 127.0.0.1:0 --tls-cert "$PKI_SERVER_CERT" --tls-key "$PKI_SERVER_KEY" \
    --token "$STANDIN_TOKEN" --ready-file "$ready" "$@" \
    >"$LUG_WORK/standin.stdout" 2>"$STANDIN_LOG" </dev/null &
  STANDIN_PID=$!
  register_pid "$STANDIN_PID"
  local deadline=$((SECONDS + LUG_START_TIMEOUT)) address=""
  while [ $SECONDS -le $deadline ]; do
    address="$(jq -r .listening "$ready" 2>/dev/null)"
    [ -n "$address" ] && [ "$address" != null ] && break
    address=""
    kill -0 "$STANDIN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$address" ]; then
    fail "start_kube_api_standin $*: not listening within ${LUG_START_TIMEOUT}s" \
      "log: $(head -c 2000 "$STANDIN_LOG")"
    return 1
  fi
  STANDIN_URL="https://$address"
  export STANDIN_URL STANDIN_PID STANDIN_LOG STANDIN_TOKEN STANDIN_TOKEN_FILE
  return 0
}

# standin_control METHOD PATH [JSON]
# One call to the stand-in's control API, $STANDIN_URL/_standin/PATH (for example
# `standin_control PUT cache '{"lag_ms": 500}'`). Prints the response body; returns 0 on a
# 2xx answer, else 1 (the body, or curl's error, still printed).
standin_control() {
  local args=(-sS --max-time 5 --cacert "$PKI_CA" -X "$1" -w '\n%{http_code}' "$STANDIN_URL/_standin/$2")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  local out code
  out="$(curl "${args[@]}" 2>&1)"
  code="${out##*$'\n'}"
  printf '%s\n' "${out%$'\n'*}"
  [[ "$code" == 2?? ]]
}

# --- the guard's own resources, from /proc ------------------------------------------------------

# guard_fds
# Prints how many file descriptors $GUARD_PID has open (the entries of /proc/PID/fd),
# or nothing when the process is gone.
guard_fds() {
  local fds
  fds="$(ls -U "/proc/$GUARD_PID/fd" 2>/dev/null)" || return 0
  printf '%s\n' "$fds" | grep -c .
}

# guard_rss_kb
# Prints the resident set size of $GUARD_PID in KiB (VmRSS), or nothing when it is gone.
guard_rss_kb() {
  awk '$1 == "VmRSS:" { print $2 }' "/proc/$GUARD_PID/status" 2>/dev/null
}

# wait_guard_fds COUNT TIMEOUT_SECONDS
# Polls (every 100 ms, at most TIMEOUT seconds) until $GUARD_PID has at most COUNT file
# descriptors open: the way to see connections closed on the server side, which happens a
# moment after the client closes. Sets GUARD_FDS to the last count; returns 1 on timeout.
wait_guard_fds() {
  local count="$1" deadline=$((SECONDS + $2))
  while :; do
    GUARD_FDS="$(guard_fds)"
    [ -n "$GUARD_FDS" ] && [ "$GUARD_FDS" -le "$count" ] && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
