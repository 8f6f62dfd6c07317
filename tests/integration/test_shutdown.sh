#!/usr/bin/env bash
# Graceful shutdown: SIGTERM (what Kubernetes sends) and SIGINT stop accepting, close idle
# keep-alive connections, finish in-flight requests with Connection: close, and exit 0
# within --shutdown-grace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish

# start_client NAME [ARGS...] <<'EOF' ... EOF
# Runs the guard_py script from stdin in the background with $LUG_WORK/NAME.ready (the
# script creates it once its connection is where the case needs it) and ARGS as arguments,
# its output in $LUG_WORK/NAME.json. Sets CLIENT_PID; returns 1 when the ready file does not
# appear within 10 s.
start_client() {
  local name="$1" script
  shift
  script="$(cat)"
  guard_py "$LUG_WORK/$name.ready" "$@" >"$LUG_WORK/$name.json" <<<"$script" &
  CLIENT_PID=$!
  register_pid "$CLIENT_PID"
  wait_for_file "$LUG_WORK/$name.ready" 10
}

# --- (a) an idle keep-alive connection is closed and the server exits 0 quickly ----------
if start_guard; then
  if start_client idle <<'EOF'; then
s = connect(timeout=30)
s.sendall(request_bytes("POST", "/validate", review_body("other-pod.json"), {"Content-Type": "application/json"}))
status, headers, _ = read_response(s)
open(sys.argv[1], "w").close()
closed, seconds, data = wait_closed(s, 15)
print(json.dumps({"status": status, "closed": closed, "seconds": round(seconds, 2), "extra": data.decode("latin-1")}))
EOF
    stop_guard TERM 10
    assert_eq "(a) idle keep-alive open: exits 0 on SIGTERM" 0 "$GUARD_EXIT"
    assert_seconds_between "(a) idle keep-alive open: exits within 5 s" 0 5 "$GUARD_STOP_SECONDS"
    wait "$CLIENT_PID"
    result="$(cat "$LUG_WORK/idle.json")"
    assert_eq "(a) the idle client had been served" 200 "$(jq -r .status <<<"$result")"
    assert_eq "(a) the server closed the idle keep-alive connection" true "$(jq -r .closed <<<"$result")"
    assert_eq "(a) nothing was sent on the idle connection before closing it" "" "$(jq -r .extra <<<"$result")"
  else
    fail "(a) the idle client connected and was served" "$(cat "$LUG_WORK/idle.json")"
  fi
fi

# --- (b) an in-flight request is answered with Connection: close, then exit 0 -----------
if start_guard; then
  if start_client inflight "$LUG_WORK/inflight.go" <<'EOF'; then
body = review_body("other-pod.json")
half = len(body) // 2
s = connect(timeout=30)
s.sendall(request_bytes("POST", "/validate", body, {"Content-Type": "application/json"})[:-(len(body) - half)])
open(sys.argv[1], "w").close()
deadline = time.monotonic() + 15
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
out = {}
try:
    s.sendall(body[half:])
    status, headers, payload = read_response(s) or (None, {}, b"")
    out = {"status": status, "connection": headers.get("connection", "").lower()}
    try:
        out["uid"] = json.loads(payload)["response"]["uid"]
    except Exception:
        out["uid"] = None
    out["closed_after"] = wait_closed(s, 5)[0]
except Exception as e:
    out = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
EOF
    sleep 0.3
    start="$(now_us)"
    kill -TERM "$GUARD_PID"
    sleep 0.5
    # Stop accepting: a new client is not served while the in-flight request is pending.
    refused="$(curl -sS --max-time 2 --cacert "$PKI_CA" -o /dev/null -w '%{http_code}' "$GUARD_URL/validate" 2>/dev/null)"
    assert_eq "(b) after SIGTERM a new connection is not served" 000 "$refused"
    assert_true "(b) the server is still running while a request is in flight" kill -0 "$GUARD_PID"
    touch "$LUG_WORK/inflight.go"
    wait "$CLIENT_PID"
    result="$(cat "$LUG_WORK/inflight.json")"
    assert_eq "(b) the in-flight request is answered 200 with Connection: close" \
      '{"status":200,"connection":"close","uid":"705ab4f5-6393-11e8-b7cc-42010a800002","closed_after":true}' \
      "$(jq -c '{status, connection, uid, closed_after}' <<<"$result")"
    wait_pid_exit "$GUARD_PID" 10
    rc=$?
    assert_eq "(b) exits 0 after answering the in-flight request" 0 "$rc"
    assert_seconds_between "(b) exits soon after the in-flight request is done (well within the 20 s grace)" \
      0 8 "$(elapsed_since "$start")"
  else
    fail "(b) the in-flight client connected" "$(cat "$LUG_WORK/inflight.json" 2>/dev/null)"
  fi
fi

# --- (c) SIGINT is graceful too -----------------------------------------------------------
if start_guard; then
  assert_healthy "(c) serving before SIGINT"
  stop_guard INT 10
  assert_eq "(c) exits 0 on SIGINT" 0 "$GUARD_EXIT"
  assert_seconds_between "(c) exits within 5 s of SIGINT" 0 5 "$GUARD_STOP_SECONDS"
fi

# --- (d) a connection that never sends a request does not delay the exit ------------------
if start_guard; then
  if start_client silent <<'EOF'; then
s = connect(timeout=30)
open(sys.argv[1], "w").close()
closed, seconds, data = wait_closed(s, 15)
print(json.dumps({"closed": closed, "seconds": round(seconds, 2)}))
EOF
    sleep 0.3
    stop_guard TERM 10
    assert_eq "(d) a silent TLS connection open: exits 0 on SIGTERM" 0 "$GUARD_EXIT"
    assert_seconds_between "(d) a silent TLS connection open: exits within 5 s" 0 5 "$GUARD_STOP_SECONDS"
    wait "$CLIENT_PID"
    assert_eq "(d) the silent connection was closed" true "$(jq -r .closed "$LUG_WORK/silent.json")"
  else
    fail "(d) the silent client connected" "$(cat "$LUG_WORK/silent.json" 2>/dev/null)"
  fi
fi

# --- (e) --shutdown-grace bounds the wait for a stuck request ------------------------------
if start_guard --shutdown-grace 2s; then
  if start_client stuck <<'EOF'; then
body = review_body("other-pod.json")
s = connect(timeout=30)
s.sendall(request_bytes("POST", "/validate", body, {"Content-Type": "application/json"})[:-100])
open(sys.argv[1], "w").close()
closed, seconds, data = wait_closed(s, 15)
print(json.dumps({"closed": closed, "seconds": round(seconds, 2)}))
EOF
    sleep 0.3
    stop_guard TERM 15
    assert_ne "(e) --shutdown-grace 2s with a stuck request: the server exits" timeout "$GUARD_EXIT"
    assert_seconds_between "(e) --shutdown-grace 2s with a stuck request: exits after about 2 s" 1.5 5 "$GUARD_STOP_SECONDS"
    echo "# (e) exit code after the grace period ran out: $GUARD_EXIT"
    wait "$CLIENT_PID"
    assert_eq "(e) the stuck connection was closed" true "$(jq -r .closed "$LUG_WORK/stuck.json")"
  else
    fail "(e) the stuck client connected" "$(cat "$LUG_WORK/stuck.json" 2>/dev/null)"
  fi
fi

finish
