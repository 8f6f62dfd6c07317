#!/usr/bin/env bash
# Hostile and broken input: bodies that are not reviews (400), wrong Content-Type (415),
# bodies around the 7 MiB limit (413), malformed inner fields, deep nesting, invalid UTF-8,
# invalid HTTP, slow headers (10 s limit) and the 512-connection cap. The server must
# answer each with a 200 review or the documented Status, never crash or hang, and keep
# serving; its log must stay one JSON object per line throughout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
start_guard --max-hold 2s || finish

# post_bytes PATH FILE [CURL_ARGS...]: POST FILE as application/json.
post_bytes() {
  local path="$1" file="$2"
  shift 2
  guard_request POST "$path" -H 'Content-Type: application/json' --data-binary "@$file" "$@"
}

# review_or_400 DESCRIPTION [UID]: the last answer is either a 200 AdmissionReview with a
# boolean decision (and UID echoed, when given) or a 400 Status; then /healthz answers.
review_or_400() {
  local desc="$1" uid="${2:-}"
  case "$HTTP_STATUS" in
    200)
      assert_json '(.kind == "AdmissionReview") and (.response.allowed | type == "boolean")' true \
        "$RESPONSE_BODY" "$desc: 200 AdmissionReview with a decision"
      if [ -n "$uid" ]; then
        assert_json .response.uid "$uid" "$RESPONSE_BODY" "$desc: uid echoed"
      fi
      ;;
    400) assert_status_response "$desc" 400 ;;
    *) fail "$desc: 200 review or 400 Status" "HTTP $HTTP_STATUS (curl exit $CURL_EXIT: $(cat "$RESPONSE_ERR"))" \
      "body: $(head -c 300 "$RESPONSE_BODY")" ;;
  esac
  assert_healthy "$desc: /healthz still answers"
}

# generated_uid NAME: the request.uid the generators below gave body NAME (empty if none);
# read from their list because jq and python refuse to parse the deepest bodies.
generated_uid() {
  awk -F '\t' -v name="$1" '$1 == name { print $2 }' "$LUG_WORK/uids.tsv"
}

# generated_review_or_400 NAME...: each generated body $LUG_WORK/NAME.json, posted to
# /validate and to /mutate, gets review_or_400 with the uid it was generated with.
generated_review_or_400() {
  local name endpoint uid
  for name in "$@"; do
    uid="$(generated_uid "$name")"
    for endpoint in validate mutate; do
      post_bytes "/$endpoint" "$LUG_WORK/$name.json" --max-time 20
      review_or_400 "$name on /$endpoint" "$uid"
    done
  done
}

# --- 400: not JSON, or JSON that is not an AdmissionReview with a string request.uid ------
printf '' >"$LUG_WORK/empty"
printf 'not json at all' >"$LUG_WORK/not-json"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":' >"$LUG_WORK/truncated"
printf '[]' >"$LUG_WORK/array"
printf '"AdmissionReview"' >"$LUG_WORK/string"
printf 'null' >"$LUG_WORK/null"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":"x"}' >"$LUG_WORK/request-string"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":42}}' >"$LUG_WORK/uid-number"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":null}}' >"$LUG_WORK/uid-null"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}' >"$LUG_WORK/no-request"
{ cat "$LUG_FIXTURES/other-pod.json"; printf ' trailing'; } >"$LUG_WORK/trailing-garbage"
for body in empty not-json truncated array string null request-string uid-number uid-null no-request trailing-garbage; do
  for endpoint in validate mutate; do
    post_bytes "/$endpoint" "$LUG_WORK/$body"
    assert_status_response "$body body on /$endpoint" 400
    assert_json .reason BadRequest "$RESPONSE_BODY" "$body body on /$endpoint: reason BadRequest"
  done
done
for fixture in not-a-review.json review-without-uid.json; do
  for endpoint in validate mutate; do
    post_review "/$endpoint" "$fixture"
    assert_status_response "$fixture on /$endpoint" 400
  done
done
assert_healthy "still serving after the 400s"
assert_log "a 400 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 400 and (.message | type == "string" and length > 0)'

# --- 415: Content-Type other than application/json ---------------------------------------
for content_type in text/plain application/x-www-form-urlencoded application/jsonx application/yaml \
  'application/json-patch+json' 'text/json'; do
  guard_request POST /validate -H "Content-Type: $content_type" --data-binary "@$LUG_FIXTURES/other-pod.json"
  assert_status_response "Content-Type $content_type" 415
