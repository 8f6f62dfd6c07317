#!/usr/bin/env bash
# Abuse at scale, on one server that must come out of it serving, with no descriptor leak:
#
# (a) pipelining: several complete requests written in one send on one TLS connection are
#     answered in order, each with its own uid; a pipeline whose second request is invalid
#     gets the first answered, then a 400, then the connection closes;
# (b) connection churn: 2000 short connections (one request each, or closed or reset at
#     once, or reset halfway through a request) from four parallel clients: every request
#     is answered correctly, and descriptors and memory come back to where they were
#     (run before (c) and (d), whose hundreds of connections would leave the allocator
#     enough freed memory to hide a leak from the resident set);
# (c) 300 slow clients, all at once, each sending part of its headers and then nothing:
#     every one is cut off by limits::header_timeout (10 s after its first byte) while an
#     ordinary client is served;
# (d) 3000 idle connections (some TLS-handshaked, most plain TCP that never sends): the
#     server's descriptors stay bounded by limits::max_connections (512), with no fd
#     exhaustion, the kubelet's /healthz on the probe port still answers while the webhook
#     port is full, and it serves again as soon as they are closed;
#
# The guard runs with a soft open-file limit of 1024, the common default that
# limits::max_connections is sized against, so a server that let connections grow past
# its cap would hit EMFILE here.
#
# Usage: tests/integration/test_abuse.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 30 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" ec || finish

# From webhook/transport/limits.hpp.
header_timeout=10    # limits::header_timeout: from a request's first byte to the end of its headers
max_connections=512  # limits::max_connections
# The soft open-file limit the guard runs under (see above).
guard_nofile=1024

# Descriptors the guard may hold beyond its baseline (measured once it is idle) and its
# connections: one socket accepted past the cap and closed at once, the certificate and
# key while the certificate watcher reads them (every 2 s), and one connection to the
# Kubernetes API (unused here, but allowed for).
fd_slack=4

# Under AddressSanitizer freed memory is quarantined instead of reused, so the resident
# set grows with the number of allocations, leak or not; LeakSanitizer checks leaks at exit.
asan_build=0
LC_ALL=C grep -q -a -m 1 __asan_init "$GUARD_BIN" && asan_build=1

saved_nofile="$(ulimit -S -n)"
if [ "$saved_nofile" = unlimited ] || [ "$saved_nofile" -gt "$guard_nofile" ]; then
  ulimit -S -n "$guard_nofile"
fi
start_guard
started=$?
ulimit -S -n "$saved_nofile"
[ "$started" = 0 ] || finish
echo "# guard open-file limit: $(awk '/^Max open files/ { print $4 " soft, " $5 " hard" }' "/proc/$GUARD_PID/limits")"

baseline_fds="$(guard_fds)"
echo "# guard descriptors at rest: $baseline_fds"

# --- (a) pipelined requests in one send ----------------------------------------------------------
pipelined="$(guard_py <<'EOF'
template = json.loads(review_body("other-pod.json"))

def review(uid):
    body = dict(template, request=dict(template["request"], uid=uid))
    return request_bytes("POST", "/validate", json.dumps(body).encode(), {"Content-Type": "application/json"})

def summary(answer):
    if answer is None:
        return "closed"
    status, headers, body = answer
    try:
        document = json.loads(body)
        if document.get("kind") == "AdmissionReview":
            return f"{status} uid={document['response']['uid']} allowed={document['response']['allowed']}"
        return f"{status} code={document.get('code')}"
    except ValueError:
        return f"{status} {body.decode('latin-1').strip()}"

out = {}
s = connect(timeout=10)
s.sendall(request_bytes("GET", "/validate") + review("pipelined-1") + review("pipelined-2")
          + request_bytes("GET", "/validate") + review("pipelined-3"))
out["five"] = [summary(read_response(s)) for _ in range(5)]
s.sendall(request_bytes("GET", "/validate"))
out["after"] = summary(read_response(s))
s.close()

