#!/usr/bin/env bash
# /validate when the flag cannot be read, against the Kubernetes API stand-in's injected
# faults. The guard fails closed: the pod is denied and the message names the reason (a
# bad token, RBAC, a missing Setting, a missing CRD, a server error, throttling, an API
# server too slow for the deadline, a dropped or cut-off connection, an unreachable or
# untrusted API server). Errors a retry cannot fix (401, 403, no CRD) end the hold at once;
# the others are retried every poll interval until the deadline, and a transient one heals
# within the hold. With --on-read-error allow the pod is let through on such errors, but a
# read that answered "not true" (or "no such Setting") still denies it.
#
# Usage: tests/integration/test_guard_read_errors.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 35 s: most cases wait out a 1.5 s hold.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

# ?timeout=2s leaves a hold of 1.5 s (2 s less a quarter); the API server itself would
# give up at 2 s, so every answer must come between the two (less 50 ms for rounding).
hold_query='?timeout=2s'
hold_ends=1.45
api_gives_up=1.99
# Errors that end the hold at once are answered in milliseconds; 1 s is far from both that
# and the 1.5 s deadline, even on a loaded machine.
at_once=1

# read_error_case DESCRIPTION [WHEN]
# Posts the kubectl pod with $hold_query (in the background, to time it) and checks a
# read-failed denial: HTTP 200, allowed false, 503 ServiceUnavailable, the message opening
# and the Job-retries sentence, and the timing: WHEN "at-once" (before $at_once s) or
# "deadline" (the default: after the 1.5 s hold, before the API server's 2 s). Leaves the
# message in MESSAGE and the stand-in's request log in $LUG_WORK/reads.json.
read_error_case() {
  local desc="$1" when="${2:-deadline}"
  reset_reads
  post_review_bg case "/validate$hold_query" uninstall-pod-kubectl.json
  await_review case
  save_reads "$LUG_WORK/reads.json"
  local decision
  { IFS= read -r decision; IFS= read -r MESSAGE; } < <(jq -r \
    '"\(.response.allowed) \(.response.status.code) \(.response.status.reason)", .response.status.message' "$BG_BODY")
  assert_eq "$desc: HTTP 200, denied with 503 ServiceUnavailable" "200 false 503 ServiceUnavailable" "$BG_STATUS $decision"
  assert_contains "$desc: the message says the setting could not be read" \
    "could not read the Longhorn setting longhorn-system/deleting-confirmation-flag from the API server" "$MESSAGE"
  assert_contains "$desc: the message says the Job retries by itself" "retries by itself" "$MESSAGE"
  if [ "$when" = at-once ]; then
    assert_seconds_between "$desc: denied at once, no hold" 0 "$at_once" "$BG_SECONDS"
    assert_json '.requests | length' 1 "$LUG_WORK/reads.json" "$desc: one read, not retried"
  else
    assert_seconds_between "$desc: retried until the deadline" "$hold_ends" "$api_gives_up" "$BG_SECONDS"
  fi
}

# assert_retried DESCRIPTION: the stand-in saw at least two reads in the last case.
assert_retried() {
  assert_eq "$1: read again during the hold (at least 2 reads)" true \
    "$(jq '.requests | length >= 2' "$LUG_WORK/reads.json")"
}

start_standin_guard --poll-interval 250ms || finish
set_flag true

# --- errors that end the hold at once -------------------------------------------------------
control PUT tokens '{"accept": ["a-token-the-guard-does-not-have"]}'
read_error_case "401 (the token is refused)" at-once
assert_contains "401: the message shows the API server's answer" "unauthorized (HTTP 401): Unauthorized" "$MESSAGE"
assert_contains "401: the message points at the credentials" \
  "The API server did not accept the guard's credentials: check its service-account token." "$MESSAGE"
reset_standin
set_flag true

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 403}"
read_error_case "403 (RBAC forbids the read)" at-once
assert_contains "403: the message shows the API server's RBAC message" \
  'forbidden (HTTP 403): settings.longhorn.io "deleting-confirmation-flag" is forbidden: User' "$MESSAGE"
assert_contains "403: the message names the missing permission" \
  "Grant the guard's service account \"get\" on settings.longhorn.io named deleting-confirmation-flag in namespace longhorn-system" \
  "$MESSAGE"
control DELETE faults