done
guard_request POST /validate -H 'Content-Type:' --data-binary "@$LUG_FIXTURES/other-pod.json"
assert_status_response "no Content-Type at all" 415
for content_type in 'application/json; charset=utf-8' 'application/json;charset=UTF-8'; do
  guard_request POST /validate -H "Content-Type: $content_type" --data-binary "@$LUG_FIXTURES/other-pod.json"
  assert_eq "Content-Type '$content_type' is accepted" 200 "$HTTP_STATUS"
done
assert_log "a 415 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 415 and (.message | type == "string" and length > 0)'

# --- 413: the 7 MiB (7340032 bytes) body limit --------------------------------------------
python3 - "$LUG_FIXTURES/other-pod.json" "$LUG_WORK" <<'EOF'
import json, sys
review = json.load(open(sys.argv[1]))
limit = 7 * 1024 * 1024
def sized(size, uid):
    review["request"]["uid"] = uid
    review["request"]["object"]["metadata"]["annotations"] = {"padding": ""}
    base = len(json.dumps(review, separators=(",", ":")).encode())
    review["request"]["object"]["metadata"]["annotations"]["padding"] = "x" * (size - base)
    data = json.dumps(review, separators=(",", ":")).encode()
    assert len(data) == size, len(data)
    return data
open(f"{sys.argv[2]}/at-limit.json", "wb").write(sized(limit, "5e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c01"))
open(f"{sys.argv[2]}/over-limit.json", "wb").write(sized(limit + 1, "5e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c02"))
EOF
post_bytes /validate "$LUG_WORK/at-limit.json" --max-time 30
assert_eq "a review of exactly 7340032 bytes is answered" 200 "$HTTP_STATUS"
assert_json .response.uid 5e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c01 "$RESPONSE_BODY" "the 7 MiB review's uid is echoed"
post_bytes /validate "$LUG_WORK/over-limit.json" --max-time 30
assert_status_response "a body of 7340033 bytes" 413
assert_log "a 413 is logged as \"request rejected\" with status and message" \
  '.msg == "request rejected" and .status == 413 and (.message | type == "string" and length > 0)'
post_bytes /mutate "$LUG_WORK/over-limit.json" --max-time 30 -H 'Transfer-Encoding: chunked'
assert_status_response "a chunked body of 7340033 bytes" 413
declared="$(guard_py <<'EOF'
s = connect()
s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          b"Content-Length: 104857600\r\n\r\n{")
start = time.monotonic()
try:
    r = read_response(s)
    print(r[0] if r else "closed", f"{time.monotonic() - start:.1f}")
except Exception as e:
    print("error", type(e).__name__)
EOF
)"
assert_eq "Content-Length: 100 MiB is refused with 413 before the body is sent" 413 "${declared%% *}"
assert_healthy "still serving after oversized bodies"

# --- malformed inner fields ---------------------------------------------------------------
for fixture in malformed-labels.json null-object.json metadata-string.json; do
  uid="$(jq -r .request.uid "$LUG_FIXTURES/$fixture")"
  for endpoint in validate mutate; do
    post_review "/$endpoint" "$fixture"
    review_or_400 "$fixture on /$endpoint" "$uid"
  done
done

# Wrong types in the fields the guard reads to decide whether a pod is in scope.
python3 - "$LUG_FIXTURES/uninstall-pod-kubectl.json" "$LUG_WORK" <<'EOF'
import json, sys
base = json.load(open(sys.argv[1]))
cases = {
    "labels-values-numbers": lambda r: r["request"]["object"]["metadata"].__setitem__("labels", {"job-name": 7, "batch.kubernetes.io/job-name": None}),
    "owner-references-object": lambda r: r["request"]["object"]["metadata"].__setitem__("ownerReferences", {"kind": "Job", "name": "longhorn-uninstall"}),
    "owner-reference-fields-wrong-type": lambda r: r["request"]["object"]["metadata"].__setitem__("ownerReferences", [{"kind": ["Job"], "name": {"n": 1}, "controller": "yes"}, 5, None]),
    "namespace-number": lambda r: r["request"].__setitem__("namespace", 12),
    "operation-array": lambda r: r["request"].__setitem__("operation", ["CREATE"]),
    "kind-string": lambda r: r["request"].__setitem__("kind", "Pod"),
    "spec-array": lambda r: r["request"]["object"].__setitem__("spec", []),
    "init-containers-string": lambda r: r["request"]["object"]["spec"].__setitem__("initContainers", "none"),
    "containers-null": lambda r: r["request"]["object"]["spec"].__setitem__("containers", None),
    "object-array": lambda r: r["request"].__setitem__("object", [1, 2, 3]),
    "request-extra-nulls": lambda r: r["request"].update({"userInfo": None, "resource": None, "options": 0}),
}
uids = open(f"{sys.argv[2]}/uids.tsv", "a")
for i, (name, mutate) in enumerate(cases.items()):
    r = json.loads(json.dumps(base))
    r["request"]["uid"] = f"6f2e1d0c-9b8a-4f7e-8d6c-5b4a3f2e{i:04d}"
    mutate(r)
    open(f"{sys.argv[2]}/wrong-{name}.json", "w").write(json.dumps(r))
    uids.write(f"wrong-{name}\t{r['request']['uid']}\n")