s = connect(timeout=10)
s.sendall(review("pipelined-4") + b"GET /validate HTTP/1.1\r\nHost: localhost\r\nThisIsNotAHeader\r\n\r\n"
          + review("pipelined-5"))
out["invalid"] = [summary(read_response(s)), summary(read_response(s))]
closed, _, rest = wait_closed(s, 5)
out["invalid_closed"] = closed
out["invalid_rest"] = rest.decode("latin-1")
print(json.dumps(out))
EOF
)"
assert_eq "(a) five pipelined requests in one send: answered in order, each with its own uid" \
  '["405 code=405","200 uid=pipelined-1 allowed=True","200 uid=pipelined-2 allowed=True","405 code=405","200 uid=pipelined-3 allowed=True"]' \
  "$(jq -c .five <<<"$pipelined")"
assert_eq "(a) the connection still serves after the pipeline" '"405 code=405"' "$(jq -c .after <<<"$pipelined")"
assert_eq "(a) a pipeline whose second request is invalid: the first is answered, then 400" \
  '["200 uid=pipelined-4 allowed=True","400 code=400"]' "$(jq -c .invalid <<<"$pipelined")"
assert_eq "(a) ... then the connection closes, and the third request is never answered" '[true,""]' \
  "$(jq -c '[.invalid_closed, .invalid_rest]' <<<"$pipelined")"

# --- (b) connection churn ------------------------------------------------------------------------------
churn_workers=4
churn_per_worker=500
wait_guard_fds "$baseline_fds" 15 >/dev/null
churn_fds="$(guard_fds)"
churn_rss="$(guard_rss_kb)"
churn_script='
worker, count = int(sys.argv[1]), int(sys.argv[2])
template = json.loads(review_body("other-pod.json"))
kinds = {"request": 0, "close": 0, "reset": 0, "tls_reset": 0, "reset_mid_request": 0}
answered, errors = 0, []

def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()

for i in range(count):
    kind = ("close", "reset", "tls_reset", "reset_mid_request", "request", "request", "request",
            "request", "request", "request")[i % 10]
    kinds[kind] += 1
    try:
        if kind == "close":
            connect_plain(timeout=10).close()
        elif kind == "reset":
            reset(connect_plain(timeout=10))
        elif kind == "tls_reset":
            reset(connect(timeout=10))
        elif kind == "reset_mid_request":
            s = connect(timeout=10)
            s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"kind\":")
            reset(s)
        elif i % 2:
            s = connect(timeout=10)
            s.sendall(request_bytes("GET", "/validate"))
            answer = read_response(s)
            s.close()
            if answer is None or answer[0] != 405:
                raise ValueError(f"GET /validate answered {answer!r}")
            answered += 1
        else:
            uid = f"churn-{worker}-{i}"
            body = dict(template, request=dict(template["request"], uid=uid))
            s = connect(timeout=10)
            s.sendall(request_bytes("POST", "/validate", json.dumps(body).encode(), {"Content-Type": "application/json"}))
            answer = read_response(s)
            s.close()
            response = json.loads(answer[2])["response"] if answer and answer[0] == 200 else None
            if not response or response["uid"] != uid or response["allowed"] is not True:
                raise ValueError(f"/validate {uid} answered {answer!r}")
            answered += 1
    except Exception as e:
        errors.append(f"{kind} #{i}: {e!r}"[:300])
print(json.dumps({"kinds": kinds, "answered": answered, "errors": len(errors), "first_errors": errors[:3]}))
'
churn_start="$(now_us)"
churn_pids=()
for worker in $(seq 1 "$churn_workers"); do
  LUG_PY_TIMEOUT=150 guard_py "$worker" "$churn_per_worker" <<<"$churn_script" >"$LUG_WORK/churn.$worker.json" &
  churn_pids+=($!)
  register_pid $!
