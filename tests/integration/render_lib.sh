# Helpers shared by the tests of what the project installs with (tests/chart/test_render.sh,
# tests/manifests/test_render.sh). Sourced after lib.sh, never run.

# setup_render_test PATH_TO_longhorn-uninstall-guard EXPECTED_IMAGE
# setup_test with the binary, and EXPECTED_IMAGE set (LUG_IMAGE:v<project version>, the image
# what is rendered must deploy); exits 2 with the usage when it is not given.
setup_render_test() {
  setup_test "${1:-}"
  EXPECTED_IMAGE="${2:-}"
  if [ -z "$EXPECTED_IMAGE" ]; then
    echo "usage: $0 PATH_TO_longhorn-uninstall-guard EXPECTED_IMAGE" >&2
    exit 2
  fi
}

# caught_when_broken DESCRIPTION SOURCE_DIR FILE SED_SCRIPT CHECKS
# The checks must be able to fail: copies SOURCE_DIR, breaks FILE in the copy with
# SED_SCRIPT and runs the function CHECKS with the copy's path, in a subshell whose counts
# are thrown away. Passes when at least one of its checks failed (naming the first), fails
# when none did or when SED_SCRIPT changed nothing.
caught_when_broken() {
  local desc="$1" source_dir="$2" file="$3" script="$4" checks="$5" copy="$LUG_WORK/mutant"
  rm -rf "$copy"
  cp -r "$source_dir" "$copy"
  sed -i -e "$script" "$copy/$file"
  if cmp -s "$source_dir/$file" "$copy/$file"; then
    fail "broken on purpose: $desc" "sed '$script' did not change $file"
    return
  fi
  local report first
  report="$( ("$checks" "$copy") 2>&1)"
  first="$(grep -m 1 '^FAIL - ' <<<"$report")"
  if [ -n "$first" ]; then
    pass "broken on purpose, and caught: $desc (${first#FAIL - })"
  else
    fail "broken on purpose, and caught: $desc" "no check failed"
  fi
}

# start_rendered_guard WHAT LOG_NAME KUBE_CA ARGS...
# Starts the guard with the rendered Deployment's ARGS (already made runnable here) against
# the Kubernetes API stand-in (start_kube_api_standin first; KUBE_CA verifies it), stderr to
# $LUG_WORK/LOG_NAME, and waits 10 s for its "listening" line. Passes "the guard starts
# with WHAT: ARGS", sets LISTENING (that line) and GUARD_PORT, and checks the line names
# the scope the webhooks are given (longhorn-uninstall in $LONGHORN_NS, the default
# setting, a 25 s hold, $EXPECTED_IMAGE). Returns 1, after failing with the log, when it
# does not start.
start_rendered_guard() {
  local what="$1" log_name="$2" kube_ca="$3"
  shift 3
  GUARD_LOG="$LUG_WORK/$log_name"
  LUG_GUARD_LOGS+=("$GUARD_LOG")
  "$GUARD_BIN" "$@" --kube-api "$STANDIN_URL" --kube-ca-file "$kube_ca" \
    --kube-token-file "$STANDIN_TOKEN_FILE" >/dev/null 2>"$GUARD_LOG" </dev/null &
  GUARD_PID=$!
  register_pid "$GUARD_PID"
  if ! LISTENING="$(wait_for_log '.msg == "listening"' 10)"; then
    fail "the guard starts with $what: $*" "$(head -c 3000 "$GUARD_LOG")"
    return 1
  fi
  pass "the guard starts with $what: $*"
  GUARD_PORT="$(jq -r '.address | sub(".*:"; "")' <<<"$LISTENING")"
  assert_eq "it guards what the webhooks are scoped to" \
    "{\"namespace\":\"$LONGHORN_NS\",\"job\":\"longhorn-uninstall\",\"setting\":\"deleting-confirmation-flag\",\"max_hold\":\"25s\",\"init_image\":\"$EXPECTED_IMAGE\"}" \
    "$(jq -c '{namespace, job, setting, max_hold, init_image}' <<<"$LISTENING")"
}
