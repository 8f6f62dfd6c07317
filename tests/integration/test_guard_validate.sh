#!/usr/bin/env bash
# /validate against the Kubernetes API stand-in: which requests are guarded at all, and
# what one fresh read decides.
#
# - Out of scope (another namespace, another Job's pod, UPDATE, DELETE, not a pod): allowed
#   at once, and the stand-in sees no request at all.
# - In scope with the flag true: allowed after exactly one read, a GET of the Setting with
#   no query string (a quorum read; never resourceVersion=0), made after the review
#   arrived; each review gets its own read.
# - Every spelling Go's strconv.ParseBool reads as true is allowed; false spellings and
#   anything else are denied once the hold ends, with the value in the message.
# - dryRun reviews get the same decisions.
#
# Usage: tests/integration/test_guard_validate.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 30 s: fourteen 0.75 s holds and many short requests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

# Holds that must end in a deny are kept short: the API server's ?timeout=1s leaves
# 1s - 250ms (a quarter kept as the answer margin) = 0.75 s of hold.
short_hold='?timeout=1s'
# An out-of-scope review is answered without any I/O; 2 s is far above that even on a
# loaded CI machine, and far below the 8 s an in-scope pod would be held here.
out_of_scope_limit=2
start_standin_guard --max-hold 8s || finish

# --- out of scope: allowed at once, zero reads ------------------------------------------------
# Built from the in-scope kubectl pod, so that only the one property under test differs.
kubectl_pod="$(fixture_path uninstall-pod-kubectl.json)"
jq '.request.uid = "5b2d0c4e-0001-4d6e-8f10-2a3b4c5d6e01" | .request.kind = {group: "", version: "v1", kind: "ConfigMap"}
    | .request.resource = {group: "", version: "v1", resource: "configmaps"}
    | .request.requestKind = .request.kind | .request.requestResource = .request.resource
    | .request.object = {apiVersion: "v1", kind: "ConfigMap", metadata: .request.object.metadata, data: {}}' \
  "$kubectl_pod" >"$LUG_WORK/configmap-with-job-labels.json"
jq '.request.uid = "5b2d0c4e-0002-4d6e-8f10-2a3b4c5d6e02" | .request.kind.kind = "Binding"
    | .request.subResource = "binding" | .request.requestSubResource = "binding"' \
  "$kubectl_pod" >"$LUG_WORK/pod-binding-subresource.json"