EOF
mapfile -t wrong_types < <(cut -f 1 "$LUG_WORK/uids.tsv")
generated_review_or_400 "${wrong_types[@]}"

# --- deep nesting and big documents ------------------------------------------------------
python3 - "$LUG_FIXTURES/uninstall-pod-kubectl.json" "$LUG_FIXTURES/other-pod.json" "$LUG_WORK" <<'EOF'
import json, sys
inscope = open(sys.argv[1]).read()
other = open(sys.argv[2]).read()
out = sys.argv[3]
def embed(text, uid, nested):
    review = json.loads(text)
    review["request"]["uid"] = uid
    review["request"]["object"]["spec"]["nested"] = "@@NESTED@@"
    return json.dumps(review).replace('"@@NESTED@@"', nested)
uids = open(f"{out}/uids.tsv", "a")
for depth in (10_000, 200_000):
    uid = f"7a6b5c4d-3e2f-4a1b-9c8d-{depth:012d}"
    open(f"{out}/deep-array-{depth}.json", "w").write(embed(inscope, uid, "[" * depth + "]" * depth))
    uids.write(f"deep-array-{depth}\t{uid}\n")
    uid = f"7a6b5c4d-3e2f-4a1b-8c8d-{depth:012d}"
    open(f"{out}/deep-object-{depth}.json", "w").write(embed(other, uid, '{"a":' * depth + "1" + "}" * depth))
    uids.write(f"deep-object-{depth}\t{uid}\n")
    open(f"{out}/deep-body-{depth}.json", "w").write("[" * depth + "]" * depth)
    open(f"{out}/deep-unclosed-{depth}.json", "w").write('{"a":' * depth)
# Many keys and a big string: about 6 MiB, under the body limit.
review = json.loads(inscope)
review["request"]["uid"] = "7a6b5c4d-3e2f-4a1b-9c8d-b16000000001"
review["request"]["object"]["metadata"]["annotations"] = {f"example.com/key-{i}": f"value-{i}" for i in range(150_000)}
open(f"{out}/big-many-keys.json", "w").write(json.dumps(review))
uids.write(f"big-many-keys\t{review['request']['uid']}\n")
review = json.loads(inscope)
review["request"]["uid"] = "7a6b5c4d-3e2f-4a1b-9c8d-b16000000002"
review["request"]["object"]["metadata"]["annotations"] = {"big": "y" * (6 * 1024 * 1024)}
open(f"{out}/big-string.json", "w").write(json.dumps(review))
uids.write(f"big-string\t{review['request']['uid']}\n")
EOF
generated_review_or_400 deep-array-10000 deep-array-200000 deep-object-10000 deep-object-200000 \
  deep-body-10000 deep-body-200000 deep-unclosed-10000 deep-unclosed-200000 big-many-keys big-string

# --- invalid UTF-8, escapes and control characters inside strings ------------------------
python3 - "$LUG_FIXTURES/uninstall-pod-kubectl.json" "$LUG_FIXTURES/other-pod.json" "$LUG_WORK" <<'EOF'
import json, sys
inscope = open(sys.argv[1]).read()
other = open(sys.argv[2]).read()
out = sys.argv[3]
def variant(text, uid, path, marker):
    review = json.loads(text)
    review["request"]["uid"] = uid
    target = review
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "@@MARK@@"
    return json.dumps(review).encode().replace(b"@@MARK@@", marker)
