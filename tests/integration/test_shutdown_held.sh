#!/usr/bin/env bash
# SIGTERM while many pods are held. Against the Kubernetes API stand-in with the flag
# "false", 220 uninstall-pod reviews (each with its own uid, ?timeout=30s, --max-hold 30s)
# are held on 220 connections; then the guard gets SIGTERM. Every one of them must get a
# complete answer at once: HTTP 200, its own uid, denied with 503 ServiceUnavailable and
# the "shutting down" message (guard/validator.cpp), Connection: close, then the
# connection closed. The guard must exit 0 well within --shutdown-grace, and serve no
# connection opened after the signal.
#
# Usage: tests/integration/test_shutdown_held.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 5 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

held=220   # under --max-held 300: every review is held, none denied with 429
grace=5    # --shutdown-grace: far longer than answering held reviews takes
shutting_down_message="longhorn-uninstall-guard is shutting down and stopped holding this pod before the \
deleting-confirmation-flag setting read true. The Job longhorn-system/longhorn-uninstall retries by itself \
(a denied pod is never created and does not count as a failure)."

start_standin_guard --max-hold 30s --max-held 300 --shutdown-grace "${grace}s" || finish

# holds_in_progress: the guard's longhorn_uninstall_guard_holds_in_progress gauge.
holds_in_progress() {
  curl -sS --max-time 5 "$GUARD_METRICS_URL/metrics" 2>/dev/null |
    awk '$1 == "longhorn_uninstall_guard_holds_in_progress" { print $2 }'
}

# --- 220 held reviews -------------------------------------------------------------------------------
LUG_PY_TIMEOUT=90 guard_py "$LUG_WORK/held.json" "$held" "$LUG_WORK/held.ready" <<'EOF' &
import threading
out_file, count, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
template = json.loads(review_body("uninstall-pod-helm.json"))
results = [{"uid": f"{template['request']['uid'][:-4]}{i:04d}", "error": None} for i in range(count)]
sockets = []
for record in results:
    try:
        sockets.append(connect(timeout=60))
    except Exception as e:
        sockets.append(None)
        record["error"] = f"connect: {e!r}"
for record, s in zip(results, sockets):
    if s is None:
        continue
    body = json.dumps(dict(template, request=dict(template["request"], uid=record["uid"]))).encode()
    try:
        s.sendall(request_bytes("POST", "/validate?timeout=30s", body, {"Content-Type": "application/json"}))
    except Exception as e:
        record["error"] = f"send: {e!r}"
with open(ready, "w") as f:
    f.write(f"{time.monotonic():.6f}\n")

def answer(record, s):
    try:
        reply = read_response(s)
        if reply is None:
            record["error"] = "connection closed without an answer"
            return
        status, headers, data = reply
        response = json.loads(data)["response"]
        record.update(status=status, connection=headers.get("connection", ""), answered_uid=response["uid"],
                      allowed=response["allowed"], code=response.get("status", {}).get("code"),
                      reason=response.get("status", {}).get("reason"),
                      message=response.get("status", {}).get("message"))
        record["closed_after"] = wait_closed(s, 10)[0]
    except Exception as e:
        record["error"] = f"answer: {e!r}"
    finally:
        s.close()

threads = [threading.Thread(target=answer, args=(r, s)) for r, s in zip(results, sockets) if s is not None]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out_file, "w") as f:
    json.dump(results, f)
EOF
driver=$!
register_pid "$driver"
wait_for_file "$LUG_WORK/held.ready" 60 || fail "the $held reviews were sent within 60 s"
in_progress=""
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ]; do
  in_progress="$(holds_in_progress)"
  [ "$in_progress" = "$held" ] && break
  sleep 0.2
done
assert_eq "the guard reports all $held reviews held" "$held" "$in_progress"
assert_true "none of them has been answered yet" kill -0 "$driver"

# --- SIGTERM, then probes for new connections ----------------------------------------------------
# The probe sends the signal itself, so that "after" is exact: every connection it opens
# from then on must be refused or closed unanswered.
signalled="$(now_us)"
probes="$(guard_py "$GUARD_PID" <<'EOF'
import signal
pid = int(sys.argv[1])
def exited():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
os.kill(pid, signal.SIGTERM)
attempts = served = 0
deadline = time.monotonic() + 3
while not exited() and time.monotonic() < deadline:
    attempts += 1
    try:
        s = connect(timeout=2)
        s.sendall(request_bytes("GET", "/validate"))
        if read_response(s) is not None:
            served += 1
        s.close()
    except (OSError, EOFError):
        pass
    time.sleep(0.01)
print(json.dumps({"attempts": attempts, "served": served}))
EOF
)"
wait_pid_exit "$GUARD_PID" $((grace + 10))
exit_code=$?
stopped="$(elapsed_since "$signalled")"
echo "# probes after SIGTERM: $probes"
assert_eq "no connection opened after SIGTERM was served" 0 "$(jq -r .served <<<"$probes" 2>&1)"
assert_eq "the guard exits 0 on SIGTERM with $held reviews held" 0 "$exit_code"
assert_seconds_between "it exits well within --shutdown-grace ${grace}s" 0 "$grace" "$stopped"

wait_pid_exit "$driver" 30
results="$LUG_WORK/held.json"
assert_json 'length' "$held" "$results" "the driver collected $held results"
assert_json '[.[] | select(.error != null)] | length' 0 "$results" \
  "every held review got a complete HTTP answer (none left unanswered)"
assert_json '[.[] | select(.status != 200 or .answered_uid != .uid)] | length' 0 "$results" \
  "every answer is HTTP 200 and echoes its own request's uid"
assert_json '[.[] | [.allowed, .code, .reason]] | unique' '[[false,503,"ServiceUnavailable"]]' "$results" \
  "every held review is denied with 503 ServiceUnavailable"
assert_json '[.[] | .message] | unique' "$(jq -cn --arg m "$shutting_down_message" '[$m]')" "$results" \
  "every denial carries the shutting-down message"
assert_json '[.[] | .closed_after] | unique' '[true]' "$results" "after its answer, every connection is closed"
assert_json '[.[] | .connection | ascii_downcase] | unique' '["close"]' "$results" \
  "every answer says Connection: close (the server is draining when it answers)"

assert_log "the shutdown is logged with the number of held reviews" \
  ".msg == \"shutting down\" and .signal == \"SIGTERM\" and .held == $held"
assert_eq "each held review is logged once as denied for the shutdown" "$held" \
  "$(count_log '.msg == "admission" and .decision == "denied" and .reason == "shutting down"')"
assert_log "the guard logs that it stopped" '.msg == "stopped"'
assert_eq "the grace period did not run out" 0 "$(count_log '.msg == "grace period over; closing remaining connections"')"
finish
