#!/usr/bin/env bash
# Routing: the known paths and methods of each listener (the webhook port serves only
# /validate and /mutate, the probe port /healthz and /readyz, the metrics port /metrics),
# 404/405 with metav1.Status bodies, HEAD, query strings, the 16 KiB header limit, and
# keep-alive.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
start_guard || finish

# --- the known routes ---------------------------------------------------------------------
probe_request GET /healthz
assert_eq "GET /healthz on the probe port (plain HTTP) is 200" 200 "$HTTP_STATUS"
assert_eq "GET /healthz says ok" "ok" "$(cat "$RESPONSE_BODY")"

# Ready may take a moment after listening (nothing in scope needs the API server, so it
# should not depend on it); poll for up to 10 s.
ready=000
for _ in $(seq 1 20); do
  probe_request GET /readyz
  ready="$HTTP_STATUS"
  [ "$ready" = 200 ] && break
  sleep 0.5
done
assert_eq "GET /readyz becomes 200" 200 "$ready"

for endpoint in validate mutate; do
  post_review "/$endpoint" other-pod.json
  assert_eq "POST /$endpoint with a review is 200" 200 "$HTTP_STATUS"
  assert_json .kind AdmissionReview "$RESPONSE_BODY" "POST /$endpoint answers an AdmissionReview"
done

# /metrics serves Prometheus text (test_metrics.sh checks what is in it).
metrics_request GET /metrics
assert_eq "GET /metrics on the metrics port (plain HTTP) is 200" 200 "$HTTP_STATUS"
assert_match "GET /metrics serves Prometheus text" '^text/plain' "$(response_header content-type)"

# --- each listener serves only its own routes ----------------------------------------------
for path in /healthz /readyz /metrics; do
  guard_request GET "$path"
  assert_status_response "GET $path on the webhook port" 404
done
assert_contains "the webhook port's 404 says what it answers" "this port answers POST /validate, POST /mutate" \
  "$(jq -r .message "$RESPONSE_BODY")"
for path in /validate /mutate /metrics; do
  probe_request GET "$path"
  assert_status_response "GET $path on the probe port" 404
done
for path in /validate /healthz /readyz; do
  metrics_request GET "$path"
  assert_status_response "GET $path on the metrics port" 404
done

# --- query strings are not part of the route ----------------------------------------------
post_review "/validate?timeout=10s" other-pod.json
assert_eq "POST /validate?timeout=10s is routed to /validate" 200 "$HTTP_STATUS"
assert_json .response.uid 705ab4f5-6393-11e8-b7cc-42010a800002 "$RESPONSE_BODY" \
  "POST /validate?timeout=10s answers the review"
post_review "/mutate?timeout=30s" other-pod.json
assert_eq "POST /mutate?timeout=30s is routed to /mutate" 200 "$HTTP_STATUS"
probe_request GET "/healthz?verbose=1"
assert_eq "GET /healthz?verbose=1 is 200" 200 "$HTTP_STATUS"
guard_request GET "/nope?x=/validate"
assert_status_response "GET /nope?x=/validate (query does not route)" 404

# --- unknown paths: 404 ------------------------------------------------------------------
for path in /nope /validate/ /validatex /Validate /api/v1/validate /; do
  guard_request GET "$path"
  assert_status_response "GET $path" 404
done
post_review /nope other-pod.json
assert_status_response "POST /nope with a review" 404
assert_log "a 404 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 404 and (.message | type == "string" and length > 0)'

# --- wrong method: 405 with Allow -------------------------------------------------------
# check_405 METHOD PATH METHOD_ALLOW_MUST_LIST
check_405() {
  case "$2" in
    /healthz | /readyz) probe_request "$1" "$2" ;;
    /metrics) metrics_request "$1" "$2" ;;
    *) guard_request "$1" "$2" ;;
  esac
  assert_status_response "$1 $2" 405
  local allow
  allow="$(response_header allow)"
  assert_contains "$1 $2: Allow header lists $3" "$3" "$allow"
  assert_not_contains "$1 $2: Allow header does not list $1" "$1" "$allow"
}
check_405 GET /validate POST
check_405 PUT /validate POST
check_405 DELETE /mutate POST
check_405 GET /mutate POST
check_405 POST /healthz GET
check_405 POST /readyz GET
check_405 PATCH /healthz GET
check_405 POST /metrics GET
assert_log "a 405 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 405 and (.message | type == "string" and length > 0)'

