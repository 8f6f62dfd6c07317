#!/usr/bin/env bash
# certs/generate.sh: the certificates it makes (names, chain, keys, validity), what a
# second run keeps and replaces, how it refuses bad input, and that the guard serves the
# result to a client that dials the Service's DNS names.
#
#   test_generate_certs.sh PATH_TO_longhorn-uninstall-guard
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
setup_test "$@"
GENERATE="$LUG_ROOT/certs/generate.sh"

# run_generate ARGS... : runs generate.sh; sets GEN_EXIT, GEN_OUT (stdout), GEN_ERR (stderr).
run_generate() {
  env -u LUG_NAMESPACE -u LUG_SERVICE -u LUG_CLUSTER_DOMAIN -u LUG_CERT_DAYS -u LUG_CA_DAYS -u LUG_KEY_TYPE \
    "${GEN_ENV[@]}" timeout 60 bash "$GENERATE" "$@" >"$LUG_WORK/gen.out" 2>"$LUG_WORK/gen.err"
  GEN_EXIT=$?
  GEN_OUT="$(cat "$LUG_WORK/gen.out")"
  GEN_ERR="$(cat "$LUG_WORK/gen.err")"
}
GEN_ENV=()

# sans CERT : the certificate's subjectAltName entries, one per line, sorted.
sans() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' | sed 's/^ *//' | sort
}

# expected_sans SERVICE NAMESPACE [DOMAIN]
expected_sans() {
  local s="$1" n="$2" d="${3:-cluster.local}"
  printf 'DNS:%s\n' "$s" "$s.$n" "$s.$n.svc" "$s.$n.svc.$d" | sort
}

# days_left CERT : whole days until notAfter.
days_left() {
  local end
  end="$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)"
  echo $((($(date -d "$end" +%s) - $(date +%s)) / 86400))
}

fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null
}

serial() {
  openssl x509 -in "$1" -noout -serial 2>/dev/null
}

mode_of() {
  stat -c '%a' "$1" 2>/dev/null
}

# pubkey_of_key KEY / pubkey_of_cert CERT : the public key, PEM, for comparison.
pubkey_of_key() {
  openssl pkey -in "$1" -pubout 2>/dev/null
}
pubkey_of_cert() {
  openssl x509 -in "$1" -noout -pubkey 2>/dev/null
}

# --- defaults ---------------------------------------------------------------------------
out="$LUG_WORK/default"
run_generate "$out"
assert_eq "generate.sh with defaults exits 0" 0 "$GEN_EXIT"
for file in ca.crt ca.key tls.crt tls.key; do
  assert_true "it writes $file" test -s "$out/$file"
done
assert_eq "nothing else is left in OUT_DIR (no temp files, no CSR)" "ca.crt ca.key tls.crt tls.key" \
  "$(cd "$out" && ls -A | sort | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the serving certificate's SANs are the Service's four DNS names" \
  "$(expected_sans longhorn-uninstall-guard longhorn-uninstall-guard)" "$(sans "$out/tls.crt")"
assert_true "the CA verifies the serving certificate for TLS server use" \
  openssl verify -CAfile "$out/ca.crt" -purpose sslserver "$out/tls.crt"
for name in longhorn-uninstall-guard.longhorn-uninstall-guard.svc longhorn-uninstall-guard.longhorn-uninstall-guard.svc.cluster.local; do
  assert_true "the certificate verifies for the host name $name" \
    openssl verify -CAfile "$out/ca.crt" -verify_hostname "$name" "$out/tls.crt"
done
assert_eq "the certificate does not verify for another Service's name" 2 \
  "$(openssl verify -CAfile "$out/ca.crt" -verify_hostname other.longhorn-uninstall-guard.svc "$out/tls.crt" >/dev/null 2>&1; echo $?)"
text="$(openssl x509 -in "$out/tls.crt" -noout -text)"
assert_contains "the serving certificate is for TLS servers (extendedKeyUsage serverAuth)" "TLS Web Server Authentication" "$text"
assert_match "the serving certificate is not a CA" 'CA:FALSE' "$text"
ca_text="$(openssl x509 -in "$out/ca.crt" -noout -text)"
assert_match "the CA is a CA that may sign only leaves (pathlen:0)" 'CA:TRUE, pathlen:0' "$ca_text"
assert_eq "the CA is not signed by anything else (self-signed root)" \
  "$(openssl x509 -in "$out/ca.crt" -noout -subject | sed 's/^subject=//')" \
  "$(openssl x509 -in "$out/ca.crt" -noout -issuer | sed 's/^issuer=//')"
