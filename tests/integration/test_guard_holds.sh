#!/usr/bin/env bash
# /validate holds a pod of the uninstall Job while the flag is not true, against the
# Kubernetes API stand-in:
#
# - a hold ends in an allow as soon as the flag turns true (about one poll interval after
#   the write, not at the deadline), and reads again every poll interval meanwhile;
# - a hold ends in a deny at its deadline: the API server's ?timeout less the answer
#   margin, or --max-hold when that is smaller (10 s when ?timeout is missing), always
#   before the API server itself gives up; the 403 says what was read (value and
#   resourceVersion), the exact kubectl command to set the flag, and that the Job retries;
# - beyond --max-held concurrent holds a pod is denied at once with 429, and the slots
#   come back when the holds end.
#
# Usage: tests/integration/test_guard_holds.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 25 s, most of it holds waiting out deadlines.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

# An answer leaves the guard a few milliseconds after the deadline; a loaded 2-core CI
# machine may add a few hundred more. A deadline is checked from below (less 50 ms for
# rounding: the guard must not answer before it) and from above against the API server's
# own timeout, or generously where that is far away. The deadline arithmetic itself
# (margins, --max-hold, a missing ?timeout) is pinned exactly, in process, by
# tests/unit/test_guard_hold_deadline.cpp; here the windows show that the server applies
# it, which is why the --max-hold windows reach well past 2 s (they need only stay clear
# of the 9 s a ?timeout=10s alone would give).

# --- guard A: defaults (--poll-interval 500ms, --max-hold 25s) --------------------------------
start_standin_guard || finish

# A hold that ends in an allow: the flag is set to true 1 s into the hold.
reset_reads
post_review_bg flip "/validate?timeout=10s" uninstall-pod-kubectl.json
wait_for_reads 1
sleep 1
flipped="$(monotonic_now)"  # just before the write: nothing can see "true" earlier
set_flag true
await_review flip
save_reads "$LUG_WORK/reads.json"
assert_eq "hold ending in allow: HTTP 200" 200 "$BG_STATUS"
assert_json '[.response.uid, .response.allowed]' '["3c1f7e0a-0c55-4b8e-9d2f-6a1e4b7c8d02",true]' "$BG_BODY" \
  "hold ending in allow: the pod is allowed once the flag reads true"
hold_seconds="$(jq -n --argjson a "$BG_ANSWERED" --argjson f "$flipped" '$a - $f')"
assert_eq "hold ending in allow: answered after the write, within a poll interval (plus slack), not at the 9 s deadline" true \
  "$(jq -n --argjson s "$hold_seconds" '$s > 0 and $s < 2.5')"
assert_eq "hold ending in allow: the whole hold took about the time to the write (${BG_SECONDS}s)" true \
  "$(jq -n --argjson t "$BG_SECONDS" '$t > 0.8 and $t < 4')"
assert_eq "hold ending in allow: reads said false before the write, then one said true after it" true \
  "$(jq --argjson f "$flipped" '[.requests[] | select(.value == "false")] as $false
      | [.requests[] | select(.value == "true")] as $true
      | ($false | length) >= 2 and ($true | length) == 1 and ($true[0].received > ($false | map(.received) | max))' \
    "$LUG_WORK/reads.json")"
assert_eq "hold ending in allow: reads about every 500ms while held (2 to 5 reads in the first second)" true \
  "$(jq '[.requests[] | select(.value == "false")] | length | . >= 2 and . <= 5' "$LUG_WORK/reads.json")"

# A hold that ends in a deny at the deadline the API server sets: ?timeout=4s less the
# margin (a quarter, at most 1 s) is 3 s, well under --max-hold.
set_flag false
reset_reads
post_review_bg deny4 "/validate?timeout=4s" uninstall-pod-kubectl.json
await_review deny4
save_reads "$LUG_WORK/reads.json"
assert_eq "deny at ?timeout=4s: HTTP 200" 200 "$BG_STATUS"
assert_json '[.response.allowed, .response.status.code, .response.status.reason]' '[false,403,"Forbidden"]' "$BG_BODY" \
  "deny at ?timeout=4s: denied with 403 Forbidden"
assert_seconds_between "deny at ?timeout=4s: after the 3 s hold, before the API server's 4 s" 2.95 3.95 "$BG_SECONDS"
message="$(json_value .response.status.message "$BG_BODY")"
assert_match "deny message: says how long the pod was held" "held this pod for 3(\.[0-9]+)?s, but" "$message"
assert_contains "deny message: the value and resourceVersion read" \
  "longhorn-system/deleting-confirmation-flag still reads value \"false\" at resourceVersion $FLAG_RV in a fresh read" "$message"
