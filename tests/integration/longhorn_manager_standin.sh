#!/usr/bin/env bash
# A scripted stand-in for `longhorn-manager uninstall`, run under longhorn-uninstall-supervisor
# by test_supervisor.sh. It logs as longhorn-manager does (logrus text lines on stderr) and
# behaves as $STANDIN_SCENARIO says:
#
#   refuse-then-succeed  refuse (exit 1, the flag message) on the first $STANDIN_REFUSALS
#                        attempts, then log "Uninstalling..." and exit 0
#   refuse-always        refuse every time: the flag really is false
#   other-failure        exit 1 with another fatal message
#   fail-after-start     log "Uninstalling...", then the flag message too, and exit 1
#   killed               log the flag message, then die of SIGKILL
#   exit                 log the flag message, then exit $STANDIN_EXIT
#   refuse-on-signal     wait; on SIGTERM or SIGINT log the flag message and exit 1
#   ignore-term          wait, noting each SIGTERM in $STANDIN_DIR/signals, until killed
#   flood                write $STANDIN_FLOOD_OUT to stdout and $STANDIN_FLOOD_ERR to stderr
#                        at the same time; exit 1 on the first attempt, 0 after
#   orphan               first attempt: leave a child behind (pid in $STANDIN_DIR/orphan) and
#                        refuse; second: report whether the supervisor adopted and reaped it
#
# Each attempt adds one to $STANDIN_DIR/attempts, writes its pid to $STANDIN_DIR/pid and
# its arguments to $STANDIN_DIR/args.<attempt>, and prints one line on stdout.
set -u
dir="${STANDIN_DIR:?}"
attempt=$(($(cat "$dir/attempts" 2>/dev/null || echo 0) + 1))
echo "$attempt" >"$dir/attempts"
echo "$$" >"$dir/pid"
echo "$*" >"$dir/args.$attempt"
echo "stand-in attempt $attempt on stdout"

log() { echo "time=\"2026-11-27T10:00:00Z\" level=$1 msg=$2" >&2; }
refusal() {
  log fatal "\"cannot uninstall Longhorn because deleting-confirmation-flag is set to \`false\`. Please set it to \`true\` using Longhorn UI or kubectl -n longhorn-system edit settings.longhorn.io deleting-confirmation-flag \""
}
ready() { echo "$attempt" >"$dir/ready.$attempt"; }

case "${STANDIN_SCENARIO:?}" in
refuse-then-succeed)
  if [ "$attempt" -le "${STANDIN_REFUSALS:?}" ]; then
    refusal
    exit 1
  fi
  log info Uninstalling...
  log info '"Uninstallation completed"'
  exit 0
  ;;
refuse-always)
  refusal
  exit 1
  ;;
other-failure)
  log fatal '"failed to check deleting-confirmation-flag setting: settings.longhorn.io \"deleting-confirmation-flag\" not found"'
  exit 1
  ;;
fail-after-start)
  log info Uninstalling...
  refusal
  exit 1
  ;;
killed)
  refusal
  kill -KILL $$
  ;;
exit)
  refusal
  exit "${STANDIN_EXIT:?}"
  ;;
refuse-on-signal)
  trap 'refusal; exit 1' TERM INT
  ready
  while :; do sleep 0.05; done
  ;;
ignore-term)
  trap 'echo SIGTERM >>"$dir/signals"' TERM
  ready
  while :; do sleep 0.05; done
  ;;
flood)
  cat "${STANDIN_FLOOD_OUT:?}" &
  cat "${STANDIN_FLOOD_ERR:?}" >&2
  wait
  [ "$attempt" -ge 2 ] && exit 0
  exit 1
  ;;
orphan)
  if [ "$attempt" -eq 1 ]; then
    sleep 1 </dev/null >/dev/null 2>&1 &
    echo "$!" >"$dir/orphan"
    refusal
    exit 1
  fi
  orphan="$(cat "$dir/orphan")"
  parent="$(awk '{print $4}' "/proc/$orphan/stat" 2>/dev/null)"
  echo "orphan adopted by the supervisor: $([ "$parent" = "$PPID" ] && echo yes || echo "no (parent ${parent:-gone})")"
  # It ends about a second after it started; once it has, nothing of it may stay behind.
  for _ in $(seq 60); do
    [ -e "/proc/$orphan" ] || break
    sleep 0.05
  done
  echo "orphan reaped: $([ -e "/proc/$orphan" ] && echo "no (state $(awk '{print $3}' "/proc/$orphan/stat"))" || echo yes)"
  exit 0
  ;;
*)
  echo "unknown STANDIN_SCENARIO $STANDIN_SCENARIO" >&2
  exit 99
  ;;
esac