assert_eq "tls.key is mode 0600" 600 "$(mode_of "$out/tls.key")"
assert_eq "ca.key is mode 0600" 600 "$(mode_of "$out/ca.key")"
assert_eq "tls.crt is mode 0644 (public)" 644 "$(mode_of "$out/tls.crt")"
assert_eq "tls.key is the key of tls.crt" "$(pubkey_of_cert "$out/tls.crt")" "$(pubkey_of_key "$out/tls.key")"
assert_eq "ca.key is the key of ca.crt" "$(pubkey_of_cert "$out/ca.crt")" "$(pubkey_of_key "$out/ca.key")"
assert_match "default keys are RSA 2048" 'Public-Key: \(2048 bit\)' "$text"
left="$(days_left "$out/tls.crt")"
assert_true "the serving certificate is valid for 365 days by default (got $left)" test "$left" -ge 364 -a "$left" -le 365
left="$(days_left "$out/ca.crt")"
assert_true "the CA is valid for 3650 days by default (got $left)" test "$left" -ge 3649 -a "$left" -le 3650
assert_contains "it prints how to install with the files" "kubectl apply -k manifests/overlays/static-certs" "$GEN_OUT"
assert_contains "it prints where the serving certificate is" "$out/tls.crt" "$GEN_OUT"

# --- a second run: the CA stays, the serving pair is new ----------------------------------
ca_before="$(fingerprint "$out/ca.crt")"
ca_key_before="$(sha256sum <"$out/ca.key")"
serial_before="$(serial "$out/tls.crt")"
key_before="$(sha256sum <"$out/tls.key")"
run_generate "$out"
assert_eq "a second run exits 0" 0 "$GEN_EXIT"
assert_eq "a second run keeps the CA (so the caBundle does not change)" "$ca_before" "$(fingerprint "$out/ca.crt")"
assert_eq "a second run keeps the CA key" "$ca_key_before" "$(sha256sum <"$out/ca.key")"
assert_ne "a second run issues a new serving certificate" "$serial_before" "$(serial "$out/tls.crt")"
assert_ne "a second run makes a new serving key" "$key_before" "$(sha256sum <"$out/tls.key")"
assert_true "the renewed certificate verifies with the kept CA" openssl verify -CAfile "$out/ca.crt" "$out/tls.crt"
assert_eq "the renewed key matches the renewed certificate" "$(pubkey_of_cert "$out/tls.crt")" "$(pubkey_of_key "$out/tls.key")"
assert_eq "the renewed key is still mode 0600" 600 "$(mode_of "$out/tls.key")"
assert_contains "a second run says the CA was kept" "CA (kept)" "$GEN_OUT"

run_generate --new-ca "$out"
assert_eq "--new-ca exits 0" 0 "$GEN_EXIT"
assert_ne "--new-ca replaces the CA" "$ca_before" "$(fingerprint "$out/ca.crt")"
assert_true "the new CA verifies the new certificate" openssl verify -CAfile "$out/ca.crt" "$out/tls.crt"
assert_eq "ca.key is still mode 0600 after --new-ca" 600 "$(mode_of "$out/ca.key")"

# --- options and their environment variables ------------------------------------------
custom="$LUG_WORK/custom"
run_generate --namespace guard-ns --service=hook --cluster-domain example.internal --days 30 --ca-days 90 \
  --key-type ec "$custom"
assert_eq "generate.sh with every option exits 0" 0 "$GEN_EXIT"
assert_eq "--namespace, --service and --cluster-domain make the SANs" \
  "$(expected_sans hook guard-ns example.internal)" "$(sans "$custom/tls.crt")"
left="$(days_left "$custom/tls.crt")"
assert_true "--days 30 gives a certificate valid for 30 days (got $left)" test "$left" -ge 29 -a "$left" -le 30
left="$(days_left "$custom/ca.crt")"
assert_true "--ca-days 90 gives a CA valid for 90 days (got $left)" test "$left" -ge 89 -a "$left" -le 90
assert_match "--key-type ec makes ECDSA P-256 keys" 'ASN1 OID: prime256v1' "$(openssl x509 -in "$custom/tls.crt" -noout -text)"
assert_not_contains "an ECDSA certificate does not claim keyEncipherment" "Key Encipherment" \
  "$(openssl x509 -in "$custom/tls.crt" -noout -text)"
assert_eq "the EC key matches its certificate" "$(pubkey_of_cert "$custom/tls.crt")" "$(pubkey_of_key "$custom/tls.key")"
assert_contains "a non-default Service name gets a note that the manifests must match" "only work where" "$GEN_OUT"

from_env="$LUG_WORK/from-env"
GEN_ENV=(LUG_NAMESPACE=env-ns LUG_SERVICE=env-svc LUG_CERT_DAYS=10)
run_generate "$from_env"
GEN_ENV=()
assert_eq "generate.sh configured by the environment exits 0" 0 "$GEN_EXIT"
assert_eq "LUG_NAMESPACE and LUG_SERVICE make the SANs" "$(expected_sans env-svc env-ns)" "$(sans "$from_env/tls.crt")"
left="$(days_left "$from_env/tls.crt")"
assert_true "LUG_CERT_DAYS=10 gives 10 days (got $left)" test "$left" -ge 9 -a "$left" -le 10
GEN_ENV=(LUG_NAMESPACE=env-ns)
run_generate --namespace flag-ns "$LUG_WORK/flag-wins"
GEN_ENV=()
assert_eq "a flag wins over its environment variable" "$(expected_sans longhorn-uninstall-guard flag-ns)" \
  "$(sans "$LUG_WORK/flag-wins/tls.crt")"

