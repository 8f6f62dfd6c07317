#!/usr/bin/env bash
# The `check` and `wait` commands against the Kubernetes API stand-in
# (tests/support/kube_api_standin.py): exit codes and what they print or log for a flag
# that is true, false, not yet in the watch cache, forbidden, missing, on a cluster
# without Longhorn, behind a wrong CA or an unreachable address, with a token that
# rotates, and with --timeout and SIGTERM; and `wait --install-supervisor`, the copy of the
# supervisor the init container makes before waiting.
#
# Usage: tests/integration/test_commands.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions: `set -u` only, every failed check is counted, every process
# runs under a time limit and is killed by the EXIT trap. Takes about 20 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" ec || finish

# A check or a failing read answers in milliseconds; 15 s only runs out when a command hangs.
cli_limit=15
# The stand-in is a python script loading one certificate: 10 s to say where it listens.
standin_start_limit=10
flag=longhorn-system/deleting-confirmation-flag

# --- the stand-in API server -------------------------------------------------------------
standin_ready="$LUG_WORK/standin.ready"
timeout -k 2 300 python3 "$LUG_ROOT/tests/support/kube_api_standin.py" --listen 127.0.0.1:0 \
  --tls-cert "$PKI_SERVER_CERT" --tls-key "$PKI_SERVER_KEY" --token tok-1 \
  --setting "$flag=false" --ready-file "$standin_ready" \
  >"$LUG_WORK/standin.stdout" 2>"$LUG_WORK/standin.log" </dev/null &
register_pid $!
deadline=$((SECONDS + standin_start_limit))
while [ ! -s "$standin_ready" ] && [ $SECONDS -le $deadline ]; do sleep 0.1; done
standin_address="$(jq -r .listening "$standin_ready" 2>/dev/null)"
if [ -z "$standin_address" ] || [ "$standin_address" = null ]; then
  fail "the API stand-in starts" "log: $(head -c 2000 "$LUG_WORK/standin.log")"
  finish
fi
API="https://$standin_address"
API_PORT="${standin_address##*:}"

# control METHOD PATH [JSON]: one call to the stand-in's control API.
control() {
  local args=(-sS --max-time 5 --cacert "$PKI_CA" -X "$1" "$API/_standin/$2")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  curl "${args[@]}" >"$LUG_WORK/control.out" 2>&1 || fail "control $1 $2 ${3:-}" "$(cat "$LUG_WORK/control.out")"
}
set_flag() { control PUT "settings/$flag" "{\"value\": \"$1\"}"; }
reset_standin() {
  control DELETE faults
  control PUT crd '{"installed": true}'
  control PUT tokens '{"accept": ["tok-1"]}'
  control PUT cache '{"lag_ms": 0, "frozen": false, "sync": true}'
}

# The token as the kubelet mounts it: token -> ..data/token, ..data -> ..<version>/.
# rotate_token swaps ..data atomically, as the kubelet's atomic writer does.
token_dir="$LUG_WORK/serviceaccount"
rotate_token() {
  kubelet_publish "$token_dir" token=<(printf '%s\n' "$1")
}
rotate_token tok-1
kube=(--kube-api "$API" --kube-ca-file "$PKI_CA" --kube-token-file "$token_dir/token")