gen_name = ["request", "object", "metadata", "generateName"]
label = ["request", "object", "metadata", "labels", "team"]
cases = {
    "utf8-generate-name-inscope": (inscope, gen_name, b"longhorn-uninstall-\xff\xfe-"),
    "utf8-label-other": (other, label, b"caf\xc3"),
    "utf8-overlong-other": (other, label, b"\xc0\xaf\xe0\x80\xaf"),
    "utf8-surrogate-bytes-other": (other, gen_name, b"\xed\xa0\x80x-"),
    "escaped-lone-surrogate-inscope": (inscope, gen_name, b"\\ud800-"),
    "utf8-namespace": (other, ["request", "namespace"], b"default\x80"),
    "utf8-uid": (other, ["request", "uid"], b"705ab4f5-\xc3\x28"),
    "control-chars-inscope": (inscope, gen_name, b"longhorn-uninstall-\\u0000\\n{\\\"msg\\\":\\\"forged\\\"}\\u001b[31m-"),
    "valid-unicode-other": (other, gen_name, "nightly-r\u00e9port-\U0001F680-".encode()),
}
uids = open(f"{out}/uids.tsv", "a")
for i, (name, (text, path, marker)) in enumerate(cases.items()):
    uid = f"8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c{i:04d}"
    open(f"{out}/{name}.json", "wb").write(variant(text, uid, path, marker))
    if name != "utf8-uid":
        uids.write(f"{name}\t{uid}\n")
EOF
generated_review_or_400 utf8-generate-name-inscope utf8-label-other utf8-overlong-other utf8-surrogate-bytes-other \
  escaped-lone-surrogate-inscope utf8-namespace utf8-uid control-chars-inscope valid-unicode-other
post_bytes /validate "$LUG_WORK/valid-unicode-other.json"
assert_eq "valid non-ASCII UTF-8 in a name is an ordinary review" 200 "$HTTP_STATUS"
assert_json .response.allowed true "$RESPONSE_BODY" "valid non-ASCII UTF-8, out of scope: allowed"
assert_eq "control characters in a name cannot forge a log line" 0 "$(count_log '.msg == "forged"')"

# --- invalid HTTP: 400, then the connection closes ----------------------------------------
invalid_http="$(guard_py <<'EOF'
cases = {
    "header-without-colon": b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nThisIsNotAHeader\r\n\r\n",
    "control-bytes-in-method": b"G\x01T /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "bad-version": b"GET /healthz HTTP/9.Z\r\nHost: localhost\r\n\r\n",
    "content-length-not-a-number": b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    "two-content-lengths": b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "bad-chunk-size": b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "space-before-colon": b"GET /healthz HTTP/1.1\r\nHost : localhost\r\n\r\n",
}
print(json.dumps({name: answer_then_close(raw) for name, raw in cases.items()}))
EOF
)"
for name in header-without-colon control-bytes-in-method bad-version content-length-not-a-number \
  two-content-lengths bad-chunk-size space-before-colon; do
  assert_eq "invalid HTTP ($name): 400 Status, then the connection closes" "400 code=400 closed=True more=False" \
    "$(jq -r --arg n "$name" '.[$n]' <<<"$invalid_http")"
done
assert_healthy "still serving after invalid HTTP"

# --- request framing (RFC 9112 §6.1, §6.3): never a smuggled request ----------------------
# A Transfer-Encoding whose final coding is not chunked leaves the body's length unknown:
# taken as an empty body, its bytes would be read as the next request. 400 and close. A
# coding we do not implement before chunked is 501, not ignored.
framing="$(guard_py <<'EOF'
smuggled = b"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n"
head = b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
cases = {
    "xchunked": head + b"Transfer-Encoding: xchunked\r\n\r\n" + smuggled,
    "identity": head + b"Transfer-Encoding: identity\r\n\r\n" + smuggled,
    "chunked-then-xchunked": head + b"Transfer-Encoding: chunked, xchunked\r\n\r\n" + smuggled,
    "gzip-then-chunked": head + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + smuggled,
}
print(json.dumps({name: answer_then_close(raw) for name, raw in cases.items()}))
EOF
)"
for name in xchunked identity chunked-then-xchunked; do
  assert_eq "Transfer-Encoding $name: 400, closed, the body never answered as a request" \
    "400 code=400 closed=True more=False" "$(jq -r --arg n "$name" '.[$n]' <<<"$framing")"
