#!/usr/bin/env bash
# The command line: help, version, usage errors (exit 2 with a message), unreadable
# certificates, and the JSON log format with its "listening" line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
guard_serve_args
base=("${GUARD_SERVE_ARGS[@]}")

# A usage error must be reported before anything starts listening: 10 s is ample, and a
# binary that ignored the bad flag and went on serving is killed and counted as exit 124.
cli_limit=10

# --- help and version ------------------------------------------------------------------
run_cli "$cli_limit" --help
assert_eq "--help exits 0" 0 "$CLI_EXIT"
assert_contains "--help prints usage naming the serve command" serve "$CLI_STDOUT"

run_cli "$cli_limit" serve --help
assert_eq "serve --help exits 0" 0 "$CLI_EXIT"
assert_contains "serve --help documents --tls-cert" --tls-cert "$CLI_STDOUT"
assert_contains "serve --help documents --listen" --listen "$CLI_STDOUT"
assert_contains "serve --help documents --shutdown-grace" --shutdown-grace "$CLI_STDOUT"
for flag in --health-probe-listen --metrics-listen --metrics-tls; do
  assert_contains "serve --help documents $flag" "$flag" "$CLI_STDOUT"
done
help_text="$(tr -s ' \n' ' ' <<<"$CLI_STDOUT")"  # help wraps its lines
assert_contains "serve --help says an empty --health-probe-listen disables it" \
  'empty (--health-probe-listen="") disables it' "$help_text"
assert_contains "serve --help says an empty --metrics-listen disables it" \
  'empty (--metrics-listen="") disables it' "$help_text"
assert_contains "serve --help gives the probe port's default" 0.0.0.0:8081 "$CLI_STDOUT"
assert_contains "serve --help gives the metrics port's default" 0.0.0.0:8080 "$CLI_STDOUT"

for form in --version version; do
  run_cli "$cli_limit" "$form"
  assert_eq "'$form' exits 0" 0 "$CLI_EXIT"
  assert_match "'$form' prints 'longhorn-uninstall-guard <version>' on one line" \
    '^longhorn-uninstall-guard [0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*$' "$CLI_STDOUT"
done

# --- usage errors: exit 2 and a message on stderr that names the culprit ----------------
# expect_usage_error DESCRIPTION WORD_THE_MESSAGE_MUST_NAME ARGS...
expect_usage_error() {
  local desc="$1" word="$2"
  shift 2
  run_cli "$cli_limit" "$@"
  assert_eq "$desc: exits 2" 2 "$CLI_EXIT"
  assert_contains "$desc: stderr names $word" "$word" "$CLI_STDERR"
  assert_eq "$desc: nothing on stdout" "" "$CLI_STDOUT"
}

expect_usage_error "--log-format xml" log-format "${base[@]}" --log-format xml
expect_usage_error "--log-level loud" log-level "${base[@]}" --log-level loud
expect_usage_error "--listen nonsense" listen "${base[@]/#127.0.0.1:0/nonsense}"
expect_usage_error "--listen 127.0.0.1:99999" listen "${base[@]/#127.0.0.1:0/127.0.0.1:99999}"
expect_usage_error "--health-probe-listen nonsense" --health-probe-listen "${base[@]}" --health-probe-listen nonsense
expect_usage_error "--metrics-listen 127.0.0.1:x" --metrics-listen "${base[@]}" --metrics-listen 127.0.0.1:x
expect_usage_error "--max-hold 5parsecs" max-hold "${base[@]}" --max-hold 5parsecs
expect_usage_error "--shutdown-grace 5parsecs" shutdown-grace "${base[@]}" --shutdown-grace 5parsecs
expect_usage_error "--threads 65 (above the limit of 64)" threads "${base[@]}" --threads 65
expect_usage_error "--threads -1" threads "${base[@]}" --threads -1
expect_usage_error "unknown flag --no-such-flag" no-such-flag "${base[@]}" --no-such-flag
expect_usage_error "stray positional argument" surplus "${base[@]}" surplus

no_cert=()
skip=0
for arg in "${base[@]}"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  if [ "$arg" = --tls-cert ]; then skip=1; continue; fi
  no_cert+=("$arg")
done
expect_usage_error "missing --tls-cert" tls-cert "${no_cert[@]}"

# --- certificate files that cannot be used: non-zero exit, message names the file -------
missing="$LUG_WORK/no-such-dir/server.crt"
run_cli "$cli_limit" "${base[@]/#$PKI_SERVER_CERT/$missing}"
assert_ne "--tls-cert pointing at a missing file: exits non-zero" 0 "$CLI_EXIT"
assert_ne "--tls-cert pointing at a missing file: exits rather than hangs" 124 "$CLI_EXIT"
assert_contains "--tls-cert pointing at a missing file: message names the file" "$missing" \
  "$CLI_STDERR$CLI_STDOUT"