# start_wait NAME ARGS...: `wait` in the background with JSON logs in $LUG_WORK/NAME.log;
# sets WAIT_PID and WAIT_LOG.
start_wait() {
  local name="$1"
  shift
  WAIT_LOG="$LUG_WORK/$name.log"
  timeout -k 2 60 "$GUARD_BIN" wait "${kube[@]}" --log-format json "$@" >/dev/null 2>"$WAIT_LOG" </dev/null &
  WAIT_PID=$!
  register_pid "$WAIT_PID"
}
# log_has FILTER: a JSON line of $WAIT_LOG matches the jq FILTER.
log_has() {
  [ -n "$(jq -R -c "fromjson? | select(type == \"object\") | select($1)" "$WAIT_LOG" 2>/dev/null | head -n 1)" ]
}
assert_log_has() {
  if log_has "$2"; then pass "$1"; else fail "$1" "no log line matching $2" "log: $(tail -n 6 "$WAIT_LOG")"; fi
}
assert_log_has_not() {
  if log_has "$2"; then fail "$1" "a log line matches $2"; else pass "$1"; fi
}

# --- check: true and false -------------------------------------------------------------------
run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: a false flag exits 1" 1 "$CLI_EXIT"
assert_contains "check: prints the fresh value and resourceVersion" 'fresh  (quorum read):        value "false" at resourceVersion' "$CLI_STDOUT"
assert_contains "check: prints the cached value" 'cached (resourceVersion=0):  value "false"' "$CLI_STDOUT"

set_flag true
run_cli "$cli_limit" check "${kube[@]}" --output json
assert_eq "check: a true flag exits 0" 0 "$CLI_EXIT"
printf '%s' "$CLI_STDOUT" >"$LUG_WORK/check.json"
assert_json .fresh.value true "$LUG_WORK/check.json" "check --output json: fresh value is true"
assert_json .cached.outcome ok "$LUG_WORK/check.json" "check --output json: cached read is ok"
assert_json .confirmed true "$LUG_WORK/check.json" "check --output json: confirmed"
assert_json '.fresh.resourceVersion | test("^[0-9]+$")' true "$LUG_WORK/check.json" \
  "check --output json: carries the resourceVersion"

# Both reads of one check go over one kept-alive connection; the fresh one has no
# resourceVersion parameter at all, the cached one resourceVersion=0.
control DELETE reads
run_cli "$cli_limit" check "${kube[@]}"
curl -sS --max-time 5 --cacert "$PKI_CA" "$API/_standin/reads" >"$LUG_WORK/reads.json"
assert_json '[.requests[].kind]' '["fresh","cached"]' "$LUG_WORK/reads.json" "check: one fresh read, then one cached read"
assert_json '.requests[0].query' '' "$LUG_WORK/reads.json" "check: the fresh read has no query at all"
assert_json '.requests[1].query' 'resourceVersion=0' "$LUG_WORK/reads.json" "check: the cached read asks for resourceVersion=0"
assert_json '[.requests[].connection] | unique | length' 1 "$LUG_WORK/reads.json" \
  "check: both reads share one keep-alive connection"

run_cli "$cli_limit" check --kube-api "https://localhost:$API_PORT" --kube-ca-file "$PKI_CA" \
  --kube-token-file "$token_dir/token"
assert_eq "check: a DNS name is verified against the certificate's DNS SAN" 0 "$CLI_EXIT"

# --- a kubeconfig, with paths relative to its own directory ---------------------------------------
mkdir -p "$LUG_WORK/kube"
cp "$PKI_CA" "$LUG_WORK/kube/ca.crt"
cat >"$LUG_WORK/kube/config" <<EOF
apiVersion: v1
kind: Config
current-context: standin
contexts:
- name: standin
  context: {cluster: standin, user: guard}
- name: plugin
  context: {cluster: standin, user: plugin}
clusters:
- name: standin
  cluster:
    server: $API
    certificate-authority: ca.crt
users:
- name: guard
  user:
    tokenFile: ../serviceaccount/token
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: kubelogin}
EOF
run_cli "$cli_limit" check --kubeconfig "$LUG_WORK/kube/config"
assert_eq "check --kubeconfig: reads through the kubeconfig's cluster and user" 0 "$CLI_EXIT"
assert_contains "check --kubeconfig: names the kubeconfig and context" "via kubeconfig $LUG_WORK/kube/config, context \"standin\"" "$CLI_STDOUT"
run_cli "$cli_limit" check --kubeconfig "$LUG_WORK/kube/config" --context plugin
assert_eq "check --kubeconfig: a user with an exec plugin exits 2" 2 "$CLI_EXIT"
assert_contains "check --kubeconfig: says exec plugins are not supported" 'uses an exec credential plugin ("kubelogin")' "$CLI_STDERR"

# --- wait: true at once ------------------------------------------------------------------------
run_cli "$cli_limit" wait "${kube[@]}" --settle 300ms --log-format json
assert_eq "wait: a flag already true fresh and cached exits 0" 0 "$CLI_EXIT"
WAIT_LOG="$LUG_WORK/cli.stderr"
assert_log_has "wait: logs the settle delay" '.msg | startswith("the setting reads true fresh and cached")'
assert_log_has "wait: logs that it settled" '.msg | startswith("settled")'

# --- wait --install-supervisor: the copy the uninstall container runs ---------------------------
# A stand-in source (any file does: `wait` copies bytes); the destination directory plays the
# emptyDir volume.
mkdir -p "$LUG_WORK/volume"
head -c 200000 /dev/urandom >"$LUG_WORK/supervisor-source"
run_cli "$cli_limit" wait "${kube[@]}" --settle 0 --log-format json \
  --install-supervisor "$LUG_WORK/volume/longhorn-uninstall-supervisor" --supervisor-source "$LUG_WORK/supervisor-source"