jq '.request.uid = "5b2d0c4e-0003-4d6e-8f10-2a3b4c5d6e03" | .request.operation = "DELETE"
    | .request.oldObject = .request.object | .request.object = null
    | .request.options = {kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1"}' \
  "$kubectl_pod" >"$LUG_WORK/uninstall-pod-delete.json"
jq '.request.uid = "5b2d0c4e-0004-4d6e-8f10-2a3b4c5d6e04" | .request.kind.group = "example.com"' \
  "$kubectl_pod" >"$LUG_WORK/pod-kind-other-group.json"

out_of_scope=(other-pod.json other-namespace-uninstall-name.json other-job-pod.json uninstall-pod-update.json
  "$LUG_WORK/uninstall-pod-delete.json" "$LUG_WORK/configmap-with-job-labels.json"
  "$LUG_WORK/pod-binding-subresource.json" "$LUG_WORK/pod-kind-other-group.json")
reset_reads
for fixture in "${out_of_scope[@]}"; do
  name="$(basename "$fixture")"
  start="$(now_us)"
  post_review "/validate?timeout=10s" "$fixture" --max-time 20
  took="$(elapsed_since "$start")"
  assert_eq "out of scope $name: HTTP 200" 200 "$HTTP_STATUS"
  assert_json '[.response.uid, .response.allowed]' \
    "[\"$(jq -r .request.uid "$(fixture_path "$fixture")")\",true]" "$RESPONSE_BODY" \
    "out of scope $name: allowed, uid echoed"
  assert_seconds_between "out of scope $name: answered at once, not held" 0 "$out_of_scope_limit" "$took"
done
save_reads "$LUG_WORK/reads.json"
assert_json '.requests | length' 0 "$LUG_WORK/reads.json" \
  "out-of-scope reviews cause no request at all to the API server"

# --- in scope, flag true: one quorum read each ------------------------------------------------
set_flag true
# What the stand-in must have seen for one review: one GET of the Setting, path exact and
# no query string at all, served from the store, answered "true" at the current version.
one_quorum_read="[{\"method\":\"GET\",\"path\":\"$FLAG_API_PATH\",\"query\":\"\",\"kind\":\"fresh\",\"source\":\"store\",\"status\":200,\"value\":\"true\",\"resourceVersion\":\"$FLAG_RV\"}]"
summary='[.requests[] | {method, path, query, kind, source, status, value, resourceVersion}]'
for fixture in uninstall-pod-helm.json uninstall-pod-kubectl.json uninstall-pod-v1beta1.json uninstall-pod-owner-only.json; do
  reset_reads
  before="$(monotonic_now)"
  post_review "/validate?timeout=10s" "$fixture" --max-time 20
  after="$(monotonic_now)"
  save_reads "$LUG_WORK/reads.json"
  assert_json '[.response.uid, .response.allowed]' "[\"$(jq -r .request.uid "$(fixture_path "$fixture")")\",true]" \
    "$RESPONSE_BODY" "flag true, $fixture: allowed"
  assert_json "$summary" "$one_quorum_read" "$LUG_WORK/reads.json" \
    "flag true, $fixture: exactly one GET of the Setting, with no query (a quorum read)"
  assert_eq "flag true, $fixture: the stand-in received the read while the review was in flight" true \
    "$(jq --argjson before "$before" --argjson after "$after" \
      '.requests[0] | .received > $before and .received < $after' "$LUG_WORK/reads.json")"
done

# Two reviews in a row: the second is not answered from the first one's read.
reset_reads
post_review "/validate?timeout=10s" uninstall-pod-helm.json --max-time 20
post_review "/validate?timeout=10s" uninstall-pod-helm.json --max-time 20
save_reads "$LUG_WORK/reads.json"
assert_json '[.requests[].kind]' '["fresh","fresh"]' "$LUG_WORK/reads.json" \
  "two reviews one after the other: two fresh reads, none reused"

# The log says why the pod was let through.
assert_log "the admission log line gives the value and resourceVersion that allowed the pod" \
  ".msg == \"admission\" and .endpoint == \"validate\" and .decision == \"allowed\" and (.reason | contains(\"value \\\"true\\\" at resourceVersion $FLAG_RV\"))"

# --- the spellings of true and of not-true --------------------------------------------------
for value in 1 t T TRUE true True; do
  set_flag "$value"
  reset_reads
  post_review "/validate?timeout=10s" uninstall-pod-kubectl.json --max-time 20
  save_reads "$LUG_WORK/reads.json"
  assert_eq "value \"$value\" reads as true: allowed on one read that returned it" "true [\"$value\"]" \
    "$(json_value .response.allowed "$RESPONSE_BODY") $(jq -c '[.requests[].value]' "$LUG_WORK/reads.json")"
done

# strconv.ParseBool's false spellings, then what it refuses: case variants it does not
# list, words other tools accept, whitespace, the empty string.
reset_reads
for value in 0 f F FALSE false False yes on tRUE ' true' 'true ' ''; do
  set_flag "$value"
  post_review "/validate$short_hold" uninstall-pod-kubectl.json --max-time 20
  assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$RESPONSE_BODY" \
    "value \"$value\" is not true: denied with 403"
  message="$(json_value .response.status.message "$RESPONSE_BODY")"
  case "$value" in
    '') assert_contains "empty value: the message says so, with the resourceVersion" \
          "reads an empty value at resourceVersion $FLAG_RV, which longhorn-manager does not accept as true" "$message" ;;
    0 | f | F | FALSE | false | False)
      assert_contains "value \"$value\": the message says the setting still reads it, with the resourceVersion" \
        "still reads value \"$value\" at resourceVersion $FLAG_RV" "$message" ;;
    *)
      assert_contains "value \"$value\": the message quotes it and says longhorn-manager does not accept it as true" \
        "reads value \"$value\" at resourceVersion $FLAG_RV, which longhorn-manager does not accept as true" "$message"
      assert_not_contains "value \"$value\": the message explains it once" "which Longhorn does not read" "$message" ;;
  esac
done

# Every read so far, including those repeated during the holds, was the same quorum GET.
save_reads "$LUG_WORK/reads.json"
assert_json '[.requests[] | select(.query != "" or .kind != "fresh" or .path != "'"$FLAG_API_PATH"'")] | length' 0 \
  "$LUG_WORK/reads.json" "every read during the holds was a fresh GET without a query (never resourceVersion=0)"
assert_json '.counts.cached + .counts.list + .counts.other' 0 "$LUG_WORK/reads.json" \
  "the stand-in counted no cached read, no LIST and no other request"

# --- dryRun gets the same decision --------------------------------------------------------------
# uninstall-pod-dry-run.json is the same pod as a `kubectl create --dry-run=server`.
set_flag true
reset_reads
post_review "/validate?timeout=10s" uninstall-pod-dry-run.json --max-time 20
save_reads "$LUG_WORK/reads.json"
assert_json '[.response.uid, .response.allowed]' '["3c1f7e0a-0c55-4b8e-9d2f-6a1e4b7c8d07",true]' "$RESPONSE_BODY" \
  "dryRun, flag true: allowed"
assert_json '[.requests[].kind]' '["fresh"]' "$LUG_WORK/reads.json" "dryRun, flag true: after one fresh read, like any review"
set_flag false
post_review "/validate$short_hold" uninstall-pod-dry-run.json --max-time 20
cp "$RESPONSE_BODY" "$LUG_WORK/dry-run-denied.json"
post_review "/validate$short_hold" uninstall-pod-kubectl.json --max-time 20
assert_json '[.response.allowed, .response.status.code, .response.status.reason]' '[false,403,"Forbidden"]' \
  "$LUG_WORK/dry-run-denied.json" "dryRun, flag false: denied with 403 Forbidden"
assert_eq "dryRun, flag false: the same denial as the real request (message aside from the hold time)" \
  "$(jq -c '.response.status | .message |= sub("held this pod for [^,]*"; "")' "$RESPONSE_BODY")" \
  "$(jq -c '.response.status | .message |= sub("held this pod for [^,]*"; "")' "$LUG_WORK/dry-run-denied.json")"

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
