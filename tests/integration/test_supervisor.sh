#!/usr/bin/env bash
# longhorn-uninstall-supervisor around a scripted stand-in for longhorn-manager
# (longhorn_manager_standin.sh):
#
# - a refusal of the flag is retried until an attempt succeeds, one stderr line per retry
#   naming longhorn/longhorn#10483; the command's stdout and stderr pass through unchanged
#   and its arguments untouched;
# - nothing else is retried: another exit-1 message, a failure after "Uninstalling...", a
#   kill, exits 2 and 137 (all passed through as they are, 128+signal for the kill);
# - a flag that really is false: exactly --attempts attempts, the last status passed on;
# - SIGTERM and SIGINT are passed on to the command and stop the retries; a command that
#   ignores SIGTERM keeps running until killed; SIGTERM while waiting to retry ends it;
# - 50 MB of output with lines far longer than its buffer arrives byte for byte, stdout and
#   stderr at once, without a deadlock, and a refusal inside such a line is still seen;
# - an orphan the command leaves behind is adopted and reaped;
# - usage errors exit 125 with a message, a missing command 127, a non-executable one 126.
#
# Usage: tests/integration/test_supervisor.sh PATH_TO_longhorn-uninstall-supervisor
# Follows lib.sh's conventions. Takes about 15 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
SUPERVISOR="$GUARD_BIN"
STANDIN="$LUG_LIB_DIR/longhorn_manager_standin.sh"
# Any one run below ends in a few seconds; this only stops a hung supervisor.
RUN_TIMEOUT=60
retry_line_prefix='longhorn-uninstall-supervisor: longhorn-manager exited 1 refusing the uninstall'

# supervise NAME SCENARIO [SUPERVISOR FLAGS...]: runs the supervisor around the stand-in in
# the foreground, in a fresh state dir $LUG_WORK/NAME; sets STATUS, OUT, ERR, STATE.
supervise() {
  local name="$1" scenario="$2"
  shift 2
  STATE="$LUG_WORK/$name"
  mkdir -p "$STATE"
  STANDIN_DIR="$STATE" STANDIN_SCENARIO="$scenario" timeout -s KILL "$RUN_TIMEOUT" \
    "$SUPERVISOR" "$@" -- "$STANDIN" uninstall --force >"$STATE/stdout" 2>"$STATE/stderr"
  STATUS=$?
  OUT="$(cat "$STATE/stdout")"
  ERR="$(cat "$STATE/stderr")"
}

# start_supervised NAME SCENARIO [FLAGS...]: the same in the background; sets SUPERVISED_PID.
start_supervised() {
  local name="$1" scenario="$2"
  shift 2
  STATE="$LUG_WORK/$name"
  mkdir -p "$STATE"
  STANDIN_DIR="$STATE" STANDIN_SCENARIO="$scenario" \
    "$SUPERVISOR" "$@" -- "$STANDIN" uninstall --force >"$STATE/stdout" 2>"$STATE/stderr" &
  SUPERVISED_PID=$!
  register_pid "$SUPERVISED_PID"
}

# finish_supervised: waits (bounded) for the background supervisor; sets STATUS, ERR.
finish_supervised() {
  wait_pid_exit "$SUPERVISED_PID" 10
  STATUS=$?
  ERR="$(cat "$STATE/stderr")"
}

attempts() { cat "$STATE/attempts" 2>/dev/null || echo 0; }
retry_lines() { grep -c -F "$retry_line_prefix" "$STATE/stderr"; }
# Lines on stderr that are neither the stand-in's log lines nor the supervisor's own.
foreign_lines() { grep -v -E '^(time=|longhorn-uninstall-supervisor: )' "$STATE/stderr" | head -3; }

# --- refused twice, then succeeds -----------------------------------------------------------
STANDIN_REFUSALS=2 supervise refuse-twice refuse-then-succeed --attempts=5 --delay=50ms
assert_eq "refused twice: exit 0, the successful attempt's status" 0 "$STATUS"
assert_eq "refused twice: three attempts" 3 "$(attempts)"
assert_eq "refused twice: one stderr line per retry" 2 "$(retry_lines)"
assert_eq "refused twice: each retry line names longhorn/longhorn#10483 and the next attempt" \
  "attempt 2 of 5 starts in 50ms|attempt 3 of 5 starts in 100ms" \
  "$(grep -F "$retry_line_prefix" "$STATE/stderr" | grep -F 'longhorn/longhorn#10483' | grep -o 'attempt [0-9] of 5 starts in [0-9a-z]*' | paste -sd'|')"
assert_eq "refused twice: stdout is the command's stdout, unchanged" \
  "$(printf 'stand-in attempt %s on stdout\n' 1 2 3)" "$OUT"
assert_eq "refused twice: stderr holds the command's log lines, in order, and the supervisor's own" \
  "$(printf '%s\n' refusal refusal Uninstalling... completed)" \
  "$(grep '^time=' "$STATE/stderr" | sed -E 's/.*msg="?(cannot uninstall Longhorn).*/refusal/; s/.*msg=Uninstalling\.\.\./Uninstalling.../; s/.*msg="Uninstallation completed"/completed/')"