assert_eq "wait --install-supervisor: exits 0 once the flag reads true" 0 "$CLI_EXIT"
assert_true "wait --install-supervisor: the copy is byte for byte the source" \
  cmp "$LUG_WORK/supervisor-source" "$LUG_WORK/volume/longhorn-uninstall-supervisor"
assert_eq "wait --install-supervisor: mode 0555, and no temporary file left" "555 longhorn-uninstall-supervisor" \
  "$(stat -c %a "$LUG_WORK/volume/longhorn-uninstall-supervisor") $(ls "$LUG_WORK/volume" | paste -sd' ')"
WAIT_LOG="$LUG_WORK/cli.stderr"
assert_log_has "wait --install-supervisor: logs the install" '.msg == "installed the supervisor"'
run_cli "$cli_limit" wait "${kube[@]}" --settle 0 --log-format json \
  --install-supervisor "$LUG_WORK/volume/again" --supervisor-source "$LUG_WORK/no-such-supervisor"
assert_eq "wait --install-supervisor: a missing source exits 1 before waiting" 1 "$CLI_EXIT"
assert_log_has "wait --install-supervisor: says which file is missing" \
  '.msg == "cannot install the supervisor" and (.error | contains("no-such-supervisor: No such file or directory"))'
assert_log_has_not "wait --install-supervisor: a failed install never starts waiting" '.msg == "waiting for the setting to read true"'

# --- wait: the watch cache lags behind --------------------------------------------------------
set_flag false
control PUT cache '{"sync": true}'
control PUT cache '{"frozen": true}'
set_flag true
start_wait lagging --poll-interval 100ms --settle 0
sleep 2
if kill -0 "$WAIT_PID" 2>/dev/null; then
  pass "wait: keeps waiting while the cached read still says false"
else
  fail "wait: keeps waiting while the cached read still says false" "log: $(tail -n 5 "$WAIT_LOG")"
fi
assert_log_has "wait: logged the fresh read saying true" '.msg == "fresh read" and .true == true'
assert_log_has "wait: logged the cached read saying false" '.msg == "cached read" and .true == false'
assert_eq "wait: logs each change once, not every poll" 1 \
  "$(jq -R -c 'fromjson? | select(.msg == "cached read")' "$WAIT_LOG" | wc -l | tr -d ' ')"
control PUT cache '{"frozen": false, "sync": true}'
wait_pid_exit "$WAIT_PID" 5
assert_eq "wait: exits 0 once the cached read says true too" 0 "$?"
assert_log_has "wait: logged the cached read turning true" '.msg == "cached read" and .true == true'

run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: (cache caught up) exits 0" 0 "$CLI_EXIT"
set_flag false
control PUT cache '{"sync": true}'
control PUT cache '{"frozen": true}'
set_flag true
run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: a true fresh read exits 0 even while the cache lags" 0 "$CLI_EXIT"
assert_contains "check: says the cached read does not say true yet" "the cached read does not say true yet" "$CLI_STDOUT"
reset_standin

# --- 403 -----------------------------------------------------------------------------------------
control POST faults '{"match": "deleting-confirmation-flag", "mode": "status", "status": 403}'
run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: a forbidden read exits 2" 2 "$CLI_EXIT"
assert_contains "check: shows the 403 and the API server's RBAC message" \
  'forbidden (HTTP 403): settings.longhorn.io "deleting-confirmation-flag" is forbidden: User' "$CLI_STDOUT"

start_wait forbidden --poll-interval 100ms --settle 0
sleep 1
assert_log_has "wait: logs the forbidden read with its message" \
  '.level == "warning" and .outcome == "forbidden" and (.error | contains("cannot get resource"))'
control DELETE faults
wait_pid_exit "$WAIT_PID" 5
assert_eq "wait: retries a forbidden read and exits 0 once RBAC allows it" 0 "$?"
reset_standin

# --- 404: missing setting, missing CRD ---------------------------------------------------------
run_cli "$cli_limit" check "${kube[@]}" --setting no-such-flag
assert_eq "check: a missing setting exits 1 (Longhorn reads it as false)" 1 "$CLI_EXIT"
assert_contains "check: says the setting does not exist" \
  "setting longhorn-system/no-such-flag does not exist (Longhorn reads that as false)" "$CLI_STDOUT"

control PUT crd '{"installed": false}'
run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: a cluster without the Longhorn CRD exits 2" 2 "$CLI_EXIT"
assert_contains "check: asks whether Longhorn is installed" \
  "does not serve longhorn.io/v1beta2 settings (is Longhorn installed?) (HTTP 404)" "$CLI_STDOUT"