done
for pid in "${churn_pids[@]}"; do wait_pid_exit "$pid" 160; done
echo "# (b) $((churn_workers * churn_per_worker)) connections in $(elapsed_since "$churn_start") s"
churn="$(jq -s -c '{requests: (map(.kinds.request) | add), answered: (map(.answered) | add),
  errors: (map(.errors) | add), first_errors: (map(.first_errors) | add)}' "$LUG_WORK"/churn.*.json 2>&1)"
requests=$((churn_workers * churn_per_worker * 6 / 10))
assert_eq "(b) churn: all $requests requests answered correctly, no connection failed" \
  "{\"requests\":$requests,\"answered\":$requests,\"errors\":0,\"first_errors\":[]}" "$churn"
if wait_guard_fds "$churn_fds" 15; then
  pass "(b) after the churn the guard's descriptors are back to $churn_fds"
else
  fail "(b) after the churn the guard's descriptors are back to $churn_fds" "now: $GUARD_FDS"
fi
# One connection's state is a read buffer of 16 to 64 KiB and an OpenSSL connection of tens
# of KiB: keeping even a tenth of it for each of 2000 connections would add over 8 MiB. The
# bound leaves room for what warms up once (allocator arenas and caches, about 1 MiB) and
# does not grow with the count.
rss_limit_kb=$((8 * 1024))
churn_rss_after="$(guard_rss_kb)"
echo "# (b) resident set: ${churn_rss} KiB before the churn, ${churn_rss_after} KiB after"
if [ "$asan_build" = 1 ]; then
  echo "# (b) resident set bound not checked under AddressSanitizer (its quarantine keeps freed memory)"
elif [ -n "$churn_rss_after" ] && [ $((churn_rss_after - churn_rss)) -le "$rss_limit_kb" ]; then
  pass "(b) the resident set grew by $((churn_rss_after - churn_rss)) KiB, at most $rss_limit_kb KiB"
else
  fail "(b) the resident set grows by at most $rss_limit_kb KiB over the churn" \
    "before: $churn_rss KiB, after: ${churn_rss_after:-gone} KiB"
fi
assert_healthy "(b) still serving after the churn"
post_review /validate other-pod.json
assert_eq "(b) a review after the churn is answered" '200 true' "$HTTP_STATUS $(json_value .response.allowed "$RESPONSE_BODY")"

# --- (c) 300 slow clients at once -------------------------------------------------------------------
slow_clients=300
LUG_PY_TIMEOUT=90 guard_py "$slow_clients" "$LUG_WORK/slow.ready" >"$LUG_WORK/slow.json" <<'EOF' &
import selectors
count, ready = int(sys.argv[1]), sys.argv[2]
sockets, errors = [], []
for i in range(count):
    try:
        sockets.append(connect(timeout=30))
    except Exception as e:
        errors.append(f"connect: {e!r}")
first_byte = {}
for s in sockets:
    try:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        first_byte[s] = time.monotonic()
    except Exception as e:
        errors.append(f"send: {e!r}")
open(ready, "w").close()
selector = selectors.DefaultSelector()
for s in first_byte:
    s.setblocking(False)
    selector.register(s, selectors.EVENT_READ)
closed_after = []
deadline = max(first_byte.values(), default=time.monotonic()) + 25
while selector.get_map() and time.monotonic() < deadline:
    for key, _ in selector.select(timeout=1):
        s = key.fileobj
        try:
            if s.recv(4096):
                continue  # an answer instead of a close: counted below as still open
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            continue  # TLS 1.3 session tickets, no application data
        except CLOSED_ERRORS:
            pass
        closed_after.append(time.monotonic() - first_byte[s])
        selector.unregister(s)
        s.close()
print(json.dumps({"opened": len(first_byte), "closed": len(closed_after), "still_open": len(selector.get_map()),
                  "min": round(min(closed_after, default=0), 2), "max": round(max(closed_after, default=0), 2),
                  "errors": errors[:5]}))
