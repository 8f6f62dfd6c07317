#!/usr/bin/env bash
# Serving certificate hot reload. The guard serves from a directory laid out like a
# Kubernetes Secret volume (tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/), and the
# test swaps ..data the way kubelet does. New handshakes must get a new pair within the
# check interval (2 s), a keep-alive connection opened before must keep working, a bad
# pair must be logged once and the previous certificate kept, and /readyz must answer 503
# once the certificate in use has expired. The metrics listener runs with --metrics-tls,
# so it serves the same pair as the webhook port.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish

# The watcher checks every 2 s; a swap must show within two checks plus slack for a
# loaded CI machine.
reload_deadline=8

volume="$LUG_WORK/secret"
mkdir -p "$volume"
source "$(dirname "${BASH_SOURCE[0]}")/cert_lib.sh"

# make_short_leaf NAME SECONDS: like make_leaf, but expiring SECONDS from now (openssl ca
# is the CLI that takes an exact end date).
make_short_leaf() {
  local name="$1" seconds="$2" ca="$LUG_WORK/ca"
  mkdir -p "$ca/certs"
  : >"$ca/index.txt"
  [ -f "$ca/serial" ] || openssl rand -hex 12 >"$ca/serial"
  cat >"$ca/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
database = $ca/index.txt
serial = $ca/serial
new_certs_dir = $ca/certs
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
EOF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$name.key" 2>/dev/null &&
    openssl req -new -config "$PKI_DIR/openssl.cnf" -key "$PKI_DIR/$name.key" -subj "/CN=$name" \
      -out "$PKI_DIR/$name.csr" 2>/dev/null &&
    openssl ca -batch -notext -config "$ca/ca.cnf" -cert "$PKI_CA" -keyfile "$PKI_DIR/ca.key" \
      -in "$PKI_DIR/$name.csr" -out "$PKI_DIR/$name.crt" \
      -startdate "$(date -u -d '-1 minute' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "+$seconds seconds" +%Y%m%d%H%M%SZ)" \
      -extfile "$PKI_DIR/openssl.cnf" -extensions server_ext >/dev/null 2>&1
}

refusals() {
  count_log '.msg == "serving certificate not reloaded; still serving the previous one"'
}
# wait_refusals N: polls (every 0.1 s, at most $reload_deadline s) until N refusals are logged.
wait_refusals() {
  for _ in $(seq 1 $((reload_deadline * 10))); do
    [ "$(refusals)" -ge "$1" ] && return 0
    sleep 0.1
  done
}

for leaf in second third fourth; do
  make_leaf "$leaf" || { fail "openssl could not make the $leaf certificate"; finish; }
done
make_leaf expired -days -1 || { fail "openssl could not make an expired certificate"; finish; }

# --- start-up --------------------------------------------------------------------------------
PKI_SERVER_CERT="$PKI_DIR/expired.crt" PKI_SERVER_KEY="$PKI_DIR/expired.key" guard_serve_args
run_cli 10 "${GUARD_SERVE_ARGS[@]}"
assert_eq "an expired certificate at start-up: exits 1" 1 "$CLI_EXIT"
assert_contains "an expired certificate at start-up: the message says so" "expired at" "$CLI_STDERR"

publish "$PKI_SERVER_CERT" "$PKI_SERVER_KEY"
PKI_SERVER_CERT="$volume/tls.crt" PKI_SERVER_KEY="$volume/tls.key"
start_guard --metrics-tls || finish
first="$(fingerprint "$PKI_DIR/server.crt")"
assert_eq "the first pair is served" "$first" "$(served)"
listening="$(wait_for_log '.msg == "listening"' 1)"
assert_eq "the listening line names the certificate's serial" \
  "$(openssl x509 -in "$PKI_DIR/server.crt" -noout -serial | cut -d= -f2)" "$(jq -r .certificate_serial <<<"$listening")"

# --- a keep-alive connection opened before the swap --------------------------------------
keepalive_out="$LUG_WORK/keepalive.out"
guard_py "$LUG_WORK" >"$keepalive_out" 2>&1 <<'EOF' &
import hashlib
go = os.path.join(sys.argv[1], "go")
s = connect(timeout=30)
fingerprint = lambda: hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest().upper()
s.sendall(request_bytes("GET", "/validate"))
print("first", read_response(s)[0], fingerprint(), flush=True)
deadline = time.monotonic() + 40
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
s.sendall(request_bytes("GET", "/mutate"))
response = read_response(s)
print("second", response and response[0], fingerprint(), flush=True)
EOF
keepalive_pid=$!
register_pid "$keepalive_pid"
for _ in $(seq 1 100); do
  grep -q '^first' "$keepalive_out" && break
  sleep 0.05
done
assert_eq "the keep-alive connection is served the first pair" "first 405 $first" "$(grep '^first' "$keepalive_out")"

