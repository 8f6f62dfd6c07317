#!/usr/bin/env bash
# Held reviews share the guard's reads of the flag, but every answer stays fresh; and
# holding never slows anything else down. Against the Kubernetes API stand-in, whose
# request log has CLOCK_MONOTONIC timestamps the test compares with its own:
#
# - 50 reviews held together for about 3 s at --poll-interval 500ms cost about one read
#   per poll interval, one at a time over one kept-alive connection; all are allowed
#   within a poll interval of the flag turning true;
# - no review is answered from a read that started before it was sent: a review sent
#   while a slow read is in flight waits for the next read;
# - while 100 reviews are held, /healthz and out-of-scope reviews answer at once.
#
# Usage: tests/integration/test_guard_coalescing.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 20 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

poll=0.5
start_standin_guard --poll-interval 500ms --max-hold 12s || finish

# check_fresh_answers FILE DESCRIPTION
# Every review in FILE (post_concurrently's output) that was allowed has a read that
# returned "true" and that the stand-in received after the review was sent and before its
# answer came. (The stand-in's "sent" stamp is taken after its write returns, which on a
# loaded machine can be after the guard has already answered: it is not compared.)
check_fresh_answers() {
  assert_eq "$2: every allowed review was answered by a read started after it was sent" '[]' \
    "$(jq -c --slurpfile reads "$LUG_WORK/reads.json" '
        [$reads[0].requests[] | select(.value == "true")] as $true_reads
        | [.requests[] | select(.allowed == true)
           | . as $r | select([$true_reads[] | select(.received > $r.send and .received < $r.recv)] | length == 0)
           | .uid]' "$1")"
}

# --- 50 held reviews, one read per poll interval -----------------------------------------------
held=50
hold_for=3
reset_reads
hold_concurrently fifty "$held" "/validate?timeout=10s" uninstall-pod-kubectl.json 30
all_sent="$(cat "$LUG_WORK/fifty.ready")"
sleep "$hold_for"
if kill -0 "$HOLDER_PID" 2>/dev/null; then pass "$held reviews are still held after ${hold_for}s"; else fail "$held reviews are still held after ${hold_for}s"; fi
flipped="$(monotonic_now)"  # just before the write: nothing can see "true" earlier
set_flag true
wait_pid_exit "$HOLDER_PID" 20
save_reads "$LUG_WORK/reads.json"
assert_json '[.requests[] | [.error, .allowed]] | unique' '[[null,true]]' "$LUG_WORK/fifty.json" \
  "$held held reviews: all allowed once the flag reads true"
assert_eq "$held held reviews: all answered after the write, within 2.5 s of it (a poll interval plus slack)" true \
  "$(jq --argjson f "$flipped" '[.requests[].recv] | (min > $f) and (max < $f + 2.5)' "$LUG_WORK/fifty.json")"
# Reads while all were held: from the moment the last one was sent until the write.
window="$(jq -n --argjson a "$all_sent" --argjson f "$flipped" '$f - $a')"
expected="$(jq -n --argjson w "$window" --argjson p "$poll" '$w / $p | floor + 1')"
steady="$(jq --argjson a "$all_sent" --argjson f "$flipped" \
  '[.requests[] | select(.received > $a and .received < $f)] | length' "$LUG_WORK/reads.json")"
total="$(jq '.requests | length' "$LUG_WORK/reads.json")"
echo "# $held reviews held ${window}s: $steady reads while all were held (one per poll interval: $expected), $total in all"
assert_eq "$held held reviews: about one read per poll interval ($steady reads in ${window}s, at most 2 x $expected)" true \
  "$(jq -n --argjson n "$steady" --argjson e "$expected" '$n >= ($e / 2 | floor) and $n <= 2 * $e')"
assert_eq "$held held reviews: $total reads in all, nowhere near one per review per poll interval" true \
  "$(jq -n --argjson n "$total" --argjson e "$expected" --argjson h "$held" '$n <= 2 * $e + $h / 5')"
assert_json '[.requests[] | select(.kind != "fresh" or .query != "")] | length' 0 "$LUG_WORK/reads.json" \
  "$held held reviews: every read was a quorum GET"
assert_eq "$held held reviews: one read at a time, over one kept-alive connection (at most one reconnect)" true \
  "$(jq '[.requests[].connection] | unique | length <= 2' "$LUG_WORK/reads.json")"