assert_eq "refused twice: no other lines" "" "$(foreign_lines)"
assert_eq "refused twice: the command's arguments reach it untouched" "uninstall --force" "$(cat "$STATE/args.3")"
assert_eq "refused twice: the supervisor says nothing else (no line after the success)" 2 \
  "$(grep -c '^longhorn-uninstall-supervisor: ' "$STATE/stderr")"

# --- the flag really is false ------------------------------------------------------------------
supervise really-false refuse-always --attempts 3 --delay 0s
assert_eq "flag really false: the refusal's status 1 is passed on" 1 "$STATUS"
assert_eq "flag really false: exactly --attempts 3 attempts" 3 "$(attempts)"
assert_eq "flag really false: two retries" 2 "$(retry_lines)"
assert_contains "flag really false: the last line says every attempt was refused" \
  "refused the uninstall in all 3 attempts" "$(tail -n 1 "$STATE/stderr")"
supervise default-attempts refuse-always --delay 0s
assert_eq "flag really false, default --attempts: five attempts" 5 "$(attempts)"
supervise one-attempt refuse-always --attempts 1
assert_eq "--attempts 1: status 1, one attempt, no retry line" "1 1 0" "$STATUS $(attempts) $(retry_lines)"

# --- no retry for anything else -----------------------------------------------------------------
supervise other-failure other-failure --delay 0s
assert_eq "another exit-1 message: status 1, one attempt, no retry line" "1 1 0" "$STATUS $(attempts) $(retry_lines)"
assert_eq "another exit-1 message: the supervisor prints nothing" 0 "$(grep -c '^longhorn-uninstall-supervisor' "$STATE/stderr")"
supervise after-start fail-after-start --delay 0s
assert_eq "failed after Uninstalling...: status 1, one attempt, no retry line" "1 1 0" "$STATUS $(attempts) $(retry_lines)"
supervise killed killed --delay 0s
assert_eq "killed by SIGKILL after the refusal: status 137 (128+9), one attempt" "137 1 0" "$STATUS $(attempts) $(retry_lines)"
for code in 2 137 0; do
  STANDIN_EXIT=$code supervise "exit-$code" exit --delay 0s
  assert_eq "exit $code after the refusal: passed on, one attempt" "$code 1 0" "$STATUS $(attempts) $(retry_lines)"
done

# --- signals ---------------------------------------------------------------------------------------
for signal in TERM INT; do
  start_supervised "signal-$signal" refuse-on-signal --delay 0s
  if wait_for_file "$STATE/ready.1" 10; then
    kill -s "$signal" "$SUPERVISED_PID"
    finish_supervised
    # The stand-in answers the signal with the refusal and exit 1: retried, were it not told to stop.
    assert_eq "SIG$signal is passed on; the refusal that follows is not retried" "1 1 0" "$STATUS $(attempts) $(retry_lines)"
  else
    fail "SIG$signal: the stand-in started" "$(cat "$STATE/stderr")"
  fi
done

start_supervised ignore-term ignore-term --delay 0s
if wait_for_file "$STATE/ready.1" 10; then
  kill -TERM "$SUPERVISED_PID"
  wait_for_file "$STATE/signals" 5
  assert_eq "a command ignoring SIGTERM receives it" SIGTERM "$(cat "$STATE/signals" 2>/dev/null)"
  sleep 0.5
  assert_true "a command ignoring SIGTERM keeps running, and so does the supervisor" kill -0 "$SUPERVISED_PID"
  kill -KILL "$(cat "$STATE/pid")"
  finish_supervised
  assert_eq "killed then: status 137, no new attempt" "137 1" "$STATUS $(attempts)"
else
  fail "ignore-term: the stand-in started" "$(cat "$STATE/stderr")"
fi

start_supervised term-while-waiting refuse-always --attempts 5 --delay 20s
deadline=$((SECONDS + 10))
until grep -q -F "$retry_line_prefix" "$STATE/stderr" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
started=$(now_us)
kill -TERM "$SUPERVISED_PID"
finish_supervised
assert_seconds_between "SIGTERM while waiting 20s to retry: ends at once" 0 2 "$(elapsed_since "$started")"
assert_eq "SIGTERM while waiting to retry: no new attempt, the last status passed on" "1 1" "$STATUS $(attempts)"
assert_contains "SIGTERM while waiting to retry: says so" "received SIGTERM while waiting to retry" "$ERR"