# --- a new pair --------------------------------------------------------------------------------
second="$(fingerprint "$PKI_DIR/second.crt")"
publish "$PKI_DIR/second.crt" "$PKI_DIR/second.key"
assert_served "after the ..data swap, new handshakes get the new pair" "$second"
assert_log "the reload is logged with the new serial" \
  ".msg == \"serving certificate reloaded\" and .serial == \"$(openssl x509 -in "$PKI_DIR/second.crt" -noout -serial | cut -d= -f2)\""
post_review /validate other-pod.json
assert_eq "a client verifying against the CA accepts the new pair" 200 "$HTTP_STATUS"
assert_eq "the metrics port (--metrics-tls) serves the new pair too" "$second" \
  "$(timeout 10 openssl s_client -connect "127.0.0.1:$GUARD_METRICS_PORT" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2 | tr -d :)"

touch "$LUG_WORK/go"
wait_pid_exit "$keepalive_pid" 15
assert_eq "the keep-alive connection opened before the swap still works, on its first pair" \
  "second 405 $first" "$(grep '^second' "$keepalive_out" || cat "$keepalive_out")"

# --- bad pairs: refused, logged once, the previous pair kept ---------------------------------
publish "$PKI_DIR/third.crt" "$PKI_DIR/second.key"
if wait_for_log '.msg == "serving certificate not reloaded; still serving the previous one"' "$reload_deadline" >/dev/null; then
  pass "a certificate with another pair's key is refused and logged"
else
  fail "a certificate with another pair's key is refused and logged" "log tail: $(tail -n 5 "$GUARD_LOG")"
fi
assert_log "the refusal says why" '.msg == "serving certificate not reloaded; still serving the previous one" and (.error | test("does not match"))'
assert_eq "the previous pair is still served" "$second" "$(served)"
sleep 4.5  # two more checks of the same bad files
assert_eq "the same bad pair is logged once, not at every check" 1 "$(refusals)"

printf 'not a certificate\n' >"$LUG_WORK/garbage.crt"
publish "$LUG_WORK/garbage.crt" "$PKI_DIR/third.key"
wait_refusals 2
assert_eq "a certificate that is not PEM is refused" 2 "$(refusals)"
assert_eq "the previous pair is still served after the garbage" "$second" "$(served)"

publish "$PKI_DIR/expired.crt" "$PKI_DIR/expired.key"
wait_refusals 3
assert_eq "an expired certificate is refused" 3 "$(refusals)"
assert_log "the refusal says it expired" '.msg == "serving certificate not reloaded; still serving the previous one" and (.error | test("expired at"))'
assert_eq "the previous pair is still served after the expired one" "$second" "$(served)"

probe_request GET /readyz
assert_eq "still ready while serving the previous valid pair" 200 "$HTTP_STATUS"
metrics_request GET /metrics
assert_match "metrics are served over TLS with --metrics-tls" '^https://' "$GUARD_METRICS_URL"
assert_match "metrics count one reload" '(^|'$'\n'')longhorn_uninstall_guard_certificate_reloads_total 1'$'\n' "$(cat "$RESPONSE_BODY")"
assert_match "metrics count three refused pairs" '(^|'$'\n'')longhorn_uninstall_guard_certificate_reload_errors_total 3'$'\n' "$(cat "$RESPONSE_BODY")"

# --- a good pair after bad ones ------------------------------------------------------------
fourth="$(fingerprint "$PKI_DIR/fourth.crt")"
publish "$PKI_DIR/fourth.crt" "$PKI_DIR/fourth.key"
assert_served "a good pair after bad ones is loaded" "$fourth"

# --- readiness follows the certificate's validity ------------------------------------------
lifetime=6
if make_short_leaf short "$lifetime"; then
  expires="$(date -u -d "$(openssl x509 -in "$PKI_DIR/short.crt" -noout -enddate | cut -d= -f2)" +%s)"
  publish "$PKI_DIR/short.crt" "$PKI_DIR/short.key"
  assert_served "a certificate valid for ${lifetime}s more is loaded" "$(fingerprint "$PKI_DIR/short.crt")"
  while [ "$(date -u +%s)" -le "$expires" ]; do sleep 0.2; done
  probe_request GET /readyz
  assert_status_response "/readyz once the certificate in use has expired" 503
  assert_json '.message | test("expired at")' true "$RESPONSE_BODY" "the 503 says the certificate expired"
  probe_request GET /healthz
  assert_eq "/healthz stays 200: the process is alive" 200 "$HTTP_STATUS"

  publish "$PKI_DIR/second.crt" "$PKI_DIR/second.key"
  ready=000
  for _ in $(seq 1 $((reload_deadline * 5))); do
    probe_request GET /readyz
    ready="$HTTP_STATUS"
    [ "$ready" = 200 ] && break
    sleep 0.2
  done
  assert_eq "/readyz is 200 again once a valid pair appears" 200 "$ready"
else
  fail "openssl ca could not make a short-lived certificate"
fi

stop_guard
assert_eq "the guard stops cleanly" 0 "$GUARD_EXIT"
finish