done
assert_eq "Transfer-Encoding gzip, chunked: 501, closed" "501 code=501 closed=True more=False" \
  "$(jq -r '.["gzip-then-chunked"]' <<<"$framing")"
assert_log "a framing refusal is logged with its reason" \
  '.msg == "request rejected" and .status == 501 and (.message | test("does not implement"))'
assert_healthy "still serving after bad framing"

# --- slow headers: disconnected ~10 s after the first byte, others served meanwhile -------
# stall: part of the header, then silence. trickle: one byte a second. handshake: part of a
# TLS ClientHello, then silence (the headers cannot arrive within 10 s of that first byte).
slow_script='
mode = sys.argv[1]
if mode == "handshake":
    # The first bytes of a ClientHello, then nothing: no header can arrive within 10 s.
    s = connect_plain(timeout=30)
    start = time.monotonic()
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    closed, seconds, data = wait_closed(s, 20)
    print(json.dumps({"closed": closed, "seconds": round(seconds, 1), "answer": data[:12].decode("latin-1")}))
    sys.exit()
s = connect(timeout=30)
start = time.monotonic()
if mode == "stall":
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
    closed, seconds, data = wait_closed(s, 20)
else:
    # One byte a second: a timer re-armed on every read would never fire.
    closed, data = False, b""
    for byte in b"POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 40:
        try:
            s.sendall(bytes([byte]))
        except OSError:
            closed = True
            break
        s.settimeout(1.0)
        try:
            chunk = s.recv(4096)
            if not chunk:
                closed = True
                break
            data += chunk
        except socket.timeout:
            pass
        except CLOSED_ERRORS:
            closed = True
            break
        if time.monotonic() - start > 20:
            break
    seconds = time.monotonic() - start
print(json.dumps({"closed": closed, "seconds": round(seconds, 1), "answer": data[:12].decode("latin-1")}))
'
guard_py stall <<<"$slow_script" >"$LUG_WORK/slow-stall.json" &
stall_pid=$!
register_pid "$stall_pid"
guard_py trickle <<<"$slow_script" >"$LUG_WORK/slow-trickle.json" &
trickle_pid=$!
register_pid "$trickle_pid"
guard_py handshake <<<"$slow_script" >"$LUG_WORK/slow-handshake.json" &
handshake_pid=$!
register_pid "$handshake_pid"
sleep 3
assert_healthy "other clients are served while three clients stall"
post_review /validate other-pod.json
assert_eq "a review is answered while three clients stall" 200 "$HTTP_STATUS"
wait "$stall_pid"
wait "$trickle_pid"
wait "$handshake_pid"
for mode in stall trickle handshake; do
  result="$(cat "$LUG_WORK/slow-$mode.json")"
  assert_eq "slow headers ($mode): the server closes the connection" true "$(jq -r .closed <<<"$result")"
  assert_seconds_between "slow headers ($mode): closed about 10 s after the first byte" 8 14 \
    "$(jq -r .seconds <<<"$result")"
done

# --- at most 512 concurrent connections ---------------------------------------------------
cap="$(LUG_PY_TIMEOUT=120 guard_py <<'EOF'
held, served, refused = [], 0, 0
review = request_bytes("POST", "/validate", review_body("other-pod.json"), {"Content-Type": "application/json"})
for i in range(520):
    try:
        s = connect(timeout=2)
        s.sendall(review)
        r = read_response(s)
        if r and r[0] == 200:
            served += 1
            held.append(s)
        else:
            refused += 1
            s.close()
    except (OSError, EOFError):
        refused += 1
for s in held:
    s.close()
print(json.dumps({"served": served, "refused": refused}))
EOF
)"
served="$(jq -r .served <<<"$cap")"
if [ -n "$served" ] && [ "$served" -ge 500 ] && [ "$served" -le 512 ]; then
  pass "520 held-open connections: between 500 and 512 are served at once ($cap)"
else
  fail "520 held-open connections: between 500 and 512 are served at once" "$cap"
fi
recovered=000
for _ in $(seq 1 20); do
  post_review /validate other-pod.json --max-time 2
  recovered="$HTTP_STATUS"
  [ "$recovered" = 200 ] && break
  sleep 0.5
done
assert_eq "serving again once the connections are closed" 200 "$recovered"

assert_log_json_lines "after all of the above, every log line is still one JSON object with time, level, msg"
stop_guard
assert_eq "exits 0 on SIGTERM after all of the above" 0 "$GUARD_EXIT"
finish
