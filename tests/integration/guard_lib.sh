# Helpers shared by the guard behaviour tests (test_guard_*.sh): the guard wired to the
# Kubernetes API stand-in, writes of the flag, the stand-in's read log, reviews posted in
# the background, and many reviews posted at once. Sourced after lib.sh, never run.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
#   setup_guard_test "$@"            # setup_test, test PKI, the stand-in with the flag "false"
#   start_standin_guard --max-hold 2s
#   set_flag true; reset_reads
#   post_review "/validate?timeout=10s" uninstall-pod-kubectl.json --max-time 20
#   save_reads "$LUG_WORK/reads.json"
#
# Times: the stand-in stamps each API request with time.monotonic() (CLOCK_MONOTONIC);
# monotonic_now and post_concurrently use the same clock, so their times compare directly.

FLAG_NAMESPACE=longhorn-system
FLAG_NAME=deleting-confirmation-flag
# The one path a fresh read may use: no query string at all (a quorum read).
FLAG_API_PATH="/apis/longhorn.io/v1beta2/namespaces/$FLAG_NAMESPACE/settings/$FLAG_NAME"
# What every deny message must tell the operator to run, character for character.
CONFIRM_COMMAND="kubectl -n $FLAG_NAMESPACE patch -p '{\"value\": \"true\"}' --type=merge lhs $FLAG_NAME"

# setup_guard_test [BINARY]
# setup_test, an EC test PKI (fast to make; the stand-in serves the same server
# certificate as the guard) and the stand-in with the flag set to "false". Exits through
# finish when any of it fails.
setup_guard_test() {
  setup_test "$@"
  gen_test_pki "$LUG_WORK/pki" ec || finish
  LUG_MONOTONIC_OFFSET_US="$(python3 -c 'import time; print(round((time.time() - time.monotonic()) * 1e6))')"
  start_kube_api_standin --setting "$FLAG_NAMESPACE/$FLAG_NAME=false" || finish
}

# start_standin_guard [EXTRA_ARGS...]
# start_guard with the Kubernetes API flags pointing at the stand-in and its token file.
start_standin_guard() {
  GUARD_KUBE_API="$STANDIN_URL" GUARD_KUBE_TOKEN_FILE="$STANDIN_TOKEN_FILE" start_guard "$@"
}

# control METHOD PATH [JSON]
# standin_control that counts a failure when the stand-in refuses the call, and prints nothing.
control() {
  local out
  out="$(standin_control "$@")" || fail "stand-in control call $* failed" "$out"
}

# set_flag VALUE
# Writes VALUE (a string) as the flag's value; sets FLAG_RV to the resourceVersion of
# that write (every write makes a new one).
set_flag() {
  local out
  if out="$(standin_control PUT "settings/$FLAG_NAMESPACE/$FLAG_NAME" "$(jq -cn --arg v "$1" '{value: $v}')")"; then
    FLAG_RV="$(jq -r .metadata.resourceVersion <<<"$out")"
  else
    fail "setting the flag to \"$1\" through the stand-in" "$out"
    FLAG_RV=""
  fi
}

# reset_reads: forgets the stand-in's request log and counters.
reset_reads() { control DELETE reads; }

# save_reads FILE: the stand-in's request log ({counts, requests, now}) into FILE.
save_reads() {
  standin_control GET reads >"$1" || fail "reading the stand-in's request log" "$(cat "$1")"
}

# wait_for_reads COUNT [JQ_FILTER]
# Waits (at most 10 s) until the stand-in has logged COUNT API requests (those matching
# the jq JQ_FILTER, when given): the way to know a posted review has reached the guard and
# is being held. Counts a failure when they do not come.
wait_for_reads() {
  local count="$1" filter="${2:-true}" deadline=$((SECONDS + 10))
  until [ "$(standin_control GET reads | jq "[.requests[] | select($filter)] | length")" -ge "$count" ]; do
    if [ $SECONDS -ge $deadline ]; then
      fail "the stand-in logged $count requests matching $filter within 10 s"
      return 1
    fi
    sleep 0.05
  done
}

# reset_standin: no faults, the CRD installed, only $STANDIN_TOKEN accepted, the flag "false".
reset_standin() {
  control DELETE faults
  control PUT crd '{"installed": true}'
  control PUT tokens "$(jq -cn --arg t "$STANDIN_TOKEN" '{accept: [$t]}')"
  set_flag false
}

# monotonic_now: CLOCK_MONOTONIC in seconds (6 decimals), as the stand-in stamps its
# requests. Computed from bash's EPOCHREALTIME and the offset between the two clocks that
# setup_guard_test measured once: starting python for every reading costs up to a second
# on a loaded machine, and the wall clock does not jump during a test run.
monotonic_now() {
  us_to_monotonic "$(now_us)"
}

# us_to_monotonic WALL_US: a now_us reading on the CLOCK_MONOTONIC scale of monotonic_now.
us_to_monotonic() {
  local us=$(($1 - LUG_MONOTONIC_OFFSET_US))
  printf '%d.%06d\n' $((us / 1000000)) $((us % 1000000))
}