check_fresh_answers "$LUG_WORK/fifty.json" "$held held reviews"

# --- freshness: a review sent during a slow read waits for the next one --------------------------
# The flag is already true. Every fresh read takes 1.5 s. A review sent while the first
# read is in flight must not take its answer: that read started before the review came.
slow_ms=1500
control POST faults "{\"match\": \"$FLAG_NAME\", \"read\": \"fresh\", \"mode\": \"delay\", \"delay_ms\": $slow_ms}"
reset_reads
post_review_bg first "/validate?timeout=10s" uninstall-pod-kubectl.json
wait_for_reads 1
post_review_bg second "/validate?timeout=10s" uninstall-pod-helm.json
await_review second
second_started="$BG_STARTED" second_answered="$BG_ANSWERED" second_seconds="$BG_SECONDS"
cp "$BG_BODY" "$LUG_WORK/second.json"
await_review first
control DELETE faults
save_reads "$LUG_WORK/reads.json"
assert_json .response.allowed true "$BG_BODY" "slow reads: the first review is allowed by the read it started"
assert_json .response.allowed true "$LUG_WORK/second.json" "slow reads: the second review is allowed"
assert_eq "slow reads: the second review was sent while the first read was in flight (test precondition)" true \
  "$(jq --argjson s "$second_started" '.requests[0] | .received < $s and .sent > $s' "$LUG_WORK/reads.json")"
assert_json '.requests | length' 2 "$LUG_WORK/reads.json" "slow reads: two reads, one for each review"
assert_eq "slow reads: the second review was answered only after a read that the stand-in received after it was sent" true \
  "$(jq --argjson s "$second_started" --argjson a "$second_answered" \
      '[.requests[] | select(.received > $s and .received < $a and .value == "true")] | length == 1' "$LUG_WORK/reads.json")"
assert_seconds_between "slow reads: the second review waited for a whole read of its own" 1.4 6 "$second_seconds"

# --- 100 held reviews do not slow /healthz or out-of-scope reviews ------------------------------
many=100
set_flag false
reset_reads
hold_concurrently hundred "$many" "/validate?timeout=10s" uninstall-pod-kubectl.json 30
sleep 0.5  # every request has reached the guard and is held
: >"$LUG_WORK/probes.txt"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  echo "healthz $(probe_seconds /healthz)" >>"$LUG_WORK/probes.txt"
  echo "validate $(probe_seconds /validate -X POST -H 'Content-Type: application/json' \
    --data-binary "@$(fixture_path other-pod.json)")" >>"$LUG_WORK/probes.txt"
done
probes_done="$(monotonic_now)"
# The API server's webhook timeout is 10 s and kubelet probes allow 1 s by default: a
# probe held behind the holds would take seconds; an unloaded one takes milliseconds.
slowest="$(awk '{ if ($3 > max) max = $3 } END { printf "%.3f", max }' "$LUG_WORK/probes.txt")"
assert_eq "while $many reviews are held: 20 probes all answered 200" 20 "$(awk '$2 == 200' "$LUG_WORK/probes.txt" | wc -l | tr -d ' ')"
assert_seconds_between "while $many reviews are held: the slowest /healthz or out-of-scope review" 0 1 "$slowest"
set_flag true
wait_pid_exit "$HOLDER_PID" 20
save_reads "$LUG_WORK/reads.json"
assert_eq "the $many reviews were still held while the probes ran" true \
  "$(jq --argjson p "$probes_done" '[.requests[].recv] | min > $p' "$LUG_WORK/hundred.json")"
assert_json '[.requests[] | [.error, .allowed]] | unique' '[[null,true]]' "$LUG_WORK/hundred.json" \
  "$many held reviews: all allowed once the flag reads true"
total="$(jq '.requests | length' "$LUG_WORK/reads.json")"
window="$(jq --argjson f "$(monotonic_now)" '$f - .all_sent' "$LUG_WORK/hundred.json")"
expected="$(jq -n --argjson w "$window" --argjson p "$poll" '$w / $p | floor + 1')"
echo "# $many reviews held about ${window}s: $total reads"
assert_eq "$many held reviews: $total reads, about one per poll interval (at most 2 x $expected + $((many / 5)))" true \
  "$(jq -n --argjson n "$total" --argjson e "$expected" --argjson h "$many" '$n <= 2 * $e + $h / 5')"
check_fresh_answers "$LUG_WORK/hundred.json" "$many held reviews"

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
