#!/usr/bin/env bash
# The README's first command: builds the project if needed, then shows the guard at work in
# about a minute, with no cluster. A Kubernetes API stand-in (tests/support/kube_api_standin.py)
# serves the Longhorn setting deleting-confirmation-flag, with a watch cache that lags a few
# seconds behind, and AdmissionReviews are posted to the guard with curl, as the API server
# would post them when the Job controller creates the uninstall pod:
#
#   1. the flag is "false": the pod's admission is held, then denied at the API server's deadline;
#   2. held again, the flag is set to "true": the pod is admitted within one poll interval;
#   3. /mutate's init container, run here as injected, waits until the flag reads "true" fresh and
#      cached and installs the supervisor;
#   4. what really fails (longhorn/longhorn#10483): longhorn-manager checks the flag before its own
#      Settings informer has synced and refuses; the supervisor runs it again, and only then
#      (shown with a scripted stand-in for longhorn-manager that refuses once);
#   5. `check` shows both reads agreeing.
#
# Usage: scripts/demo.sh [--scenario]
#   --scenario   afterwards, also run the scenario test: 20 randomized uninstalls without and
#                with the guard (about a minute more)
# With GUARD_BIN=PATH set, that binary is used and nothing is built (SUPERVISOR_BIN=PATH: the
# supervisor, by default the one built beside it).
# Exit status: 0 when everything behaved as narrated, 1 otherwise. Every process it starts is
# stopped on exit, including on Ctrl-C.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

run_scenario=0
case "${1:-}" in
  "") ;;
  --scenario) run_scenario=1 ;;
  -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--scenario]" >&2; exit 2 ;;
esac

