#!/usr/bin/env bash
# The AdmissionReview contract on both endpoints: the reply's shape, apiVersion and uid
# echoed, out-of-scope pods allowed without a patch, denials carrying a status, patches
# that are base64 RFC 6902 and apply cleanly, and one "admission" log line per review.
#
# The Kubernetes API the guard is given is an address nothing listens on: out-of-scope pods
# never contact it, and for in-scope pods the guard cannot read deleting-confirmation-flag,
# so it must not let the pod through on /validate (the flag never read "true").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
# In-scope pods may be held while the guard retries the flag: keep the hold short so
# that every answer comes within a few seconds.
max_hold=2s
start_guard --max-hold "$max_hold" || finish

# check_review DESCRIPTION FIXTURE API_VERSION
# The last response is a 200 AdmissionReview of API_VERSION with the fixture's uid and a
# boolean allowed; a denial has status.code >= 400, reason and message; a patch, if any,
# has patchType JSONPatch and decodes to a JSON array of operations.
check_review() {
  local desc="$1" fixture uid
  fixture="$(fixture_path "$2")"
  uid="$(jq -r .request.uid "$fixture")"
  assert_eq "$desc: HTTP 200" 200 "$HTTP_STATUS"
  assert_match "$desc: Content-Type application/json" '^application/json' "$(response_header content-type)"
  assert_json '[.apiVersion, .kind, .response.uid]' "[\"$3\",\"AdmissionReview\",\"$uid\"]" "$RESPONSE_BODY" \
    "$desc: apiVersion $3, kind AdmissionReview, uid echoed"
  assert_json '.response.allowed | type' boolean "$RESPONSE_BODY" "$desc: response.allowed is a boolean"
  if [ "$(json_value .response.allowed "$RESPONSE_BODY")" = false ]; then
    assert_json '.response.status | (.code >= 400) and (.reason | type == "string" and length > 0) and (.message | type == "string" and length > 0)' \
      true "$RESPONSE_BODY" "$desc: the denial has status.code >= 400, a reason and a message"
  fi
  if [ "$(json_value '.response | has("patch") or has("patchType")' "$RESPONSE_BODY")" = true ]; then
    assert_json .response.patchType JSONPatch "$RESPONSE_BODY" "$desc: patchType is JSONPatch"
    assert_eq "$desc: patch is base64 of a JSON array of operations" ok "$(patch_shape)"
  fi
}

# patch_shape: "ok" when .response.patch of the last response is base64 of a JSON array of
# {op, path} objects, else what is wrong.
patch_shape() {
  python3 - "$RESPONSE_BODY" <<'EOF'
import base64, binascii, json, sys
review = json.load(open(sys.argv[1]))
try:
    ops = json.loads(base64.b64decode(review["response"]["patch"], validate=True))
except (KeyError, TypeError, binascii.Error, ValueError) as e:
    print(f"not base64 JSON: {e!r}"); sys.exit()
valid = {"add", "remove", "replace", "move", "copy", "test"}
if not isinstance(ops, list) or not ops:
    print(f"not a non-empty array: {ops!r}"[:300]); sys.exit()
for op in ops:
    if not (isinstance(op, dict) and op.get("op") in valid and isinstance(op.get("path"), str)):
        print(f"bad operation {op!r}"[:300]); sys.exit()
print("ok")
EOF
}

# check_no_patch DESCRIPTION: the last response allows and carries neither patch nor patchType.
check_allowed_unpatched() {
  assert_json '[.response.allowed, (.response | has("patch")), (.response | has("patchType"))]' \
    '[true,false,false]' "$RESPONSE_BODY" "$1: allowed, no patch, no patchType"
}

# check_passed_through DESCRIPTION FILE API_VERSION: FILE, posted to /validate and to
# /mutate, is answered as a review in API_VERSION that allows it unpatched.
check_passed_through() {
  local desc="$1" file="$2" api_version="$3" endpoint
  for endpoint in validate mutate; do
    post_review "/$endpoint" "$file"
    check_review "$desc on /$endpoint" "$file" "$api_version"
    check_allowed_unpatched "$desc on /$endpoint"
  done
}