# --- 50 MB of output, lines far longer than the 64 KiB buffer -----------------------------------
# Two files of 12.5 MB, lines of 1 byte to 300 KB without ':' (so no sanitizer pattern can
# appear); the stderr one carries the refusal in the middle of a 200 KB line, across the
# supervisor's 64 KiB reads. Attempt 1 exits 1 (retried because of that line), attempt 2 exits 0.
python3 - "$LUG_WORK/flood.out" "$LUG_WORK/flood.err" <<'PY'
import random, sys
rng = random.Random(10483)
alphabet = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=\"`.-"
def flood(path, marker):
    with open(path, "wb") as f:
        size = 0
        while size < 12_500_000:
            n = rng.choice([1, 80, 500, 65535, 65536, 65537, 300_000])
            line = bytes(rng.choice(alphabet) for _ in range(min(n, 64))) * (n // 64 + 1)
            line = line[:n] + b"\n"
            f.write(line)
            size += len(line)
            if marker and size > 6_000_000:
                f.write(b"x" * 100_000 + marker + b"y" * 100_000 + b"\n")
                marker = None
flood(sys.argv[1], None)
flood(sys.argv[2], b"level=fatal msg=\"cannot uninstall Longhorn because deleting-confirmation-flag is set to `false`\"")
PY
started=$(now_us)
STANDIN_FLOOD_OUT="$LUG_WORK/flood.out" STANDIN_FLOOD_ERR="$LUG_WORK/flood.err" supervise flood flood --delay 0s
assert_eq "flood: status 0 after one retry (the refusal inside a 200 KB line was seen)" "0 2 1" \
  "$STATUS $(attempts) $(retry_lines)"
assert_seconds_between "flood: no deadlock (50 MB through before the 60 s timeout)" 0 50 "$(elapsed_since "$started")"
assert_eq "flood: stdout and stderr are byte for byte the command's, the retry line between the attempts" ok \
  "$(python3 - "$LUG_WORK/flood.out" "$LUG_WORK/flood.err" "$STATE/stdout" "$STATE/stderr" <<'PY'
import re, sys
out, err, got_out, got_err = (open(p, "rb").read() for p in sys.argv[1:])
line = lambda n: b"stand-in attempt %d on stdout\n" % n
if got_out != line(1) + out + line(2) + out:
    print("stdout differs: %d bytes, want %d" % (len(got_out), 2 * len(out) + 2 * len(line(1))))
    sys.exit()
if not (got_err.startswith(err) and got_err.endswith(err)):
    print("stderr does not start and end with the command's stderr")
    sys.exit()
middle = got_err[len(err):len(got_err) - len(err)]
if not re.fullmatch(rb"longhorn-uninstall-supervisor: [^\n]*longhorn/longhorn#10483[^\n]*\n", middle):
    print("between the attempts: %r" % middle[:300])
    sys.exit()
print("ok")
PY
)"
rm -f "$LUG_WORK/flood.out" "$LUG_WORK/flood.err" "$STATE/stdout" "$STATE/stderr"

# --- an orphan is adopted and reaped -----------------------------------------------------------
supervise orphan orphan --delay 0s
assert_eq "orphan: status 0 after one retry" "0 2" "$STATUS $(attempts)"
assert_contains "orphan: the child the command left behind became the supervisor's" \
  "orphan adopted by the supervisor: yes" "$OUT"
assert_contains "orphan: and was reaped when it ended (no zombie)" "orphan reaped: yes" "$OUT"

# --- usage and launch errors ---------------------------------------------------------------------
usage_case() {  # DESCRIPTION EXPECTED_MESSAGE ARGS...
  local desc="$1" expected="$2"
  shift 2
  local err status
  err="$(timeout 10 "$SUPERVISOR" "$@" 2>&1 >/dev/null)"
  status=$?
  assert_eq "$desc: exit 125" 125 "$status"
  assert_contains "$desc: says what is wrong" "longhorn-uninstall-supervisor: $expected" "$err"
}
usage_case "no command" "no command given" --attempts=2
usage_case "nothing after --" "no command given" --
usage_case "--attempts 0" 'invalid value "0" for --attempts' --attempts 0 -- true
usage_case "--attempts 21" 'invalid value "21" for --attempts' --attempts=21 -- true
usage_case "--delay without a unit" 'invalid value "5" for --delay' --delay 5 -- true
usage_case "an unknown flag" "unknown flag --retry" --retry -- true
help="$(timeout 10 "$SUPERVISOR" --help)"
assert_eq "--help exits 0" 0 "$?"
assert_contains "--help shows the usage" "usage: longhorn-uninstall-supervisor [--attempts N] [--delay D] -- COMMAND" "$help"

err="$(timeout 10 "$SUPERVISOR" -- "$LUG_WORK/no-such-command" 2>&1)"
assert_eq "a command that does not exist: exit 127" 127 "$?"
assert_contains "a command that does not exist: says so" "cannot run $LUG_WORK/no-such-command: No such file or directory" "$err"
printf 'not a program\n' >"$LUG_WORK/not-executable"
err="$(timeout 10 "$SUPERVISOR" -- "$LUG_WORK/not-executable" 2>&1)"
assert_eq "a command that cannot be executed: exit 126" 126 "$?"
assert_contains "a command that cannot be executed: says so" "Permission denied" "$err"
out="$(timeout 10 "$SUPERVISOR" -- sh -c 'echo "$0 $1"' found-on-PATH 2)"
assert_eq "the command is looked up on PATH" "found-on-PATH 2" "$out"

finish