# --- narration ---------------------------------------------------------------------------
if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' red=$'\e[31m' plain=$'\e[0m'; else bold="" dim="" red="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s\n' "$*" | fold -s -w 100; }
# show: indents what a command printed, so it stands apart from the narration.
show() { sed "s/^/   ${dim}|${plain} /"; }
# shows COMMAND_LINE: prints a command line as someone would type it.
shows() { printf '   $ %s\n' "$*"; }
unexpected() {
  printf '\n%sdemo failed: %s%s\n' "$red" "$*" "$plain" >&2
  exit 1
}

# --- build -------------------------------------------------------------------------------
if [ -z "${GUARD_BIN:-}" ]; then
  step "Building (the first build takes a few minutes; later ones only check that nothing changed)"
  build_log="$(mktemp "${TMPDIR:-/tmp}/lug-demo-build.XXXXXX")"
  say "${dim}(build output: $build_log)${plain}"
  # Only the binary: the test targets are scripts/test.sh's business.
  if ! { scripts/install-deps.sh && cmake --preset dev &&
    cmake --build --preset dev --target longhorn-uninstall-guard longhorn-uninstall-supervisor; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" | show
    unexpected "the build failed (full log: $build_log)"
  fi
  rm -f "$build_log"
  GUARD_BIN=build/dev/webhook/longhorn-uninstall-guard
  say "built $GUARD_BIN"
fi

source tests/integration/lib.sh
setup_test "$GUARD_BIN" >/dev/null
FLAG=longhorn-system/deleting-confirmation-flag
KUBECTL_PATCH="kubectl -n longhorn-system patch -p '{\"value\": \"true\"}' --type=merge lhs deleting-confirmation-flag"
# How far the stand-in's watch cache lags behind its store: long enough to see, short enough to wait out.
CACHE_LAG_MS=4000
# The init container's settle delay, shortened from its 10 s default to keep the demo short.
INIT_SETTLE=0s
# How often the guard re-reads the setting while it holds a pod (its default).
HOLD_POLL=500ms

# post_pod ENDPOINT TIMEOUT OUT: posts the uninstall pod's AdmissionReview (the pod of
# `kubectl create -f uninstall.yaml`) to ENDPOINT?timeout=TIMEOUT as the API server does;
# writes the answer to OUT and curl's total time in seconds to OUT.time.
post_pod() {
  curl -sS --max-time 40 --cacert "$PKI_CA" -H 'Content-Type: application/json' \
    --data-binary "@$LUG_FIXTURES/uninstall-pod-kubectl.json" -o "$3" -w '%{time_total}' \
    "$GUARD_URL$1?timeout=$2" >"$3.time"
}
# guard_admission_log: the guard's last admission log line, the fields a reader cares about.
guard_admission_log() {
  jq -R -c 'fromjson? | select(.msg == "admission") | {endpoint, decision, reason, duration_ms: (.duration_ms | floor)}' \
    "$GUARD_LOG" | tail -n 1
}
fresh_reads() { standin_control GET reads | jq -r '.counts.fresh' 2>/dev/null; }
check_flag() {
  shows "longhorn-uninstall-guard check"
  "$GUARD_BIN" check "${KUBE_FLAGS[@]}" 2>&1 | show
  return "${PIPESTATUS[0]}"
}

# --- servers -----------------------------------------------------------------------------
step "Starting a Kubernetes API stand-in and the guard"
gen_test_pki "$LUG_WORK/pki" ec >/dev/null || unexpected "could not create throw-away certificates"
start_kube_api_standin --setting "$FLAG=false" --cache-lag-ms "$CACHE_LAG_MS" >/dev/null ||
  unexpected "the API stand-in did not start"
say "API stand-in: $STANDIN_URL (HTTPS, bearer token)."
say "It holds the setting $FLAG = \"false\", and its watch cache (what resourceVersion=0 reads get)" \
  "lags $((CACHE_LAG_MS / 1000)) s behind every write."
KUBE_FLAGS=(--kube-api "$STANDIN_URL" --kube-ca-file "$PKI_CA" --kube-token-file "$STANDIN_TOKEN_FILE")
GUARD_KUBE_API="$STANDIN_URL" GUARD_KUBE_TOKEN_FILE="$STANDIN_TOKEN_FILE" start_guard --poll-interval "$HOLD_POLL" --init-settle "$INIT_SETTLE" \
  >/dev/null || unexpected "the guard did not start (log: $(tail -n 3 "$GUARD_LOG"))"
say "guard: longhorn-uninstall-guard serve, listening on $GUARD_URL (/validate, /mutate; its probes on" \
  "$GUARD_PROBE_URL, /metrics on $GUARD_METRICS_URL), re-reading the setting every $HOLD_POLL while it holds a pod."

# --- 1: held, then denied ------------------------------------------------------------------
step "1. The flag is \"false\": the uninstall pod is held, then denied"
say "The Job controller creates the uninstall pod; the API server asks /validate and tells the guard its" \
  "deadline (here ?timeout=4s). The guard reads the setting fresh, sees \"false\" and holds the request," \
  "reading again every $HOLD_POLL, until just before the deadline:"
post_pod /validate 4s "$LUG_WORK/denied.json" || unexpected "POST /validate failed: $(cat "$LUG_WORK/denied.json.time")"
[ "$(jq -r .response.allowed "$LUG_WORK/denied.json")" = false ] || unexpected "the pod was not denied: $(cat "$LUG_WORK/denied.json")"
printf '   answered after %.1fs: allowed=false, HTTP %s\n' "$(cat "$LUG_WORK/denied.json.time")" \
  "$(jq -r .response.status.code "$LUG_WORK/denied.json")"
jq -r .response.status.message "$LUG_WORK/denied.json" | fold -s -w 94 | show
say "A denied pod is never created, so nothing fails: the Job controller simply tries again with backoff."

# --- 2: held, then admitted ----------------------------------------------------------------
step "2. Held again; the flag is set to \"true\"; the pod is admitted"
standin_control DELETE reads >/dev/null
say "The Job controller retries (the API server's usual deadline: ?timeout=10s)..."
post_pod /validate 10s "$LUG_WORK/admitted.json" &
held_pid=$!
register_pid "$held_pid"
sleep 3
kill -0 "$held_pid" 2>/dev/null || unexpected "the request was answered while the flag was false: $(cat "$LUG_WORK/admitted.json")"
say "3 s later the request is still held (curl is waiting for its answer); the guard has read the setting" \
  "fresh $(fresh_reads) times meanwhile. What an operator sees:"
check_flag
[ $? -eq 1 ] || unexpected "check should exit 1 while the flag is false"
say "Now the user confirms the uninstall:"
shows "$KUBECTL_PATCH"
say "${dim}(here: the same write, through the stand-in's control API)${plain}"
flag_set_us="$(now_us)"
standin_control PUT "settings/$FLAG" '{"value": "true"}' >/dev/null || unexpected "could not set the flag"
wait_pid_exit "$held_pid" 12 || unexpected "POST /validate did not answer 0 (exit $?)"
answered_after="$(elapsed_since "$flag_set_us")"
[ "$(jq -r .response.allowed "$LUG_WORK/admitted.json")" = true ] ||
  unexpected "the pod was not admitted: $(cat "$LUG_WORK/admitted.json")"
printf '   admitted (allowed=true) %ss after the flag was set; the request was held %.1fs in all\n' \
  "$answered_after" "$(cat "$LUG_WORK/admitted.json.time")"
say "The guard's log line for it:"
guard_admission_log | show

# --- 3: the lagging cache, and the init container ----------------------------------------------
step "3. The init container: the flag reads true everywhere, and the supervisor is installed"
say "Right now, a fresh read and a cached read (what an informer's first LIST may get) of the setting:"
check_flag
[ $? -eq 0 ] || unexpected "check should exit 0 once the flag is true"
"$GUARD_BIN" check "${KUBE_FLAGS[@]}" --output json | jq -e '.cached.flag != "true"' >/dev/null ||
  say "${dim}(this machine was slow enough for the cache to catch up already)${plain}"
say "/mutate adds an init container in front of the uninstall container, and runs the uninstall command" \
  "under the supervisor the init container installs:"
post_pod /mutate 10s "$LUG_WORK/mutated.json" || unexpected "POST /mutate failed"
jq -r .response.patch "$LUG_WORK/mutated.json" | base64 -d >"$LUG_WORK/patch.json" ||
  unexpected "/mutate returned no patch: $(cat "$LUG_WORK/mutated.json")"
# The decoded JSON patch: the init container (the first operation), one line per field that
# matters to a reader, then the operations that run the uninstall command under the supervisor.
jq -r '(.[0] | "\(.op) \(.path):", (.value | if type == "array" then .[0] else . end |
    "  name:            \(.name)",
    "  image:           \(.image)",
    "  command:         \((.command + .args) | join(" "))",
    "  securityContext: runAsNonRoot=\(.securityContext.runAsNonRoot), readOnlyRootFilesystem=\(.securityContext.readOnlyRootFilesystem), drop \(.securityContext.capabilities.drop | join(",")), seccomp \(.securityContext.seccompProfile.type)",
    "  volumeMounts:    \(.volumeMounts | map("\(.name) at \(.mountPath)") | join(", "))")),
  (.[1:][] | "\(.op) \(.path): \(.value | if type == "array" and (.[0] | type) == "string" then join(" ")
    elif type == "array" then .[0] else . end | if type == "object" then tojson else . end)")' \
  "$LUG_WORK/patch.json" | show