# --- refusals: nothing is written, and what was there stays -----------------------------
for bad in "--namespace Bad_NS" "--service -x" "--days 0" "--days ten" "--key-type dsa" "--bogus" "--days"; do
  # shellcheck disable=SC2086 # word splitting of $bad on purpose
  run_generate $bad "$LUG_WORK/refused"
  assert_eq "'$bad' is refused with exit 2" 2 "$GEN_EXIT"
  assert_true "'$bad' writes nothing" test ! -e "$LUG_WORK/refused"
done
run_generate "$LUG_WORK/one" "$LUG_WORK/two"
assert_eq "two OUT_DIRs are refused with exit 2" 2 "$GEN_EXIT"
run_generate --days 400 --ca-days 100 "$LUG_WORK/refused"
assert_eq "a certificate outliving a new CA is refused with exit 2" 2 "$GEN_EXIT"
assert_contains "and the message says why" "outlive" "$GEN_ERR"
cert_before="$(fingerprint "$custom/tls.crt")"
run_generate --days 200 "$custom"
assert_eq "a certificate outliving the kept CA (90 days) is refused" 1 "$GEN_EXIT"
assert_contains "and the message suggests --new-ca" "--new-ca" "$GEN_ERR"
assert_eq "the refused run leaves the old certificate in place" "$cert_before" "$(fingerprint "$custom/tls.crt")"
assert_eq "the refused run leaves no temp files" "ca.crt ca.key tls.crt tls.key" \
  "$(cd "$custom" && ls -A | sort | tr '\n' ' ' | sed 's/ $//')"

mismatch="$LUG_WORK/mismatch"
run_generate "$mismatch"
cp "$custom/ca.key" "$mismatch/ca.key"
run_generate "$mismatch"
assert_eq "a ca.key that is not ca.crt's key is refused" 1 "$GEN_EXIT"

# --- the default OUT_DIR is the static-certs overlay's generated/ ------------------------
# Run on a copy of the script so that the repository's own overlay is never touched.
mkdir -p "$LUG_WORK/repo/certs" "$LUG_WORK/repo/manifests/overlays/static-certs"
cp "$GENERATE" "$LUG_WORK/repo/certs/generate.sh"
GENERATE="$LUG_WORK/repo/certs/generate.sh"
run_generate
GENERATE="$LUG_ROOT/certs/generate.sh"
assert_eq "without OUT_DIR it exits 0" 0 "$GEN_EXIT"
assert_true "without OUT_DIR it writes manifests/overlays/static-certs/generated/" \
  test -s "$LUG_WORK/repo/manifests/overlays/static-certs/generated/tls.crt"
assert_true "the repository's .gitignore keeps generated/ out of git" \
  git -C "$LUG_ROOT" check-ignore -q manifests/overlays/static-certs/generated/tls.key

# --- the guard serves the generated certificate under the Service's names ----------------
export PKI_CA="$out/ca.crt" PKI_SERVER_CERT="$out/tls.crt" PKI_SERVER_KEY="$out/tls.key"
if start_guard; then
  for host in longhorn-uninstall-guard.longhorn-uninstall-guard.svc \
    longhorn-uninstall-guard.longhorn-uninstall-guard.svc.cluster.local; do
    code="$(curl -sS --max-time 10 --cacert "$out/ca.crt" --resolve "$host:$GUARD_PORT:127.0.0.1" \
      -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "@$LUG_FIXTURES/other-pod.json" "https://$host:$GUARD_PORT/validate" 2>&1)"
    assert_eq "curl --cacert ca.crt https://$host/validate answers 200" 200 "$code"
  done
  code="$(curl -sS --max-time 10 --cacert "$custom/ca.crt" \
    --resolve "longhorn-uninstall-guard.longhorn-uninstall-guard.svc:$GUARD_PORT:127.0.0.1" -o /dev/null \
    -w '%{http_code}' "https://longhorn-uninstall-guard.longhorn-uninstall-guard.svc:$GUARD_PORT/validate" 2>/dev/null)"
  assert_eq "a client trusting another CA is refused (no answer)" 000 "$code"
  code="$(curl -sS --max-time 10 --cacert "$out/ca.crt" --resolve "other.example:$GUARD_PORT:127.0.0.1" \
    -o /dev/null -w '%{http_code}' "https://other.example:$GUARD_PORT/validate" 2>/dev/null)"
  assert_eq "a client dialling a name not in the SANs is refused (no answer)" 000 "$code"
fi

finish
