#!/usr/bin/env bash
# Scenario test for longhorn/longhorn issue 10483: the uninstall Job's pod reads
# deleting-confirmation-flag through a lagging watch cache and fails. Starts the Kubernetes
# API stand-in and the guard over TLS, then runs uninstall_scenario.py: many rounds with a
# random cache lag, each run once without the guard (some pods must fail) and once with it
# (through /mutate and /validate, the injected `wait` init container, then the uninstall
# step; no pod may fail).
#
# Usage: tests/scenario/test_uninstall_race.sh PATH_TO_longhorn-uninstall-guard
# Environment: LUG_SUPERVISOR_BIN (required: the longhorn-uninstall-supervisor binary the
# init container installs), LUG_SCENARIO_ROUNDS (default 20), LUG_SCENARIO_SEED (default
# random; the seed is printed so a failing run can be repeated).
# Follows tests/integration/lib.sh's conventions. Takes about 40 s on a 2-core machine.
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" ec || finish

rounds="${LUG_SCENARIO_ROUNDS:-20}"
# Each round costs about 1.5 s with the guard (the cache lag, up to 1.5 s, plus the settle)
# and up to 5 s when the flag comes late enough to be denied once; 4 s a round bounds it.
scenario_limit=$((30 + rounds * 4))

start_kube_api_standin --setting longhorn-system/deleting-confirmation-flag=false || finish

# Short hold and init-container timings keep the run short; the logic is the same as with the
# defaults. --max-hold 1s makes the rounds where the flag is set more than about a second
# after the Job starts end in a denial, so the Job controller's retry is exercised too.
GUARD_KUBE_API="$STANDIN_URL" GUARD_KUBE_TOKEN_FILE="$STANDIN_TOKEN_FILE" start_guard \
  --poll-interval 100ms --max-hold 1s --init-settle 300ms --init-poll-interval 100ms || finish

seed_args=()
[ -n "${LUG_SCENARIO_SEED:-}" ] && seed_args=(--seed "$LUG_SCENARIO_SEED")
summary="$LUG_WORK/summary.json"
timeout -k 5 "$scenario_limit" python3 "$LUG_ROOT/tests/scenario/uninstall_scenario.py" \
  --guard-binary "$GUARD_BIN" --supervisor-binary "${LUG_SUPERVISOR_BIN:?the supervisor binary}" \
  --guard-url "$GUARD_URL" \
  --api "$STANDIN_URL" --ca-file "$PKI_CA" --token-file "$STANDIN_TOKEN_FILE" \
  --review "$LUG_FIXTURES/uninstall-pod-kubectl.json" \
  --rounds "$rounds" "${seed_args[@]}" --summary-file "$summary"
code=$?

case "$code" in
  0 | 1) pass "the scenario ran all $rounds rounds" ;;
  124) fail "the scenario finished within ${scenario_limit}s" ;;
  *) fail "the scenario ran all $rounds rounds" "exit code $code (see the error above)" ;;
esac
if [ -s "$summary" ]; then
  assert_json '.without_guard.failed > 0' true "$summary" "without the guard, some uninstall pods fail (issue 10483)"
  assert_json '.with_guard.failed' 0 "$summary" "with the guard, no uninstall pod fails"
  assert_json '.with_guard.pods' "$rounds" "$summary" "with the guard, every Job got its pod"
fi
assert_log_json_lines "the guard's log is one JSON object per line"
finish
