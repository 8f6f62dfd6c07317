# Helpers for the serving-certificate tests (test_cert_reload.sh, test_cert_rotation_load.sh).
# Sourced after lib.sh and gen_test_pki. publish writes into $volume (a directory laid out
# like a mounted Secret); wait_served and assert_served give up after $reload_deadline seconds and sets
# WAITED. Both are set by the sourcing script.

# publish CERT KEY: the Secret volume $volume is updated to CERT and KEY as the kubelet does.
publish() {
  kubelet_publish "$volume" tls.crt="$1" tls.key="$2"
}

# make_leaf NAME [OPENSSL_X509_ARGS...]: an EC key and a serving certificate for
# localhost/127.0.0.1 signed by the test CA, in $PKI_DIR/NAME.{key,crt}; valid 7 days
# unless the arguments say otherwise (-days -1 makes one that expired yesterday).
make_leaf() {
  local name="$1"
  shift
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$name.key" 2>/dev/null &&
    openssl req -new -config "$PKI_DIR/openssl.cnf" -key "$PKI_DIR/$name.key" \
      -subj "/O=longhorn-uninstall-guard tests/CN=$name" -out "$PKI_DIR/$name.csr" 2>/dev/null &&
    openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_CA" -CAkey "$PKI_DIR/ca.key" \
      -set_serial "0x$(openssl rand -hex 12)" -days 7 -extfile "$PKI_DIR/openssl.cnf" -extensions server_ext \
      -out "$PKI_DIR/$name.crt" "$@" 2>/dev/null
}

# fingerprint FILE: the certificate's SHA-256 fingerprint, hex without colons.
fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :
}

# served: the fingerprint of the certificate a new TLS handshake gets (not verified, so
# an expired one is shown too); empty when the handshake fails.
served() {
  timeout 10 openssl s_client -connect "127.0.0.1:$GUARD_PORT" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2 | tr -d :
}

# wait_served FINGERPRINT: polls new handshakes until they get FINGERPRINT, at most
# $reload_deadline seconds; sets WAITED to the seconds it took. Returns 1 on timeout.
wait_served() {
  local start
  start="$(now_us)"
  while :; do
    if [ "$(served)" = "$1" ]; then
      WAITED="$(elapsed_since "$start")"
      return 0
    fi
    [ "$(seconds_to_us "$(elapsed_since "$start")")" -gt "$(seconds_to_us "$reload_deadline")" ] && break
    sleep 0.2
  done
  WAITED="$(elapsed_since "$start")"
  return 1
}

# assert_served DESCRIPTION FINGERPRINT: new handshakes get FINGERPRINT within
# $reload_deadline seconds (wait_served); the check says how long that took.
assert_served() {
  if wait_served "$2"; then
    pass "$1 (${WAITED}s after the swap)"
  else
    fail "$1 within ${reload_deadline}s" "served: $(served)"
  fi
}
