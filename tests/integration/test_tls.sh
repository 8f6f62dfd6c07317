#!/usr/bin/env bash
# The TLS endpoint: HTTPS only, TLS 1.2 minimum, TLS 1.3 when offered, ALPN http/1.1 only,
# no answer to plain HTTP or garbage, client certificates with --client-ca, RSA and EC keys.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
start_guard || finish

# --- certificate and protocol versions ----------------------------------------------------
assert_healthy "HTTPS on 127.0.0.1 verifies against the test CA (IP SAN)"

by_name="$(curl -sS --max-time 10 --cacert "$PKI_CA" --resolve "localhost:$GUARD_PORT:127.0.0.1" \
  -o /dev/null -w '%{http_code}' "https://localhost:$GUARD_PORT/validate" 2>&1)"
assert_eq "HTTPS by name localhost verifies (DNS SAN); GET /validate is 405" 405 "$by_name"

guard_request GET /validate --tlsv1.2 --tls-max 1.2
assert_eq "a TLS 1.2-only client is served (GET /validate: 405)" 405 "$HTTP_STATUS"

# The client side must really be able to speak TLS 1.1, or refusing it proves nothing:
# OpenSSL 3 clients refuse TLS 1.1 themselves at the default security level. So the same
# client settings are first tried against a local server that allows TLS 1.1.
tls11="$(guard_py "$PKI_SERVER_CERT" "$PKI_SERVER_KEY" <<'EOF'
import threading
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(sys.argv[1], sys.argv[2])
server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
def serve():
    conn, _ = listener.accept()
    try:
        server_ctx.wrap_socket(conn, server_side=True).close()
    except Exception:
        conn.close()
threading.Thread(target=serve, daemon=True).start()
client = dict(min_version=ssl.TLSVersion.TLSv1_1, max_version=ssl.TLSVersion.TLSv1_1,
              ciphers="DEFAULT:@SECLEVEL=0")
try:
    s = connect(port=listener.getsockname()[1], **client)
    control = s.version()
    s.close()
except Exception as e:
    control = f"failed: {e}"
try:
    s = connect(**client)
    s.sendall(request_bytes("GET", "/validate"))
    r = read_response(s)
    guard = f"accepted {s.version()}, status {r and r[0]}"
except Exception as e:
    guard = "refused"
print(json.dumps({"control": control, "guard": guard}))
EOF
)"
if [ "$(jq -r .control <<<"$tls11")" = TLSv1.1 ]; then
  assert_eq "a TLS 1.1 client (able to speak 1.1, shown on a control server) is refused" \
    refused "$(jq -r .guard <<<"$tls11")"
else
  fail "control: this machine's OpenSSL cannot speak TLS 1.1 at SECLEVEL=0, the refusal check proves nothing" "$tls11"
fi

guard_request GET /validate --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0'
assert_eq "curl --tlsv1.1 --tls-max 1.1 gets no answer" 000 "$HTTP_STATUS"
assert_ne "curl --tlsv1.1 --tls-max 1.1 fails" 0 "$CURL_EXIT"

negotiated="$(guard_py <<'EOF'
s = connect()
print(s.version())
EOF
)"
assert_eq "TLS 1.3 is negotiated when the client offers it" TLSv1.3 "$negotiated"

# --- ALPN ---------------------------------------------------------------------------------
alpn="$(guard_py <<'EOF'
out = {}
s = connect(alpn=("h2", "http/1.1"))
out["h2+http/1.1"] = s.selected_alpn_protocol()
s.sendall(request_bytes("GET", "/validate"))
out["status"] = read_response(s)[0]
s.close()
try:
    s = connect(alpn=("h2",))
    out["h2"] = s.selected_alpn_protocol()
    s.close()
except ssl.SSLError as e:
    out["h2"] = "handshake refused"
print(json.dumps(out))
EOF
)"
assert_eq "ALPN: offered h2 and http/1.1, the server selects http/1.1" http/1.1 "$(jq -r '.["h2+http/1.1"]' <<<"$alpn")"
assert_eq "ALPN: the connection then serves HTTP/1.1 (GET /validate: 405)" 405 "$(jq -r .status <<<"$alpn")"
assert_ne "ALPN: offered only h2, the server never selects it" h2 "$(jq -r .h2 <<<"$alpn")"

version="$(curl -sS --max-time 10 --cacert "$PKI_CA" --http2 -o /dev/null -w '%{http_version}' "$GUARD_URL/validate" 2>&1)"
assert_eq "curl --http2 ends up on HTTP/1.1" 1.1 "$version"

