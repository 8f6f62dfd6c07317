#!/usr/bin/env bash
# The serving certificate rotated under load. Three clients post reviews without pause
# over one keep-alive connection each, and three more open a new connection for every
# review, while the certificate and key are replaced twice (each time by a new pair
# signed by the same test CA, swapped into a Secret-volume layout the way kubelet does;
# see test_cert_reload.sh). Every review during the run must be answered correctly;
# new connections must get each new certificate once it is loaded, and never an older
# one after that; keep-alive connections carry on undisturbed on the pair they began
# with; and the guard's descriptors come back to where they were.
#
# Usage: tests/integration/test_cert_rotation_load.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 15 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" ec || finish

# The watcher checks the files every 2 s; a swap must show within two checks plus slack
# for a loaded CI machine.
reload_deadline=8
# How long the load runs on each certificate once new handshakes get it.
load_per_certificate=2

volume="$LUG_WORK/secret"
mkdir -p "$volume"
source "$(dirname "${BASH_SOURCE[0]}")/cert_lib.sh"

for leaf in second third; do
  make_leaf "$leaf" || { fail "openssl could not make the $leaf certificate"; finish; }
done
first="$(fingerprint "$PKI_SERVER_CERT")"
second="$(fingerprint "$PKI_DIR/second.crt")"
third="$(fingerprint "$PKI_DIR/third.crt")"

publish "$PKI_SERVER_CERT" "$PKI_SERVER_KEY"
PKI_SERVER_CERT="$volume/tls.crt" PKI_SERVER_KEY="$volume/tls.key"
start_guard || finish
assert_eq "the first pair is served" "$first" "$(served)"
wait_guard_fds 1000 1 >/dev/null
baseline_fds="$(guard_fds)"

# --- the load ----------------------------------------------------------------------------------------
# Each client posts reviews with its own uids until the stop file appears (at most 90 s),
# checking every answer, and records the fingerprint of each connection's certificate.
LUG_PY_TIMEOUT=120 guard_py "$LUG_WORK/stop" "$LUG_WORK/load.ready" >"$LUG_WORK/load.json" <<'EOF' &
import hashlib, threading
stop_file, ready_file = sys.argv[1], sys.argv[2]
template = json.loads(review_body("other-pod.json"))
clients = [{"name": f"keep-alive-{i}", "keep_alive": True} for i in range(3)] + \
          [{"name": f"new-connection-{i}", "keep_alive": False} for i in range(3)]
started = threading.Barrier(len(clients) + 1)

def open_connection(client):
    s = connect(timeout=10)
    client["connections"] += 1
    seen = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest().upper()
    if not client["certificates"] or client["certificates"][-1] != seen:
        client["certificates"].append(seen)
    return s

def run(client):
    client.update(requests=0, answered=0, connections=0, certificates=[], failures=[])
    s = None
    started.wait()
    deadline = time.monotonic() + 90
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        n = client["requests"]
        client["requests"] += 1
        uid = f"{client['name']}-{n}"
        body = json.dumps(dict(template, request=dict(template["request"], uid=uid))).encode()
        try:
            if s is None:
                s = open_connection(client)
            s.sendall(request_bytes("POST", "/validate", body, {"Content-Type": "application/json"}))
            answer = read_response(s)
            response = json.loads(answer[2])["response"] if answer and answer[0] == 200 else None
            if not response or response["uid"] != uid or response["allowed"] is not True:
                raise ValueError(f"answered {answer!r}"[:300])
            client["answered"] += 1
        except Exception as e:
            client["failures"].append(f"{uid}: {e!r}"[:300])
            if s is not None:
                s.close()
            s = None
            continue
        if not client["keep_alive"]:
            s.close()
            s = None
    if s is not None:
        s.close()

threads = [threading.Thread(target=run, args=(c,)) for c in clients]
for t in threads:
    t.start()
started.wait()
with open(ready_file, "w") as f:
    f.write("running\n")
for t in threads:
    t.join()
print(json.dumps(clients))
EOF
load=$!
register_pid "$load"
deadline=$((SECONDS + 30))
until [ -s "$LUG_WORK/load.ready" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
[ -s "$LUG_WORK/load.ready" ] || fail "the six clients started within 30 s"
sleep "$load_per_certificate"

publish "$PKI_DIR/second.crt" "$PKI_DIR/second.key"
assert_served "under load, new handshakes get the second pair" "$second"
sleep "$load_per_certificate"
publish "$PKI_DIR/third.crt" "$PKI_DIR/third.key"
assert_served "under load, new handshakes get the third pair" "$third"
sleep "$load_per_certificate"
touch "$LUG_WORK/stop"
wait_pid_exit "$load" 30
results="$LUG_WORK/load.json"
echo "# $(jq -r 'map("\(.name): \(.answered)/\(.requests) on \(.connections) connection(s)") | join(", ")' "$results" 2>&1)"

# --- what the clients saw ------------------------------------------------------------------------------
assert_json 'map(.failures) | add' '[]' "$results" "every review during the rotations was answered correctly (no failure)"
assert_json 'map(.requests == .answered and .answered >= 20) | all' true "$results" \
  "each client had at least 20 reviews answered, and all it sent"
assert_json 'map(select(.keep_alive) | [.connections, .certificates]) | unique' "[[1,[\"$first\"]]]" "$results" \
  "each keep-alive client stayed on its one connection, on the first pair, through both swaps"
assert_json 'map(select(.keep_alive | not) | .certificates) | unique' "[[\"$first\",\"$second\",\"$third\"]]" \
  "$results" "each new-connection client got the first, second and third pair in turn, never an older one again"
assert_eq "both reloads are logged" 2 "$(count_log '.msg == "serving certificate reloaded"')"
assert_eq "no pair was refused" 0 "$(count_log '.msg == "serving certificate not reloaded; still serving the previous one"')"

if wait_guard_fds "$baseline_fds" 15; then
  pass "after the load the guard's descriptors are back to $baseline_fds"
else
  fail "after the load the guard's descriptors are back to $baseline_fds" "now: $GUARD_FDS"
fi
assert_healthy "still serving after the rotations"
stop_guard
assert_eq "the guard stops cleanly" 0 "$GUARD_EXIT"
finish