reset_standin

# --- unreachable API, wrong CA ---------------------------------------------------------------------
unused_port="$(free_port)"
run_cli "$cli_limit" check --kube-api "https://127.0.0.1:$unused_port" --kube-ca-file "$PKI_CA" \
  --kube-token-file "$token_dir/token"
assert_eq "check: an unreachable API server exits 2" 2 "$CLI_EXIT"
assert_contains "check: says the connection was refused" \
  "API server unreachable: cannot connect to the API server at 127.0.0.1:$unused_port: Connection refused" "$CLI_STDOUT"

control DELETE reads
run_cli "$cli_limit" check --kube-api "$API" --kube-ca-file "$PKI_OTHER_CA" --kube-token-file "$token_dir/token"
assert_eq "check: a server certificate from another CA is refused, exit 2" 2 "$CLI_EXIT"
assert_contains "check: says the certificate is not signed by the configured CA" \
  "the server's certificate was rejected: unable to get local issuer certificate (it is not signed by a CA in --kube-ca-file $PKI_OTHER_CA)" \
  "$CLI_STDOUT"
curl -sS --max-time 5 --cacert "$PKI_CA" "$API/_standin/reads" >"$LUG_WORK/reads.json"
assert_json '.requests | length' 0 "$LUG_WORK/reads.json" "check: no request is sent to a server we do not trust"

# --- token rotation ---------------------------------------------------------------------------------
control PUT tokens '{"accept": ["tok-2"]}'
run_cli "$cli_limit" check "${kube[@]}"
assert_eq "check: a token the API server does not accept exits 2" 2 "$CLI_EXIT"
assert_contains "check: says unauthorized" "unauthorized (HTTP 401)" "$CLI_STDOUT"

start_wait rotation --poll-interval 100ms --settle 0
sleep 1
assert_log_has "wait: logs the unauthorized read" '.outcome == "unauthorized"'
rotate_token tok-2
wait_pid_exit "$WAIT_PID" 5
assert_eq "wait: picks up the rotated token without restarting and exits 0" 0 "$?"
rotate_token tok-1
reset_standin

# --- timeouts and SIGTERM -----------------------------------------------------------------------
set_flag false
start=$(now_us)
run_cli "$cli_limit" wait "${kube[@]}" --poll-interval 100ms --timeout 1s --log-format json
took="$(elapsed_since "$start")"
assert_eq "wait --timeout: exits 1 when the flag stays false" 1 "$CLI_EXIT"
assert_seconds_between "wait --timeout 1s gives up after about 1s" 0.9 4 "$took"
WAIT_LOG="$LUG_WORK/cli.stderr"
assert_log_has "wait --timeout: says what it saw last" \
  '.msg == "timed out waiting for the setting to read true" and (.last | contains("value \"false\""))'

control POST faults '{"mode": "hang"}'
start=$(now_us)
run_cli "$cli_limit" check "${kube[@]}" --timeout 1s
took="$(elapsed_since "$start")"
assert_eq "check --timeout: a hung API server exits 2" 2 "$CLI_EXIT"
assert_contains "check --timeout: says it timed out" "timeout: no response from 127.0.0.1:$API_PORT within 1s" "$CLI_STDOUT"
assert_seconds_between "check --timeout 1s: two reads take about 2s" 1.8 5 "$took"

start_wait sigterm --poll-interval 100ms
sleep 1
start=$(now_us)
kill -TERM "$WAIT_PID"
wait_pid_exit "$WAIT_PID" 5
code=$?
took="$(elapsed_since "$start")"
assert_eq "wait: SIGTERM during a hung read exits 1" 1 "$code"
assert_seconds_between "wait: SIGTERM is obeyed at once" 0 1 "$took"
assert_log_has "wait: logs that it stopped" '.msg == "stopped before the setting was confirmed"'
control DELETE faults

# --- usage errors ---------------------------------------------------------------------------------
run_cli "$cli_limit" check --kube-api "$API"
assert_eq "check: --kube-api alone is a usage error (exit 2)" 2 "$CLI_EXIT"
assert_contains "check: the usage error names what is missing" "missing --kube-ca-file, --kube-token-file" "$CLI_STDERR"
run_cli "$cli_limit" wait "${kube[@]}" --poll-interval 0
assert_eq "wait: --poll-interval 0 is a usage error (exit 2)" 2 "$CLI_EXIT"

finish