EOF
slow_pid=$!
register_pid "$slow_pid"
if wait_for_file "$LUG_WORK/slow.ready" 60; then
  served=0
  for i in 1 2 3 4 5; do
    post_review /validate other-pod.json
    if [ "$HTTP_STATUS" = 200 ] && [ "$(json_value '[.response.uid, .response.allowed]' "$RESPONSE_BODY")" = \
      '["705ab4f5-6393-11e8-b7cc-42010a800002",true]' ]; then
      served=$((served + 1))
    else
      echo "# review $i while $slow_clients clients stall: HTTP $HTTP_STATUS (curl exit $CURL_EXIT) $(head -c 200 "$RESPONSE_BODY")"
    fi
    sleep 1.5
  done
  assert_eq "(c) while $slow_clients clients stall: 5 of 5 ordinary reviews answered 200, allowed, uid echoed" 5 "$served"
else
  fail "(c) the $slow_clients slow clients connected and sent their first bytes within 60 s"
fi
wait_pid_exit "$slow_pid" 60
slow="$(cat "$LUG_WORK/slow.json")"
assert_eq "(c) all $slow_clients slow clients connected and sent part of their headers" \
  "$slow_clients []" "$(jq -r '"\(.opened) \(.errors)"' <<<"$slow" 2>&1)"
assert_eq "(c) the server closed every one of them" "$slow_clients 0" "$(jq -r '"\(.closed) \(.still_open)"' <<<"$slow" 2>&1)"
assert_seconds_between "(c) the first was closed about ${header_timeout} s after its first byte" 8 16 "$(jq -r .min <<<"$slow")"
assert_seconds_between "(c) the last was closed about ${header_timeout} s after its first byte" 8 16 "$(jq -r .max <<<"$slow")"
assert_healthy "(c) still serving after the slow clients"

# --- (d) 3000 idle connections ------------------------------------------------------------------------
idle_total=3000
idle_tls=200
wait_guard_fds "$baseline_fds" 15 >/dev/null
LUG_PY_TIMEOUT=90 guard_py "$GUARD_PID" "$idle_total" "$idle_tls" >"$LUG_WORK/idle.json" <<'EOF'
import errno, resource, selectors, threading
pid, total, tls_count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = total + 64
if soft != resource.RLIM_INFINITY and soft < need:
    if hard != resource.RLIM_INFINITY and hard < need:
        print(json.dumps({"skip": f"this test process may open at most {hard} files (hard limit), {need} needed"}))
        sys.exit()
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

peak = {"fds": 0, "gone": False}
stop = threading.Event()
def sample():
    while not stop.is_set():
        try:
            peak["fds"] = max(peak["fds"], len(os.listdir(f"/proc/{pid}/fd")))
        except FileNotFoundError:
            peak["gone"] = True
            return
        time.sleep(0.005)
sampler = threading.Thread(target=sample)
sampler.start()

tls, plain, not_connected = [], [], 0
first_connect = time.monotonic()
for i in range(tls_count):
    try:
        tls.append(connect(timeout=10))
    except Exception:
        not_connected += 1
# The rest: plain TCP, all connecting at once (non-blocking), never sending a byte.
selector = selectors.DefaultSelector()
for i in range(total - tls_count):
    s = socket.socket()
    s.setblocking(False)
    if s.connect_ex((HOST, PORT)) in (0, errno.EINPROGRESS):
        selector.register(s, selectors.EVENT_WRITE)
    else:
        s.close()
        not_connected += 1