mapfile -t init_command < <(jq -r '.[0].value | if type == "array" then .[0] else . end | (.command + .args)[]' "$LUG_WORK/patch.json")
[ "${init_command[1]:-}" = wait ] || unexpected "the injected container does not run \`wait\`: ${init_command[*]}"
# The pod's emptyDir volume is a directory here, and the image's supervisor the one built.
mkdir -p "$LUG_WORK/volume"
init_command=("${init_command[@]//\/run\/longhorn-uninstall-guard/$LUG_WORK/volume}")
supervisor_bin="${SUPERVISOR_BIN:-$(dirname "$GUARD_BIN")/supervisor/longhorn-uninstall-supervisor}"
init_command+=(--supervisor-source "$supervisor_bin")
say "Running that command line here (the in-cluster service account given as --kube-* flags):"
shows "longhorn-uninstall-guard ${init_command[*]:1} --kube-api ..."
wait_start_us="$(now_us)"
timeout -k 2 30 "$GUARD_BIN" "${init_command[@]:1}" "${KUBE_FLAGS[@]}" 2>&1 |
  sed -E 's/^[0-9T:.-]+Z? *//' | show
wait_exit="${PIPESTATUS[0]}"
[ "$wait_exit" -eq 0 ] || unexpected "the init container's wait exited $wait_exit"
say "It exited 0 after $(elapsed_since "$wait_start_us")s, once both reads said true (then a settle of" \
  "$INIT_SETTLE; none by default). Only now does the uninstall container start."