control PUT crd '{"installed": false}'
read_error_case "404 (no Longhorn CRD)" at-once
assert_contains "404 CRD: the message says the API is not served" \
  "the API server does not serve longhorn.io/v1beta2 settings (is Longhorn installed?) (HTTP 404)" "$MESSAGE"
assert_contains "404 CRD: the message asks about the CRDs and --setting-api-version" \
  "are the Longhorn CRDs installed, and does --setting-api-version match" "$MESSAGE"
control PUT crd '{"installed": true}'

# --- errors retried until the deadline ------------------------------------------------------------
control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 500}"
read_error_case "500"
assert_retried "500"
assert_contains "500: the message shows the API server's error" \
  "API server error (HTTP 500): Internal error occurred: injected fault" "$MESSAGE"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 429}"
read_error_case "429 (API priority and fairness)"
assert_contains "429: the message says the guard is throttled" "throttled by the API server (HTTP 429)" "$MESSAGE"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"delay\", \"delay_ms\": 5000}"
read_error_case "an API server slower than the deadline"
assert_contains "slow API server: the message says it did not answer in time" \
  "The API server did not answer in time" "$MESSAGE"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"hang\"}"
read_error_case "an API server that never answers"
assert_contains "hung API server: the message says it did not answer in time" \
  "The API server did not answer in time" "$MESSAGE"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"drop\"}"
read_error_case "connection dropped without an answer"
assert_retried "dropped connection"
assert_contains "dropped connection: the message says the connection was lost" \
  "API server unreachable: connection to 127.0.0.1:${STANDIN_URL##*:} lost while waiting for the response: the server closed the connection" \
  "$MESSAGE"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"truncate\"}"
read_error_case "answer cut off half way"
assert_contains "cut-off answer: the message says so" "was cut off" "$MESSAGE"
control DELETE faults

# A 200 of another object than the one asked for, saying "true", is a failed read, never
# a value: the flag reads false, so admitting here would be the guard's mistake.
set_flag false
control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"other_object\"}"
read_error_case "a 200 of another Setting saying \"true\""
assert_retried "another object"
assert_contains "another object: the message names what came back" \
  'unexpected response (HTTP 200): asked for the Setting longhorn-system/deleting-confirmation-flag, the API server returned "longhorn-system"/"deleting-confirmation-flag-other"' \
  "$MESSAGE"
control DELETE faults
set_flag true

control PUT "settings/$FLAG_NAMESPACE/$FLAG_NAME" '{"value": true}'
read_error_case "a Setting whose value is not a string"
assert_contains "non-string value: the message says what came back" "the Setting's value is boolean, not a string" "$MESSAGE"
set_flag true

# A transient error heals within the hold: two 503s, then the read works.
control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 503, \"count\": 2}"
reset_reads
post_review_bg heal "/validate?timeout=10s" uninstall-pod-kubectl.json
await_review heal
save_reads "$LUG_WORK/reads.json"
assert_json .response.allowed true "$BG_BODY" "two 503s, then true: allowed within the same hold"
assert_json '[.requests[].status]' '[503,503,200]' "$LUG_WORK/reads.json" "two 503s, then true: retried every poll interval"
assert_seconds_between "two 503s, then true: answered after two poll intervals" 0.45 3 "$BG_SECONDS"

# --- a missing Setting is an answer: Longhorn's default, false ---------------------------------------
control DELETE "settings/$FLAG_NAMESPACE/$FLAG_NAME"
reset_reads
post_review_bg missing "/validate$hold_query" uninstall-pod-kubectl.json
await_review missing
save_reads "$LUG_WORK/reads.json"
assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$BG_BODY" \
  "404 (no such Setting): denied with 403, like false"
assert_seconds_between "404 (no such Setting): held until the deadline (it may be created)" "$hold_ends" "$api_gives_up" "$BG_SECONDS"
assert_contains "404 (no such Setting): the message says it does not exist and reads as false" \
  "the Longhorn setting longhorn-system/deleting-confirmation-flag does not exist, which longhorn-manager reads as \"false\"" \
  "$(json_value .response.status.message "$BG_BODY")"
assert_contains "404 (no such Setting): the patch command is for once longhorn-manager has created it" \
  "Once longhorn-manager has created the setting, confirm the uninstall with: kubectl -n longhorn-system patch" \
  "$(json_value .response.status.message "$BG_BODY")"