# post_review_bg NAME PATH FIXTURE [CURL_ARGS...]
# POSTs FIXTURE to PATH with curl in the background (--max-time $LUG_CURL_TIMEOUT unless
# CURL_ARGS carry their own). await_review NAME collects the answer.
post_review_bg() {
  local name="$1" path="$2" fixture
  fixture="$(fixture_path "$3")"
  shift 3
  rm -f "$LUG_WORK/bg.$name.out" "$LUG_WORK/bg.$name.body"
  (
    start="$(now_us)"
    result="$(curl -sS --max-time "$LUG_CURL_TIMEOUT" --cacert "$PKI_CA" -H 'Content-Type: application/json' \
      --data-binary "@$fixture" -o "$LUG_WORK/bg.$name.body" -w '%{http_code} %{time_total}' "$@" \
      "$GUARD_URL$path" 2>"$LUG_WORK/bg.$name.err" </dev/null)"
    printf '%s %s %s\n' "$result" "$start" "$(now_us)" >"$LUG_WORK/bg.$name.out"
  ) &
  register_pid $!
  eval "LUG_BG_PID_$name=$!"
}

# await_review NAME
# Waits for post_review_bg NAME to finish (at most as long as its curl may take) and sets
# BG_STATUS (HTTP code, 000 when no answer), BG_SECONDS (curl's time_total: connection,
# request and answer, without curl's own start-up), BG_STARTED and BG_ANSWERED (on the
# CLOCK_MONOTONIC scale of monotonic_now: before curl started, after it finished) and
# BG_BODY (the file holding the response body).
await_review() {
  local name="$1" pid_var="LUG_BG_PID_$1" started_us answered_us
  wait_pid_exit "${!pid_var}" $((LUG_CURL_TIMEOUT + 30)) >/dev/null
  BG_BODY="$LUG_WORK/bg.$name.body"
  BG_STATUS=000 BG_SECONDS=0 started_us=0 answered_us=0
  read -r BG_STATUS BG_SECONDS started_us answered_us 2>/dev/null <"$LUG_WORK/bg.$name.out"
  BG_STARTED="$(us_to_monotonic "$started_us")"
  BG_ANSWERED="$(us_to_monotonic "$answered_us")"
  [ "$BG_STATUS" = 000 ] && echo "# review $name got no answer: $(cat "$LUG_WORK/bg.$name.err" 2>/dev/null)"
  return 0
}

# probe_seconds PATH [CURL_ARGS...]
# One request to the guard (GET, or whatever CURL_ARGS say; /healthz and /readyz go to the
# probe port); prints "HTTP_CODE SECONDS"
# with curl's own time_total, so the number is the server's latency plus the handshake,
# not curl's start-up.
probe_seconds() {
  local path="$1"
  shift
  local base="$GUARD_URL"
  case "$path" in /healthz | /readyz) base="$GUARD_PROBE_URL" ;; esac
  curl -sS --max-time 10 --cacert "$PKI_CA" -o /dev/null -w '%{http_code} %{time_total}' "$@" \
    "$base$path" 2>/dev/null || true
}

# post_concurrently OUT_FILE COUNT PATH FIXTURE [READY_FILE]
# Opens COUNT TLS connections to the guard first, then POSTs FIXTURE on all of them at
# once (each with its own uid) and waits for every answer, at most $LUG_PY_TIMEOUT s.
# Writes to OUT_FILE {"all_sent": T, "requests": [{i, uid, send, recv, status, allowed,
# code, message, error}]}, with send/recv on CLOCK_MONOTONIC (send is taken just before the
# request's first byte goes out). When READY_FILE is given, writes it as soon as every
# request has been sent, holding that moment. Run it in the background with & to act while
# the requests are held.
post_concurrently() {
  guard_py "$@" <"$LUG_ROOT/tests/support/post_concurrently.py"
}

# hold_concurrently NAME COUNT PATH FIXTURE TIMEOUT_SECONDS
# post_concurrently in the background to $LUG_WORK/NAME.json with the ready file
# $LUG_WORK/NAME.ready; sets HOLDER_PID and waits at most TIMEOUT for every request to be
# sent, failing "the COUNT reviews were sent" when they were not.
hold_concurrently() {
  local name="$1" count="$2" path="$3" fixture="$4" timeout="$5"
  post_concurrently "$LUG_WORK/$name.json" "$count" "$path" "$fixture" "$LUG_WORK/$name.ready" &
  HOLDER_PID=$!
  register_pid "$HOLDER_PID"
  wait_for_content "$LUG_WORK/$name.ready" "$timeout" || fail "the $count reviews were sent"
}

# wait_for_content FILE TIMEOUT_SECONDS: polls until FILE exists and is not empty (its writer
# has said something); returns 1 when it does not in time. (wait_for_file in lib.sh waits
# only for the file to exist.)
wait_for_content() {
  local deadline=$((SECONDS + $2))
  while [ ! -s "$1" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.05
  done
}