# --- HEAD: headers only, never a body -----------------------------------------------------
# A body after HEAD's headers would be read as the start of the next response on a
# keep-alive connection. HEAD gets GET's answer where GET is allowed, else 405; both
# without a body, Content-Length saying what GET would send.
probe_request HEAD /healthz
assert_eq "HEAD /healthz is 200, as GET" 200 "$HTTP_STATUS"
assert_eq "HEAD /healthz: Content-Length is GET's body length" 3 "$(response_header content-length)"
metrics_request HEAD /metrics
assert_eq "HEAD /metrics is 200, as GET" 200 "$HTTP_STATUS"
guard_request HEAD /validate
assert_eq "HEAD /validate is 405" 405 "$HTTP_STATUS"
assert_eq "HEAD /validate: Allow lists POST" POST "$(response_header allow)"
check_405 POST /healthz "GET, HEAD"
head_then_next="$(guard_py <<'EOF'
# Raw bytes: a body after a HEAD answer would show up where the next status line should be.
results = []
for port, plain, first, second in ((PORT, False, ("HEAD", "/validate"), ("POST", "/validate")),
                                   (PROBE_PORT, True, ("HEAD", "/healthz"), ("GET", "/healthz"))):
    s = connect_plain(port=port) if plain else connect()
    body = review_body("other-pod.json") if second[0] == "POST" else b""
    headers = {"Content-Type": "application/json"} if body else {}
    s.sendall(request_bytes(*first) + request_bytes(second[0], second[1], body, headers))
    s.settimeout(5)
    data = b""
    while data.count(b"\r\n\r\n") < 2:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    _, _, rest = data.partition(b"\r\n\r\n")
    results.append(rest.split(b"\r\n", 1)[0].decode(errors="replace"))
print("|".join(results))
EOF
)"
assert_eq "after a HEAD answer, the next response starts right after its headers (webhook and probe ports)" \
  "HTTP/1.1 200 OK|HTTP/1.1 200 OK" "$head_then_next"

# --- header size limit: 16 KiB -------------------------------------------------------------
# Beast's default header limit is 8 KiB; a 12 KiB header is inside the documented 16 KiB.
head -c 12288 /dev/zero | tr '\0' a >"$LUG_WORK/12k"
head -c 17408 /dev/zero | tr '\0' a >"$LUG_WORK/17k"
probe_request GET /healthz -H "X-Padding: $(cat "$LUG_WORK/12k")"
assert_eq "a 12 KiB request header is accepted (limit is 16 KiB)" 200 "$HTTP_STATUS"
post_review /validate other-pod.json -H "X-Padding: $(cat "$LUG_WORK/12k")"
assert_eq "a review with a 12 KiB request header is answered" 200 "$HTTP_STATUS"
post_review /validate other-pod.json -H "X-Padding: $(cat "$LUG_WORK/17k")"
assert_status_response "a 17 KiB request header" 431
probe_request GET /healthz -H "X-Padding: $(cat "$LUG_WORK/17k")"
assert_status_response "a 17 KiB request header on the probe port" 431
assert_log "a 431 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 431 and (.message | type == "string" and length > 0)'
post_review /validate other-pod.json -H "X-Padding-1: $(head -c 6000 "$LUG_WORK/17k")" \
  -H "X-Padding-2: $(head -c 6000 "$LUG_WORK/17k")" -H "X-Padding-3: $(head -c 6000 "$LUG_WORK/17k")"
assert_status_response "three 6000-byte headers (18 KiB together)" 431
assert_healthy "still serving after oversized headers"

# --- keep-alive ---------------------------------------------------------------------------
curl -sS -v --max-time 10 --cacert "$PKI_CA" -o /dev/null -o /dev/null \
  "$GUARD_URL/nope" "$GUARD_URL/validate" 2>"$LUG_WORK/keepalive.err"
assert_contains "curl with two URLs re-uses the connection" "Re-using existing connection" \
  "$(cat "$LUG_WORK/keepalive.err")"

keepalive="$(guard_py <<'EOF'
s = connect()
body = review_body("other-pod.json")
statuses = []
for method, path, payload in (("POST", "/validate", body), ("POST", "/validate", body),
                              ("POST", "/mutate", body), ("GET", "/nope", b""),
                              ("GET", "/validate", b""), ("POST", "/mutate", body)):
    headers = {"Content-Type": "application/json"} if payload else {}
    s.sendall(request_bytes(method, path, payload, headers))
    r = read_response(s)
    statuses.append(r[0] if r else "closed")
print(" ".join(map(str, statuses)))
EOF
)"
assert_eq "six requests on one connection, errors included, are all answered" \
  "200 200 200 404 405 200" "$keepalive"

pipelined="$(guard_py <<'EOF'
s = connect()
s.sendall(request_bytes("POST", "/validate", review_body("other-pod.json"), {"Content-Type": "application/json"}) * 3)
print(" ".join(str(read_response(s)[0]) for _ in range(3)))
EOF
)"
assert_eq "three pipelined requests are answered in order" "200 200 200" "$pipelined"

close_header="$(guard_py <<'EOF'
s = connect()
s.sendall(request_bytes("POST", "/validate", review_body("other-pod.json"),
                        {"Content-Type": "application/json", "Connection": "close"}))
status, headers, _ = read_response(s)
closed, _, _ = wait_closed(s, 5)
print(status, headers.get("connection", "").lower(), closed)
EOF
)"
assert_eq "Connection: close is honoured (response says close, then EOF)" "200 close True" "$close_header"

stop_guard
assert_eq "exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