assert_contains "deny message: the exact kubectl command" "run: $CONFIRM_COMMAND." "$message"
assert_contains "deny message: the Job retries by itself" \
  "The Job longhorn-system/longhorn-uninstall retries by itself (a denied pod is never created and does not count as a failure)." \
  "$message"
assert_eq "deny at ?timeout=4s: read every 500ms during the 3 s hold (4 to 8 reads)" true \
  "$(jq '.requests | length | . >= 4 and . <= 8' "$LUG_WORK/reads.json")"
assert_log "the admission log line says what was read" \
  ".msg == \"admission\" and .decision == \"denied\" and (.reason | contains(\"value \\\"false\\\" at resourceVersion $FLAG_RV\"))"
stop_guard

# --- guard B: --max-hold 2s --max-held 3 -----------------------------------------------------------
start_standin_guard --max-hold 2s --max-held 3 || finish

# --max-hold is smaller than what ?timeout=10s allows (9 s): 2 s.
post_review_bg hold10 "/validate?timeout=10s" uninstall-pod-kubectl.json
await_review hold10
assert_json '[.response.allowed, .response.status.code]' '[false,403]' "$BG_BODY" "--max-hold 2s, ?timeout=10s: denied with 403"
assert_seconds_between "--max-hold 2s, ?timeout=10s: the hold ends at --max-hold" 1.95 6 "$BG_SECONDS"
assert_match "--max-hold 2s: the message says the pod was held 2s" "held this pod for 2(\.[0-9]+)?s, but" \
  "$(json_value .response.status.message "$BG_BODY")"

# Without ?timeout the guard assumes the webhook default of 10 s: again --max-hold.
post_review_bg hold_default "/validate" uninstall-pod-kubectl.json
await_review hold_default
assert_json .response.allowed false "$BG_BODY" "--max-hold 2s, no ?timeout: denied"
assert_seconds_between "--max-hold 2s, no ?timeout: the hold ends at --max-hold" 1.95 6 "$BG_SECONDS"

# ?timeout=2s less its margin (0.5 s) is smaller than --max-hold: 1.5 s.
post_review_bg hold2 "/validate?timeout=2s" uninstall-pod-kubectl.json
await_review hold2
assert_json .response.allowed false "$BG_BODY" "--max-hold 2s, ?timeout=2s: denied"
assert_seconds_between "--max-hold 2s, ?timeout=2s: the hold ends 0.5 s before the API server's 2 s" \
  1.45 1.99 "$BG_SECONDS"

# --max-held 3: three holds at once fill it; a fourth is denied at once.
hold_concurrently held 3 "/validate?timeout=10s" uninstall-pod-kubectl.json 20
reset_reads
wait_for_reads 1  # the guard is reading for them: they are held, with about 2 s left
sleep 0.2
post_review_bg fourth "/validate?timeout=10s" uninstall-pod-helm.json
await_review fourth
assert_json '[.response.uid, .response.allowed, .response.status.code, .response.status.reason]' \
  '["3c1f7e0a-0c55-4b8e-9d2f-6a1e4b7c8d01",false,429,"TooManyRequests"]' "$BG_BODY" \
  "--max-held 3: a fourth concurrent hold is denied with 429 TooManyRequests"
assert_seconds_between "--max-held 3: the fourth is denied at once, not held" 0 1 "$BG_SECONDS"
assert_contains "--max-held 3: the message names the limit and says the Job retries" \
  "already holding 3 pods (its --max-held limit)" "$(json_value .response.status.message "$BG_BODY")"
wait_pid_exit "$HOLDER_PID" 20
assert_json '[.requests[] | [.error, .allowed, .code]] | unique' '[[null,false,403]]' "$LUG_WORK/held.json" \
  "--max-held 3: the three held reviews were held to their deadline and denied for the flag"
assert_eq "--max-held 3: the fourth was denied while the three were still held" true \
  "$(jq --argjson t "$BG_ANSWERED" '[.requests[].recv] | min > $t' "$LUG_WORK/held.json")"

# The slots are free again: a new review is held, and allowed when the flag reads true.
set_flag true
post_review_bg after "/validate?timeout=10s" uninstall-pod-helm.json
await_review after
assert_json .response.allowed true "$BG_BODY" "--max-held: once the holds ended, a new review is held and allowed again"
assert_log "the denial for --max-held is logged" '.msg == "admission" and .decision == "denied" and .reason == "too many held requests"'

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