assert_json '[.requests[].status] | unique' '[404]' "$LUG_WORK/reads.json" "404 (no such Setting): the stand-in answered 404"
set_flag true
stop_guard

# --- an API server nobody listens on, or one we do not trust ---------------------------------------
unused_port="$(free_port)"
GUARD_KUBE_API="https://127.0.0.1:$unused_port" GUARD_KUBE_TOKEN_FILE="$STANDIN_TOKEN_FILE" start_guard --poll-interval 250ms ||
  finish
read_error_case "unreachable API server"
assert_contains "unreachable API server: the message says the connection was refused" \
  "API server unreachable: cannot connect to the API server at 127.0.0.1:$unused_port: Connection refused" "$MESSAGE"
assert_contains "unreachable API server: the message says it could not be reached" \
  "The API server could not be reached from the guard." "$MESSAGE"
stop_guard

reset_reads
GUARD_KUBE_CA="$PKI_OTHER_CA" start_standin_guard --poll-interval 250ms || finish
read_error_case "API server certificate from another CA"
assert_contains "untrusted API server: the message says the certificate was rejected" \
  "the server's certificate was rejected" "$MESSAGE"
assert_contains "untrusted API server: the message says to check the CA" \
  "The guard does not trust the API server's certificate: check the CA it was given." "$MESSAGE"
save_reads "$LUG_WORK/reads.json"
assert_json '.requests | length' 0 "$LUG_WORK/reads.json" "untrusted API server: no request is ever sent to it"
stop_guard

# --- --on-read-error allow ---------------------------------------------------------------------------
start_standin_guard --poll-interval 250ms --on-read-error allow || finish

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 403}"
post_review_bg allow403 "/validate$hold_query" uninstall-pod-kubectl.json
await_review allow403
assert_json '[.response.allowed, (.response | has("status"))]' '[true,false]' "$BG_BODY" "--on-read-error allow, 403: allowed"
assert_seconds_between "--on-read-error allow, 403: allowed at once" 0 "$at_once" "$BG_SECONDS"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 500}"
post_review_bg allow500 "/validate$hold_query" uninstall-pod-kubectl.json
await_review allow500
assert_json .response.allowed true "$BG_BODY" "--on-read-error allow, 500: allowed"
assert_seconds_between "--on-read-error allow, 500: allowed only when the retries ran out at the deadline" "$hold_ends" "$api_gives_up" "$BG_SECONDS"
control DELETE faults

control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"hang\"}"
post_review_bg allowhang "/validate$hold_query" uninstall-pod-kubectl.json
await_review allowhang
assert_json .response.allowed true "$BG_BODY" "--on-read-error allow, no answer: allowed at the deadline"
control DELETE faults
assert_log "--on-read-error allow: the log says why the pod was let through" \
  '.msg == "admission" and .decision == "allowed" and (.reason | contains("allowed by --on-read-error=allow"))'

# Answers that are not true still deny: false, a missing Setting, and false followed by errors.
set_flag false
post_review_bg allowfalse "/validate$hold_query" uninstall-pod-kubectl.json
await_review allowfalse
assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$BG_BODY" "--on-read-error allow, flag false: still denied"

control DELETE "settings/$FLAG_NAMESPACE/$FLAG_NAME"
post_review_bg allowmissing "/validate$hold_query" uninstall-pod-kubectl.json
await_review allowmissing
assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$BG_BODY" \
  "--on-read-error allow, no such Setting: still denied"
set_flag false

reset_reads
post_review_bg falsethen500 "/validate?timeout=4s" uninstall-pod-kubectl.json
wait_for_reads 1 '.value == "false"'
control POST faults "{\"match\": \"$FLAG_NAME\", \"mode\": \"status\", \"status\": 500}"
await_review falsethen500
save_reads "$LUG_WORK/reads.json"
control DELETE faults
assert_eq "--on-read-error allow, false then 500s: the hold saw an answered false, then errors (precondition)" true \
  "$(jq '[.requests[].status] | (.[0] == 200) and (.[-1] == 500)' "$LUG_WORK/reads.json")"
assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$BG_BODY" \
  "--on-read-error allow, false then 500s: denied for the answered false"
assert_contains "--on-read-error allow, false then 500s: the message gives the value read" \
  "still reads value \"false\" at resourceVersion $FLAG_RV" "$(json_value .response.status.message "$BG_BODY")"

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