# --- not TLS on the TLS port -------------------------------------------------------------
plain="$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GUARD_PORT/validate" 2>/dev/null)"
assert_eq "plain HTTP with curl gets no HTTP answer" 000 "$plain"

raw="$(guard_py <<'EOF'
out = {}
s = connect_plain(timeout=5)
s.sendall(b"GET /validate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
closed, seconds, data = wait_closed(s, 5)
out["plain_http"] = {"closed": closed, "http_answer": data.startswith(b"HTTP/")}
s = connect_plain(timeout=5)
s.sendall(os.urandom(4096))
closed, seconds, data = wait_closed(s, 5)
out["garbage"] = {"closed": closed, "http_answer": data.startswith(b"HTTP/")}
s = connect_plain(timeout=5)
# A complete TLS record holding a complete ClientHello message of 4 bytes: nonsense inside.
s.sendall(b"\x16\x03\x01\x00\x08" + b"\x01\x00\x00\x04" + b"\xff\xff\x00\x00")
closed, seconds, data = wait_closed(s, 5)
out["broken_client_hello"] = {"closed": closed, "http_answer": data.startswith(b"HTTP/")}
print(json.dumps(out))
EOF
)"
for case in plain_http garbage broken_client_hello; do
  assert_eq "$case bytes on the TLS port: connection closed within 5 s, no HTTP answer" \
    '{"closed":true,"http_answer":false}' "$(jq -c ".$case" <<<"$raw")"
done
assert_healthy "still serving after plain HTTP and garbage"

stop_guard
assert_eq "exits 0 on SIGTERM" 0 "$GUARD_EXIT"

# --- client certificates (--client-ca) ---------------------------------------------------
if start_guard --client-ca "$PKI_CLIENT_CA"; then
  guard_request GET /validate
  assert_eq "--client-ca: a client without a certificate gets no answer" 000 "$HTTP_STATUS"
  guard_request GET /validate --tls-max 1.2
  assert_eq "--client-ca: a TLS 1.2 client without a certificate gets no answer" 000 "$HTTP_STATUS"
  guard_request GET /validate --cert "$PKI_OTHER_CERT" --key "$PKI_OTHER_KEY"
  assert_eq "--client-ca: a certificate from another CA gets no answer" 000 "$HTTP_STATUS"
  guard_request GET /validate --cert "$PKI_CLIENT_CERT" --key "$PKI_CLIENT_KEY"
  assert_eq "--client-ca: a certificate signed by the client CA is served (GET /validate: 405)" 405 "$HTTP_STATUS"
  probe_request GET /healthz
  assert_eq "--client-ca: the kubelet's plain-HTTP probe needs no certificate" 200 "$HTTP_STATUS"
  post_review /validate other-pod.json --cert "$PKI_CLIENT_CERT" --key "$PKI_CLIENT_KEY"
  assert_eq "--client-ca: an admission review with a good client certificate is answered" 200 "$HTTP_STATUS"
  handshake="$(guard_py "$PKI_OTHER_CERT" "$PKI_OTHER_KEY" <<'EOF'
out = {}
for name, kwargs in (("none", {}), ("other_ca", {"cert": sys.argv[1], "key": sys.argv[2]})):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        label = f"{name}/{version.name}"
        try:
            s = connect(max_version=version, **kwargs)
            s.sendall(request_bytes("GET", "/validate"))
            r = read_response(s)
            out[label] = "served" if r else "closed"
        except (ssl.SSLError, OSError):
            out[label] = "closed"
print(json.dumps(out, separators=(",", ":")))
EOF
)"
  assert_eq "--client-ca: without a certificate or with a foreign one, no TLS version gets a response" \
    '{"none/TLSv1_2":"closed","none/TLSv1_3":"closed","other_ca/TLSv1_2":"closed","other_ca/TLSv1_3":"closed"}' \
    "$handshake"
  assert_healthy_with_client_cert() {
    post_review /validate other-pod.json --cert "$PKI_CLIENT_CERT" --key "$PKI_CLIENT_KEY"
    assert_eq "$1" 200 "$HTTP_STATUS"
  }
  assert_healthy_with_client_cert "--client-ca: still serving good clients after the refusals"
  stop_guard
  assert_eq "--client-ca: exits 0 on SIGTERM" 0 "$GUARD_EXIT"
fi

# --- an EC (P-256) key, as kube-webhook-certgen issues ------------------------------------
if gen_test_pki "$LUG_WORK/pki-ec" ec && start_guard; then
  assert_healthy "an EC P-256 server key and certificate are served"
  stop_guard
fi

finish