[ -x "$LUG_WORK/volume/longhorn-uninstall-supervisor" ] ||
  unexpected "the init container did not install the supervisor into the pod's volume"

# --- 4: what really fails, and the supervisor -------------------------------------------------
step "4. What really fails: longhorn-manager checks the flag before its own cache has it"
say "Even with the flag true everywhere, \`longhorn-manager uninstall\` can refuse: it checks the flag" \
  "through its Settings informer, but waits for every other informer's cache except that one, and an" \
  "empty cache reads as the default, \"false\" (measured on a real control plane: README, Results)." \
  "Here a scripted stand-in for longhorn-manager refuses that way once, then uninstalls, run as the" \
  "patched uninstall container runs it:"
mkdir -p "$LUG_WORK/standin"
shows "/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor --attempts=5 -- longhorn-manager uninstall --force"
STANDIN_DIR="$LUG_WORK/standin" STANDIN_SCENARIO=refuse-then-succeed STANDIN_REFUSALS=1 \
  timeout -k 2 30 "$LUG_WORK/volume/longhorn-uninstall-supervisor" --attempts=5 --delay=200ms -- \
  bash tests/integration/longhorn_manager_standin.sh uninstall --force 2>&1 | show
supervised_exit="${PIPESTATUS[0]}"
[ "$supervised_exit" -eq 0 ] || unexpected "the supervised uninstall exited $supervised_exit"
[ "$(cat "$LUG_WORK/standin/attempts")" = 2 ] || unexpected "the stand-in should have run twice"
say "The refusal came before anything was deleted (no \"Uninstalling...\" yet), so the supervisor ran it" \
  "again, and the pod succeeds instead of failing. Any other failure is passed through as it is; if the" \
  "flag really were false, every attempt would be refused and the pod would fail as it always has."

# --- 5: both reads agree ---------------------------------------------------------------------
step "5. Both reads agree"
check_flag
[ $? -eq 0 ] || unexpected "check should exit 0"
"$GUARD_BIN" check "${KUBE_FLAGS[@]}" --output json | jq -e '.cached.flag == "true"' >/dev/null ||
  unexpected "the cached read should say true after wait exited 0"

if [ "$run_scenario" = 1 ]; then
  step "Scenario: 20 randomized uninstalls, without and with the guard"
  LUG_SUPERVISOR_BIN="$supervisor_bin" bash tests/scenario/test_uninstall_race.sh "$GUARD_BIN" ||
    unexpected "the scenario test failed"
fi

step "Done"
say "The guard held the uninstall pod until the flag was true, its init container installed the supervisor," \
  "and the supervisor turned longhorn-manager's premature refusal into a retry. See README.md to deploy it."
exit 0
