#!/usr/bin/env bash
# The guard's safety invariant, over a randomized run against the Kubernetes API stand-in:
# an in-scope pod is allowed only after a fresh read of the flag that started after its
# review arrived said true. For about 35 s, at random, the flag is written (true, false,
# "True", "", "yes", deleted...), the guard's reads are slowed, failed (500, 503, 429,
# 403), dropped, truncated or hung, and eight workers post in-scope reviews with a random
# ?timeout= of 1-5 s, plus out-of-scope ones; a closing phase then sends, three times, a
# review while another's slowed read that will say true is in flight, so that case is in
# every run whatever the seed. safety_invariant.py (next to this file) runs
# it and checks, from the stand-in's request log (CLOCK_MONOTONIC stamps, like its own):
#
# - every allowed in-scope review has a fresh GET of the flag, answered in full with a
#   value Longhorn reads as true, that the stand-in received after the review was sent
#   and before its answer came (and, when the guard's log names a resourceVersion, that one);
# - every review got an answer echoing its uid, by its ?timeout (loosely); out-of-scope
#   reviews were all allowed; the guard's log agrees with every answer; it never read the
#   watch cache;
# - the run was meaningful: enough reviews allowed, denied and held to their deadline,
#   enough flag writes, reads and faults, and reviews sent while a true read was in flight.
#
# The checker is first run on a synthetic trace holding a violation (--self-test), which
# it must report. The seed is printed; LUG_SAFETY_SEED=N replays a run's random choices
# (their interleaving still depends on timing); LUG_SAFETY_SECONDS sets the duration.
#
# Usage: tests/integration/test_safety_invariant.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 45 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

driver="$LUG_LIB_DIR/safety_invariant.py"
seconds="${LUG_SAFETY_SECONDS:-35}"
seed="${LUG_SAFETY_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
if ! [[ "$seed" =~ ^[0-9]+$ ]]; then
  echo "LUG_SAFETY_SEED must be a non-negative integer, got '$seed'" >&2
  exit 2
fi
echo "# seed $seed (replay with LUG_SAFETY_SEED=$seed)"

# --- the checker catches a violation ------------------------------------------------------------
assert_true "the checker reports an allowed review whose only true read started before it arrived" \
  timeout -k 2 30 python3 "$driver" --self-test

# --- the randomized run -------------------------------------------------------------------------
# A short poll interval makes many reads, and many chances to hand a review a stale one.
start_standin_guard --poll-interval 150ms || finish
report="$LUG_WORK/report.json"
# Bounded: the run, then at most a 5 s hold and the client's 20 s answer limit, then the check.
timeout -k 5 "$((${seconds%.*} + 60))" python3 "$driver" --seed "$seed" --seconds "$seconds" \
  --guard-url "$GUARD_URL" --standin-url "$STANDIN_URL" --ca "$PKI_CA" --fixtures "$LUG_FIXTURES" \
  --guard-log "$GUARD_LOG" --report "$report" --trace "$LUG_WORK/trace.json"
driver_exit=$?
assert_eq "the randomized run completed (seed $seed)" 0 "$driver_exit"

if [ -s "$report" ]; then
  checks="$(jq '.checks | length' "$report")"
  for ((i = 0; i < checks; i++)); do
    description="$(jq -r ".checks[$i].description" "$report")"
    if [ "$(jq -r ".checks[$i].ok" "$report")" = true ]; then
      pass "$description"
    else
      mapfile -t details < <(jq -r ".checks[$i].details[]" "$report")
      fail "$description (seed $seed)" "${details[@]}"
    fi
  done
else
  fail "the randomized run wrote its report (seed $seed)"
fi

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
[ "$LUG_FAILED" -gt 0 ] && echo "# seed $seed; LUG_KEEP_WORK=1 keeps $LUG_WORK/trace.json, the whole trace"
finish