deadline = time.monotonic() + 15
while selector.get_map() and time.monotonic() < deadline:
    for key, _ in selector.select(timeout=0.5):
        s = key.fileobj
        selector.unregister(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            plain.append(s)
        else:
            s.close()
            not_connected += 1
for key in list(selector.get_map().values()):
    key.fileobj.close()
    not_connected += 1
time.sleep(2)  # the server accepts what the kernel queued and closes what it cannot keep

def still_open(s):
    try:
        s.setblocking(False)
        return bool(s.recv(1))  # data would be unexpected, but the connection is open
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return True
    except CLOSED_ERRORS:
        return False
held = sum(1 for s in tls + plain if still_open(s))
held_age = time.monotonic() - first_connect
# The kubelet's probe while the webhook port is full: its own listener still answers.
probe = "no probe port"
if PROBE_PORT:
    try:
        p = connect_plain(timeout=5, port=PROBE_PORT)
        p.sendall(request_bytes("GET", "/healthz"))
        answer = read_response(p)
        probe = answer[0] if answer else "closed"
        p.close()
    except Exception as e:
        probe = f"{type(e).__name__}: {e}"
for s in tls + plain:
    s.close()
time.sleep(0.5)
stop.set()
sampler.join()
print(json.dumps({"tls": len(tls), "plain": len(plain), "not_connected": not_connected, "held": held, "probe": probe,
                  "held_age": round(held_age, 1), "peak_fds": peak["fds"], "gone": peak["gone"]}))
EOF
idle="$(cat "$LUG_WORK/idle.json")"
skip="$(json_value '.skip // empty' "$LUG_WORK/idle.json")"
if [ -n "$skip" ]; then
  echo "# (d) SKIPPED: $skip"
else
  echo "# (d) $idle"
  assert_eq "(d) the first $idle_tls idle connections all completed their TLS handshake" \
    "$idle_tls" "$(jq -r .tls <<<"$idle" 2>&1)"
  assert_eq "(d) the guard stayed up throughout" false "$(jq -r .gone <<<"$idle" 2>&1)"
  peak_fds="$(jq -r .peak_fds <<<"$idle")"
  bound=$((baseline_fds + max_connections + fd_slack))
  if [ -n "$peak_fds" ] && [ "$peak_fds" -gt "$baseline_fds" ] && [ "$peak_fds" -le "$bound" ]; then
    pass "(d) the guard's descriptors peaked at $peak_fds, within its $baseline_fds at rest + $max_connections connections + $fd_slack"
  else
    fail "(d) the guard's descriptors stay within $baseline_fds at rest + $max_connections connections + $fd_slack = $bound" \
      "peak: $peak_fds" "$idle"
  fi
  # Counted by the client, held_age seconds after its first connection: before the
  # 10 s handshake and header timeouts can have closed any, the server holds exactly
  # max_connections of them; later, at most that.
  if [ "$(seconds_to_us "$(jq -r .held_age <<<"$idle")")" -lt "$(seconds_to_us $((header_timeout - 1)))" ]; then
    assert_eq "(d) the server kept exactly $max_connections connections open and closed the rest" \
      "$max_connections" "$(jq -r .held <<<"$idle")"
  else
    echo "# (d) connecting took too long to count held connections before the server's own timeouts"
    assert_eq "(d) the server kept at most $max_connections connections open" true \
      "$(jq --argjson cap "$max_connections" '.held <= $cap' <<<"$idle")"
  fi
fi
  assert_eq "(d) while the webhook port is full, /healthz on the probe port answers 200" 200 \
    "$(jq -r .probe <<<"$idle")"
assert_true "(d) the guard is still running" kill -0 "$GUARD_PID"
assert_eq "(d) no file-descriptor exhaustion was logged" 0 "$(grep -c -i -E 'too many open files|EMFILE' "$GUARD_LOG")"
assert_eq "(d) no accept failed" 0 "$(count_log '.msg == "accept failed"')"
if wait_guard_fds "$baseline_fds" 15; then
  pass "(d) once the clients close, the guard's descriptors are back to $baseline_fds"
else
  fail "(d) once the clients close, the guard's descriptors are back to $baseline_fds" "now: $GUARD_FDS"
fi
assert_healthy "(d) serving again at once after the idle connections are closed"

assert_eq "no error was logged through all of the above" 0 "$(count_log '.level == "error"')"
assert_log_json_lines "every log line is still one JSON object with time, level, msg"
stop_guard TERM 30
assert_eq "exits 0 on SIGTERM after all of the above" 0 "$GUARD_EXIT"
finish