# check_admission_log FIXTURE ENDPOINT: exactly one "admission" line for the fixture's uid
# on ENDPOINT, with the documented fields, agreeing with the response just received.
check_admission_log() {
  local fixture uid endpoint="$2" decision line
  fixture="$(fixture_path "$1")"
  uid="$(jq -r .request.uid "$fixture")"
  decision="$(jq -r 'if .response.allowed then "allowed" else "denied" end' "$RESPONSE_BODY")"
  line="$(wait_for_log ".msg == \"admission\" and .uid == \"$uid\" and .endpoint == \"$endpoint\"" 3)"
  if [ -z "$line" ]; then
    fail "$1 on /$endpoint: an admission log line with its uid" "none in $GUARD_LOG"
    return
  fi
  assert_eq "$1 on /$endpoint: exactly one admission log line" 1 \
    "$(count_log ".msg == \"admission\" and .uid == \"$uid\" and .endpoint == \"$endpoint\"")"
  local expected
  # A pod without a name yet is logged by its generateName with a "*" appended.
  expected="$(jq -c --arg decision "$decision" '.request | {operation, kind: .kind.kind, namespace,
      name: (if (.name // "") != "" then .name else .object.metadata.generateName + "*" end), decision: $decision}' "$fixture")"
  assert_eq "$1 on /$endpoint: log line has operation, kind, namespace, name, decision" "$expected" \
    "$(jq -c '{operation, kind, namespace, name, decision}' <<<"$line")"
  assert_eq "$1 on /$endpoint: log line has time, level, a reason and a numeric duration_ms" true \
    "$(jq -c '(.time | type == "string") and (.level | type == "string") and (.reason | type == "string") and (.duration_ms | type == "number") and .duration_ms >= 0' <<<"$line")"
}

# --- out of scope: allowed, no patch, on both endpoints, no API call ---------------------
for fixture in other-pod.json other-namespace-uninstall-name.json uninstall-pod-update.json; do
  for endpoint in validate mutate; do
    post_review "/$endpoint" "$fixture"
    check_review "$fixture on /$endpoint" "$fixture" admission.k8s.io/v1
    check_allowed_unpatched "$fixture on /$endpoint"
    check_admission_log "$fixture" "$endpoint"
  done
done
assert_eq "out-of-scope reviews are logged as allowed" 0 \
  "$(count_log '.msg == "admission" and .decision != "allowed"')"

# The same out-of-scope pod in a v1beta1 review is answered in v1beta1.
jq '.apiVersion = "admission.k8s.io/v1beta1" | .request.uid = "9a0e1f2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"' \
  "$LUG_FIXTURES/other-pod.json" >"$LUG_WORK/other-pod-v1beta1.json"
check_passed_through "out-of-scope v1beta1 review" "$LUG_WORK/other-pod-v1beta1.json" admission.k8s.io/v1beta1

# A DELETE has no object, only oldObject: out of scope too.
jq '.request.operation = "DELETE" | .request.uid = "9a0e1f2b-3c4d-4e5f-8a6b-7c8d9e0f1a2c"
    | .request.oldObject = .request.object | .request.object = null
    | .request.options = {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"}' \
  "$LUG_FIXTURES/uninstall-pod-update.json" >"$LUG_WORK/uninstall-pod-delete.json"
check_passed_through "DELETE of an uninstall pod" "$LUG_WORK/uninstall-pod-delete.json" admission.k8s.io/v1

# --- in scope: /validate never allows while the flag cannot be read as "true" ------------
# The guard may hold the request up to --max-hold; the API server's timeout is passed as it
# would be. Bounded: max-hold (2 s) plus generous slack.
in_scope=(uninstall-pod-helm.json uninstall-pod-kubectl.json uninstall-pod-no-token.json
  uninstall-pod-with-init-containers.json uninstall-pod-owner-only.json uninstall-pod-dry-run.json)
for fixture in "${in_scope[@]}"; do
  post_review "/validate?timeout=10s" "$fixture" --max-time 20
  check_review "$fixture on /validate" "$fixture" admission.k8s.io/v1
  assert_json .response.allowed false "$RESPONSE_BODY" \
    "$fixture on /validate: not allowed while deleting-confirmation-flag cannot be read"
  check_admission_log "$fixture" validate
done
post_review "/validate?timeout=10s" uninstall-pod-v1beta1.json --max-time 20
check_review "uninstall-pod-v1beta1.json on /validate" uninstall-pod-v1beta1.json admission.k8s.io/v1beta1
assert_json .response.allowed false "$RESPONSE_BODY" \
  "uninstall-pod-v1beta1.json on /validate: not allowed while the flag cannot be read"

# --- in scope: /mutate injects an init container with a patch that applies --------------
# apply_patch (lib.sh) applies the patch to the pod the way the API server does.
mutate_in_scope=(uninstall-pod-helm.json uninstall-pod-kubectl.json
  uninstall-pod-with-init-containers.json uninstall-pod-owner-only.json uninstall-pod-dry-run.json
  uninstall-pod-v1beta1.json)
for fixture in "${mutate_in_scope[@]}"; do
  api_version="$(jq -r .apiVersion "$(fixture_path "$fixture")")"
  post_review "/mutate?timeout=10s" "$fixture" --max-time 20
  check_review "$fixture on /mutate" "$fixture" "$api_version"
  assert_json '[.response.allowed, .response.patchType]' '[true,"JSONPatch"]' "$RESPONSE_BODY" \
    "$fixture on /mutate: allowed with a JSONPatch"
  [ "$(json_value .response.patchType "$RESPONSE_BODY")" = JSONPatch ] || continue
  apply_patch "$fixture" >"$LUG_WORK/patched.json"
  if grep -q '^error: ' "$LUG_WORK/patched.json"; then
    fail "$fixture on /mutate: the patch applies to the pod (RFC 6902)" "$(cat "$LUG_WORK/patched.json")" \
      "patch: $(jq -r .response.patch "$RESPONSE_BODY" | base64 -d 2>&1 | head -c 1500)"
    continue
  fi
  pass "$fixture on /mutate: the patch applies to the pod (RFC 6902)"
  original_init="$(jq -c '.request.object.spec.initContainers // []' "$(fixture_path "$fixture")")"
  assert_eq "$fixture on /mutate: exactly one init container is added, the existing ones kept" true \
    "$(jq -c --argjson before "$original_init" '(.spec.initContainers | length) == ($before | length) + 1
        and ([.spec.initContainers[] | select(. as $c | $before | index([$c]))] | length) == ($before | length)' \
      "$LUG_WORK/patched.json")"
  # The app container runs longhorn-manager uninstall: its command is wrapped in the
  # supervisor and the supervisor's volume mounted; nothing else of it changes.
  assert_eq "$fixture on /mutate: the app container runs under the supervisor, otherwise untouched" \
    "$(jq -cS '.request.object.spec.containers
        | map(.command = ["/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor", "--attempts=5", "--"] + .command
              | .volumeMounts += [{name: "longhorn-uninstall-supervisor", mountPath: "/run/longhorn-uninstall-guard", readOnly: true}])' \
        "$(fixture_path "$fixture")")" \
    "$(jq -cS '.spec.containers' "$LUG_WORK/patched.json")"
  assert_eq "$fixture on /mutate: the init container has a name and an image" true \
    "$(jq -c --argjson before "$original_init" '[.spec.initContainers[] | select(. as $c | $before | index([$c]) | not)][0]
        | (.name | type == "string" and length > 0) and (.image | type == "string" and length > 0)' "$LUG_WORK/patched.json")"
  check_admission_log "$fixture" mutate
done

# A pod that mounts no service-account token could not run the init container's reads:
# allowed unpatched (neither patch field present) with a warning that says why.
post_review "/mutate?timeout=10s" uninstall-pod-no-token.json --max-time 20
check_review "uninstall-pod-no-token.json on /mutate" uninstall-pod-no-token.json admission.k8s.io/v1
assert_json '[.response.allowed, (.response | has("patch")), (.response | has("patchType"))]' '[true,false,false]' \
  "$RESPONSE_BODY" "uninstall-pod-no-token.json on /mutate: allowed without patch or patchType"
assert_json '[.response.warnings[]? | test("token")] | any' true "$RESPONSE_BODY" \
  "uninstall-pod-no-token.json on /mutate: a warning says the token is missing"
check_admission_log uninstall-pod-no-token.json mutate

assert_log_json_lines "every log line is a JSON object with time, level, msg"
stop_guard
assert_eq "exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
