#!/usr/bin/env bash
# longhorn-uninstall-supervisor runs where none of our libraries are: the longhorn-manager
# image (SUSE BCI) that the guard copies it into.
#
# - readelf: no program interpreter (INTERP) and no dynamic section (no NEEDED library);
# - it works in a chroot holding nothing but itself and a statically linked stand-in for
#   longhorn-manager (compiled here with `cc -static`): the stand-in refuses once, the
#   supervisor retries, the second attempt succeeds with its arguments intact;
# - control: a dynamically linked program cannot run in that chroot, so the chroot really
#   lacks the libraries.
#
# Usage: tests/integration/test_supervisor_static.sh PATH_TO_longhorn-uninstall-supervisor
# Follows lib.sh's conventions; needs readelf, cc (with the static C library) and root (or
# unprivileged user namespaces, for `unshare -r`). Takes a few seconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
SUPERVISOR="$GUARD_BIN"

for tool in readelf cc chroot; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: required tool '$tool' is not installed" >&2
    exit 2
  fi
done
as_root=()
[ "$(id -u)" = 0 ] || as_root=(unshare -r)

# --- no dynamic dependencies --------------------------------------------------------------------
assert_eq "no program interpreter (INTERP segment)" 0 "$(readelf -l -W "$SUPERVISOR" | grep -c INTERP)"
assert_eq "no NEEDED shared library" 0 "$(readelf -d -W "$SUPERVISOR" | grep -c NEEDED)"
assert_contains "no dynamic section at all" "no dynamic section" "$(readelf -d -W "$SUPERVISOR" 2>&1)"

# --- in a root file system holding only the supervisor and a static stand-in -------------------
root="$LUG_WORK/root"
mkdir -p "$root"
cat >"$LUG_WORK/standin.c" <<'C'
/* Stand-in for longhorn-manager uninstall: refuses on the first attempt (counted in
   /attempts), then logs "Uninstalling..." and prints its arguments. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char count[16] = {0};
  int fd = open("/attempts", O_RDWR | O_CREAT, 0644);
  if (fd < 0) return 90;
  int attempt = (read(fd, count, sizeof count - 1) > 0 ? atoi(count) : 0) + 1;
  if (lseek(fd, 0, SEEK_SET) != 0 || ftruncate(fd, 0) != 0) return 91;
  dprintf(fd, "%d", attempt);
  close(fd);
  if (attempt == 1) {
    dprintf(2, "level=fatal msg=\"cannot uninstall Longhorn because deleting-confirmation-flag is set to `false`\"\n");
    return 1;
  }
  dprintf(2, "level=info msg=Uninstalling...\n");
  printf("attempt %d args:", attempt);
  for (int i = 1; i < argc; ++i) printf(" %s", argv[i]);
  printf("\n");
  return 0;
}
C
if ! cc -static -O1 -o "$root/longhorn-manager" "$LUG_WORK/standin.c" 2>"$LUG_WORK/cc.err"; then
  fail "the static stand-in compiles (cc -static)" "$(cat "$LUG_WORK/cc.err")"
  finish
fi
cp "$SUPERVISOR" "$root/longhorn-uninstall-supervisor"
assert_eq "the root file system holds only the two programs" "longhorn-manager longhorn-uninstall-supervisor" \
  "$(cd "$root" && find . -mindepth 1 -printf '%P\n' | sort | paste -sd' ')"

out="$(timeout 20 "${as_root[@]}" chroot "$root" /longhorn-uninstall-supervisor --delay=0s -- \
  /longhorn-manager uninstall --force 2>"$LUG_WORK/chroot.err")"
status=$?
assert_eq "in the chroot: exit 0 after one retry" "0 2" "$status $(cat "$root/attempts" 2>/dev/null)"
assert_eq "in the chroot: the second attempt ran with its arguments" "attempt 2 args: uninstall --force" "$out"
assert_contains "in the chroot: the retry was announced" "longhorn/longhorn#10483" "$(cat "$LUG_WORK/chroot.err")"

# Control: the same chroot cannot run a dynamically linked program.
cp "$(type -P true)" "$root/dynamic-true"
"${as_root[@]}" chroot "$root" /dynamic-true 2>/dev/null
assert_ne "control: a dynamically linked program fails in the chroot" 0 "$?"

finish
