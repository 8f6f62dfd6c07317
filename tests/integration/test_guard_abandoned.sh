#!/usr/bin/env bash
# A held request whose client goes away ends its hold within a poll interval, against the
# Kubernetes API stand-in. The API server drops its connection when the pod create is
# cancelled or when it restarts; until the deadline, a hold kept for nobody would keep its
# --max-held slot (new uninstall pods get 429) and keep reading the API.
#
# - three held reviews whose clients leave with a FIN, a reset and a TLS close_notify:
#   holds_in_progress is back to 0 within a poll interval (plus slack), each hold ends with
#   the outcome `abandoned` (metric and log line), and the reads stop;
# - with --max-held 3, a new uninstall pod is then held, not refused with 429.
#
# Usage: tests/integration/test_guard_abandoned.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 10 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

poll=300ms
start_standin_guard --max-held 3 --poll-interval "$poll" || finish
set_flag false

# metric SERIES: the value of one sample on the metrics port, or "absent".
metric() {
  curl -sS --max-time 5 "$GUARD_METRICS_URL/metrics" 2>/dev/null |
    awk -v s="$1" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); found = 1; exit }
                   END { if (!found) print "absent" }'
}
p=longhorn_uninstall_guard

# --- three held reviews, three ways of leaving --------------------------------------------------
LUG_PY_TIMEOUT=40 guard_py "$LUG_WORK/held.ready" "$LUG_WORK/leave" >"$LUG_WORK/leave.out" 2>&1 <<'PY' &
ready, leave = sys.argv[1], sys.argv[2]
body = review_body("uninstall-pod-kubectl.json")
request = request_bytes("POST", "/validate?timeout=20s", body, {"Content-Type": "application/json"})
sockets = {}
for how in ("fin", "reset", "close_notify"):
    s = connect(timeout=30)
    s.sendall(request)
    sockets[how] = s
open(ready, "w").close()
deadline = time.monotonic() + 20
while not os.path.exists(leave) and time.monotonic() < deadline:
    time.sleep(0.02)
# FIN without close_notify: shut the TCP connection down under TLS.
sockets["fin"].shutdown(socket.SHUT_RDWR)
# Reset.
r = sockets["reset"]
r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
r.close()
# close_notify, the TCP connection left open.
c = sockets["close_notify"]
c.settimeout(3)
try:
    c.unwrap()
except Exception:
    pass
time.sleep(5)
print("left")
PY
client=$!
register_pid "$client"
wait_for_file "$LUG_WORK/held.ready" 10 || fail "the three reviews were sent"
for _ in $(seq 1 50); do
  [ "$(metric "${p}_holds_in_progress")" = 3 ] && break
  sleep 0.1
done
assert_eq "three reviews are held" 3 "$(metric "${p}_holds_in_progress")"
post_review "/validate?timeout=5s" uninstall-pod-kubectl.json
assert_eq "with --max-held 3 taken, a fourth uninstall pod is refused with 429" 429 \
  "$(jq -r .response.status.code "$RESPONSE_BODY")"

touch "$LUG_WORK/leave"
left="$(now_us)"
freed=""
for _ in $(seq 1 60); do
  if [ "$(metric "${p}_holds_in_progress")" = 0 ]; then
    freed="$(elapsed_since "$left")"
    break
  fi
  sleep 0.05
done
# One poll interval (0.3 s) plus a read and a loaded machine's slack.
assert_seconds_between "the three holds end within a poll interval of their clients leaving" 0 1.5 "${freed:-99}"
assert_metric_value() {
  assert_eq "$1" "$3" "$(metric "$2")"
}
assert_metric_value "the holds ended with the outcome abandoned" "${p}_holds_ended_total{outcome=\"abandoned\"}" 3
assert_metric_value "the reviews are counted as abandoned" \
  "${p}_admission_requests_total{decision=\"abandoned\",endpoint=\"validate\"}" 3
assert_eq "each is logged as abandoned" 3 "$(count_log '.msg == "admission" and .decision == "abandoned"')"

# The reads stop: no held request is left to want one.
reset_reads
sleep 1
save_reads "$LUG_WORK/reads.json"
assert_eq "no fresh read once the holds are abandoned" 0 "$(jq '.requests | length' "$LUG_WORK/reads.json")"

# The slots are free again: a new uninstall pod is held (and denied at its deadline), not 429.
post_review "/validate?timeout=2s" uninstall-pod-kubectl.json
assert_eq "a new uninstall pod is held and denied with 403 at its deadline, not 429" 403 \
  "$(jq -r .response.status.code "$RESPONSE_BODY")"
wait_pid_exit "$client" 15 >/dev/null

stop_guard
assert_eq "exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