garbage="$LUG_WORK/garbage.crt"
printf 'this is not a PEM certificate\n' >"$garbage"
run_cli "$cli_limit" "${base[@]/#$PKI_SERVER_CERT/$garbage}"
assert_ne "--tls-cert pointing at a non-PEM file: exits non-zero" 0 "$CLI_EXIT"
assert_ne "--tls-cert pointing at a non-PEM file: exits rather than hangs" 124 "$CLI_EXIT"
assert_contains "--tls-cert pointing at a non-PEM file: message names the file" "$garbage" \
  "$CLI_STDERR$CLI_STDOUT"

missing_key="$LUG_WORK/no-such-dir/server.key"
run_cli "$cli_limit" "${base[@]/#$PKI_SERVER_KEY/$missing_key}"
assert_ne "--tls-key pointing at a missing file: exits non-zero" 0 "$CLI_EXIT"
assert_ne "--tls-key pointing at a missing file: exits rather than hangs" 124 "$CLI_EXIT"
assert_contains "--tls-key pointing at a missing file: message names the file" "$missing_key" \
  "$CLI_STDERR$CLI_STDOUT"

# A key that does not belong to the certificate would fail every handshake: refuse to start.
run_cli "$cli_limit" "${base[@]/#$PKI_SERVER_KEY/$PKI_OTHER_KEY}"
assert_ne "--tls-key not matching --tls-cert: exits non-zero" 0 "$CLI_EXIT"
assert_ne "--tls-key not matching --tls-cert: exits rather than hangs" 124 "$CLI_EXIT"

# --- serve: port 0, the listening line, JSON logs -----------------------------------------
if start_guard; then
  pass "serve starts and logs a listening line"
  line="$(wait_for_log '.msg == "listening"' 1)"
  assert_match "listening line has time, level info and address 127.0.0.1:PORT" \
    '^true$' "$(jq -c '(.time | type) == "string" and .level == "info" and (.address | test("^127\\.0\\.0\\.1:[0-9]+$"))' <<<"$line")"
  assert_ne "port 0 was replaced by a real port" 0 "$GUARD_PORT"
  first_port="$GUARD_PORT"
  first_pid="$GUARD_PID"
  first_log="$GUARD_LOG"
  assert_healthy "GET /healthz on the probe port, and the webhook port, from the listening line"

  # By default one thread per CPU of the affinity mask (this machine has no cgroup CPU limit,
  # or one we cannot predict, so only the upper bound is exact).
  threads="$(jq -r '.threads' <<<"$line")"
  cpus="$(nproc)"
  if [ -n "$threads" ] && [ "$threads" -ge 1 ] && [ "$threads" -le "$cpus" ]; then
    pass "the listening line reports between 1 and $cpus threads by default ($threads)"
  else
    fail "the listening line reports between 1 and $cpus threads by default" "$line"
  fi

  # Pinned to one CPU, it runs one thread: more would only hand requests to each other.
  if command -v taskset >/dev/null 2>&1 && GUARD_WRAPPER="taskset -c 0" start_guard; then
    assert_eq "pinned to one CPU (taskset), the default is one thread" 1 \
      "$(wait_for_log '.msg == "listening"' 1 | jq -r .threads)"
    stop_guard
  fi

  # A second instance with --listen 127.0.0.1:0 gets its own free port; --threads overrides
  # the default.
  if start_guard --log-level debug --threads 3; then
    assert_eq "--threads 3 runs three threads" 3 "$(wait_for_log '.msg == "listening"' 1 | jq -r .threads)"
    assert_ne "a second instance picks another free port" "$first_port" "$GUARD_PORT"
    assert_healthy "the second instance serves too"
    assert_log_json_lines "--log-level debug: every log line is a JSON object with time, level, msg"
    stop_guard
    assert_eq "second instance exits 0 on SIGTERM" 0 "$GUARD_EXIT"
  fi
  # Empty values disable the probe and metrics listeners; the webhook port serves alone.
  if start_guard --health-probe-listen= --metrics-listen=; then
    line="$(wait_for_log '.msg == "listening"' 1)"
    assert_eq "--health-probe-listen= and --metrics-listen=: the listening line names neither" '["",""]' \
      "$(jq -c '[.health_probe_address, .metrics_address]' <<<"$line")"
    post_review /validate other-pod.json
    assert_eq "with only the webhook listener, an admission request is answered" 200 "$HTTP_STATUS"
    stop_guard
    assert_eq "with only the webhook listener, exits 0 on SIGTERM" 0 "$GUARD_EXIT"
  fi
  GUARD_PID="$first_pid" GUARD_PORT="$first_port" GUARD_LOG="$first_log"
  GUARD_URL="https://127.0.0.1:$first_port"
  post_review /validate other-pod.json
  assert_eq "an admission request is answered" 200 "$HTTP_STATUS"
  stop_guard
  assert_eq "exits 0 on SIGTERM" 0 "$GUARD_EXIT"
  assert_log_json_lines "every log line is a JSON object with time, level, msg"
  assert_eq "nothing is written to stdout while serving" "" "$(cat "$GUARD_STDOUT")"
fi

finish
