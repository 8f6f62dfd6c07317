#!/usr/bin/env bash
# Builds the container image from the Dockerfile with podman and smoke-tests it, on a
# Debian bookworm machine that has no Docker engine and no access to a registry.
#
#   scripts/image-smoke-test.sh           build (reusing every cache) and test
#   scripts/image-smoke-test.sh --fresh   drop the local base images, the cached root file
#                                         systems, the ccache and podman's untagged images
#                                         (the layer cache) first: a cold run
#
# Steps, each skipped when its result is already there:
#  1. Installs podman, runc and debootstrap (plus openssl and curl for the checks) from Debian.
#  2. Makes the base images locally, since none can be pulled: debootstrap --variant=minbase
#     bookworm from the mirror in the machine's apt sources, cleaned up like the official
#     images (apt sources with bookworm-updates and bookworm-security, no apt lists), imported
#     as localhost/debian:bookworm; a copy without documentation, man pages and locales
#     (dpkg path-excludes, as the official slim variant) as localhost/debian:bookworm-slim.
#     The root file system tarballs are cached in build/image-smoke/ (git-ignored), so a
#     wiped podman store does not mean another debootstrap.
#  3. Builds the image as LUG_IMAGE:v<version> (both read from CMakeLists.txt) without a
#     VERSION build argument, as `docker build .` would, with --pull=never (the bases exist
#     only locally) and --network=host (the build runs apt-get); then again with a VERSION
#     that is not the project's, which must be refused.
#  4. Checks the image:
#     - its metadata: entrypoint is the path the injected init container runs, user 65532:65532
#       (the init container's runAsUser), the OCI version label (the project's version, with
#       no build argument given);
#     - usage text without arguments (exit 2) and with --help (exit 0), --version;
#     - `serve` with throw-away certificates mounted read-only, under the restrictions of the
#       Deployment (read-only root without any tmpfs, all capabilities dropped,
#       no-new-privileges): /healthz and /readyz answer on the plain-HTTP probe port, a review over TLS verified against the
#       throw-away CA, and an AdmissionReview for a pod outside the guard's scope is allowed
#       with its uid echoed; the process runs as uid and gid 65532; the root file system
#       refuses writes, even from root; SIGTERM stops it gracefully with exit status 0;
#     - the init container's `wait` command starts under the same restrictions;
#     and prints the image's size.
#
# Quirks of these machines, handled through a CONTAINERS_CONF file (build/image-smoke/
# containers.conf, usable for manual podman commands too): podman's default open-files and
# processes limits for containers (1048576) are above the hard limits here, and nothing may
# raise a hard limit, so runc fails to start any container ("error setting rlimit type 7",
# then type 6): both are set explicitly, nofile to `ulimit -Hn` and nproc to at most 32768;
# and runc is named as the runtime (crun is not installed).
#
# Needs root (rootful podman, debootstrap, chroot); re-runs itself with sudo otherwise.
# On a 2-core machine busy with other builds: about 25 minutes cold (debootstrap 3, image
# build 22, of which compiling most), 10 seconds when nothing changed, a minute or so after a
# source change (ccache). It prints the time of each step at the end.
set -euo pipefail

fresh=false
case "${1:-}" in
  "") ;;
  --fresh) fresh=true ;;
  *) echo "usage: $0 [--fresh]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then exec sudo -- "$0" "$@"; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$SECONDS
state=build/image-smoke
mkdir -p "$state"

version="$(sed -n 's/^ *VERSION \([0-9][0-9.]*\)$/\1/p' CMakeLists.txt | head -1)"
repository="$(sed -n 's/^set(LUG_IMAGE "\([^"]*\)".*/\1/p' CMakeLists.txt)"
[ -n "$version" ] && [ -n "$repository" ] || { echo "cannot read VERSION or LUG_IMAGE from CMakeLists.txt" >&2; exit 1; }
image="$repository:v$version"

# Timings of the steps, printed at the end.
timings=()
step_started=$SECONDS
end_step() {
  timings+=("$(printf '%-12s %4ds' "$1" $((SECONDS - step_started)))")
  step_started=$SECONDS
}

# --- 1. host tools -----------------------------------------------------------------------

host_packages=(podman runc debootstrap openssl curl)
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# podman asks runc for 1048576 open files and processes per container unless told otherwise,
# and runc cannot raise a hard limit here (even as root), so every container would fail to
# start with "error setting rlimit". Open files: this shell's hard limit. Processes: podman
# lowers its own limit to 32768 at startup (strace shows the setrlimit), so no more than that.
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
cat >"$state/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$PWD/$state/containers.conf"
end_step "host tools"

# --- 2. base images ----------------------------------------------------------------------

bases=(bookworm bookworm-slim)

no_cache=()
# Where buildah keeps the Dockerfile's ccache cache mount (a mount without an id is keyed by its target).
ccache_mount=/var/tmp/buildah-cache/var/cache/ccache
if $fresh; then
  podman rmi --force "$image" "${bases[@]/#/localhost/debian:}" >/dev/null 2>&1 || true
  podman image prune --force >/dev/null  # untagged images: the layer cache
  rm -f "$state"/debian-*.tar
  rm -rf "$ccache_mount"
  no_cache=(--no-cache)
fi

# The first "deb" source for SUITE in the machine's apt sources (one-line or deb822 format).
apt_mirror_for() {
  local files=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  cat "${files[@]}" |
    awk -v suite="$1" '
      function has_word(list, word,   n, i, w) {
        n = split(list, w, /[ \t]+/)
        for (i = 1; i <= n; i++) if (w[i] == word) return 1
        return 0
      }
      function flush(   u) {
        if (has_word(types, "deb") && has_word(suites, suite) && uris != "") {
          split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
        }
        types = suites = uris = ""
      }
      /^[ \t]*#/ { next }
      /^deb[ \t]/ {
        line = $0; sub(/\[[^]]*\]/, "", line); split(line, f, /[ \t]+/)
        if (f[3] == suite) { print f[2]; found = 1; exit }
        next
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { types = $0; sub(/^Types:[ \t]*/, "", types) }
      /^Suites:/ { suites = $0; sub(/^Suites:[ \t]*/, "", suites) }
      /^URIs:/ { uris = $0; sub(/^URIs:[ \t]*/, "", uris) }
      END { if (!found) flush() }'
}

# Writes debian-bookworm.tar and debian-bookworm-slim.tar into $state.
make_base_tarballs() {
  local mirror security rootfs="$state/rootfs"
  mirror="$(apt_mirror_for bookworm)"
  security="$(apt_mirror_for bookworm-security)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="${security:-http://deb.debian.org/debian-security}"
  echo "debootstrap bookworm from $mirror" >&2

  rm -rf "$rootfs"  # what an interrupted run left
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 ||
    { tail -20 "$state/debootstrap.log" >&2; exit 1; }

  # As the official images are: deb822 sources including updates and security, no apt
  # lists or caches (and apt set to keep none), no logs, nothing of the host's identity.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  find "$rootfs/var/log" -type f -delete
  rm -f "$rootfs/etc/hostname"
  : >"$rootfs/etc/resolv.conf"
  tar --numeric-owner -C "$rootfs" -cf "$state/debian-bookworm.tar.partial" .
  mv "$state/debian-bookworm.tar.partial" "$state/debian-bookworm.tar"

  # The slim variant: what the official one leaves out, also for packages installed later.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 2 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  tar --numeric-owner -C "$rootfs" -cf "$state/debian-bookworm-slim.tar.partial" .
  mv "$state/debian-bookworm-slim.tar.partial" "$state/debian-bookworm-slim.tar"
  rm -rf "$rootfs"
}

for base in "${bases[@]}"; do
  podman image exists "localhost/debian:$base" && continue
  [ -f "$state/debian-$base.tar" ] || make_base_tarballs
  # The official images' configuration, which an imported tarball does not have.
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$state/debian-$base.tar" "localhost/debian:$base" >/dev/null
done
end_step "base images"

# --- 3. build ----------------------------------------------------------------------------

revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$revision" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null)" ]; then revision="$revision-dirty"; fi

# No VERSION argument: the image must build as `docker build .` does, its version taken
# from the project (checked against the label below).
echo "building $image" >&2
podman build --pull=never --network=host "${no_cache[@]}" \
  --build-arg "REVISION=$revision" \
  --tag "$image" --file Dockerfile . >"$state/build.log" 2>&1 ||
  { tail -40 "$state/build.log" >&2; echo "build failed; full log: $state/build.log" >&2; exit 1; }
end_step "image build"

# An explicit VERSION that is not the project's must be refused. The build stage's RUN
# depends on VERSION, so this recompiles (from ccache: a minute or two); the refusal comes
# right after the binary is built, and nothing is tagged.
wrong_version="$version-not-this-one"
status=0
podman build --pull=never --network=host --build-arg "VERSION=$wrong_version" \
  --file Dockerfile . >"$state/build-wrong-version.log" 2>&1 || status=$?
end_step "wrong VERSION"

# --- 4. checks ---------------------------------------------------------------------------

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1${2:+: $2}"; failures=$((failures + 1)); }
expect_equal() {  # DESCRIPTION EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

container="lug-image-smoke-$$"
scratch="$(mktemp -d)"
cleanup() {
  podman rm --force --time 0 "$container" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# The restrictions of the Deployment's and the init container's securityContext.
restricted=(--read-only --read-only-tmpfs=false --cap-drop=ALL --security-opt=no-new-privileges)

init_binary="$(sed -n 's/.*binary_path = "\([^"]*\)".*/\1/p' webhook/guard/init_container.hpp)"
init_uid="$(sed -n 's/.*init_container_uid = \([0-9]*\);.*/\1/p' webhook/guard/init_container.hpp)"
expect_equal "entrypoint is the init container's command" "[$init_binary]" \
  "$(podman image inspect --format '{{.Config.Entrypoint}}' "$image")"
expect_equal "user is the init container's runAsUser" "$init_uid:$init_uid" \
  "$(podman image inspect --format '{{.Config.User}}' "$image")"
expect_equal "version label" "$version" \
  "$(podman image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")"
if [ "$status" -ne 0 ] && grep -q "VERSION='$wrong_version'.*is not the project's version" "$state/build-wrong-version.log"; then
  pass "--build-arg VERSION=$wrong_version is refused, saying why"
else fail "--build-arg VERSION=$wrong_version is refused" "exit $status; log: $state/build-wrong-version.log"; fi

status=0
usage="$(podman run --rm "${restricted[@]}" "$image" 2>&1)" || status=$?
if [ "$status" -eq 2 ] && grep -q '^Usage:' <<<"$usage"; then pass "usage text without arguments (exit 2)"
else fail "usage text without arguments" "exit $status: $usage"; fi
status=0
help="$(podman run --rm "${restricted[@]}" "$image" --help 2>/dev/null)" || status=$?
if [ "$status" -eq 0 ] && grep -q 'serve \[flags\]' <<<"$help"; then pass "--help"
else fail "--help" "exit $status: $help"; fi
expect_equal "--version" "longhorn-uninstall-guard $version" \
  "$(podman run --rm "${restricted[@]}" "$image" --version 2>&1 || true)"

# Throw-away PKI: a CA and a serving certificate for localhost. The mounted files belong to
# the container's user with the modes a Secret volume with fsGroup would give them.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=smoke-test-ca \
  -keyout "$scratch/ca.key" -out "$scratch/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
  -keyout "$scratch/tls.key" -out "$scratch/tls.csr" 2>/dev/null
openssl x509 -req -in "$scratch/tls.csr" -CA "$scratch/ca.crt" -CAkey "$scratch/ca.key" -CAcreateserial \
  -days 1 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n') -out "$scratch/tls.crt" 2>/dev/null
echo "not-a-real-token" >"$scratch/token"
mkdir "$scratch/mounted"
cp "$scratch/tls.crt" "$scratch/tls.key" "$scratch/ca.crt" "$scratch/token" "$scratch/mounted/"
chown -R "$init_uid:$init_uid" "$scratch/mounted"
chmod 0600 "$scratch/mounted/tls.key" "$scratch/mounted/token"
chmod 0755 "$scratch" "$scratch/mounted"

# The ports are published from the container's defaults (8443 the webhook, 8081 the probes)
# to free ones on the host's loopback. The API server flags are never used: nothing here
# asks a guarded question.
podman run --detach --name "$container" "${restricted[@]}" \
  --publish 127.0.0.1::8443 --publish 127.0.0.1::8081 --volume "$scratch/mounted:/certs:ro" \
  "$image" serve --tls-cert /certs/tls.crt --tls-key /certs/tls.key \
  --kube-api https://127.0.0.1:6443 --kube-ca-file /certs/ca.crt --kube-token-file /certs/token >/dev/null
port="$(podman port "$container" 8443/tcp | sed 's/.*://')"
url="https://localhost:$port"
probes="http://localhost:$(podman port "$container" 8081/tcp | sed 's/.*://')"
tls=(--silent --show-error --max-time 5 --cacert "$scratch/ca.crt")

healthz=""
for _ in $(seq 50); do
  healthz="$(curl --silent --show-error --max-time 5 "$probes/healthz" 2>/dev/null)" && break
  [ "$(podman inspect --format '{{.State.Running}}' "$container")" = true ] || break
  sleep 0.2
done
expect_equal "serve: /healthz on the probe port (default 8081, plain HTTP)" "ok" "$healthz"
expect_equal "serve: /readyz" "ok" "$(curl --silent --show-error --max-time 5 "$probes/readyz" 2>&1)"

review='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
  "uid":"6f0e9b6e-smoke","kind":{"group":"","version":"v1","kind":"Pod"},
  "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE",
  "userInfo":{"username":"smoke"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"unrelated"}}}}'
answer="$(curl "${tls[@]}" -H 'Content-Type: application/json' --data "$review" "$url/validate" 2>&1)"
if grep -q '"uid":"6f0e9b6e-smoke"' <<<"$answer" && grep -q '"allowed":true' <<<"$answer"; then
  pass "serve: a pod outside the guard's scope is allowed, uid echoed"
else fail "serve: a pod outside the guard's scope is allowed" "$answer"; fi

pid="$(podman inspect --format '{{.State.Pid}}' "$container")"
ids="$(awk '/^Uid:|^Gid:/ { printf "%s ", $2 }' "/proc/$pid/status" 2>/dev/null)"
expect_equal "serve: runs as uid and gid $init_uid" "$init_uid $init_uid " "$ids"

write="$(podman exec --user 0 "$container" touch /probe 2>&1 || true)"
if grep -q 'Read-only file system' <<<"$write"; then pass "serve: root file system is read-only, even for root"
else fail "serve: root file system is read-only" "touch said: ${write:-nothing}"; fi

stop_started=$SECONDS
podman stop --time 15 "$container" >/dev/null
stop_took=$((SECONDS - stop_started))
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$container")"
serve_log="$(podman logs "$container" 2>&1)"
if [ "$exit_code" = 0 ] && [ "$stop_took" -lt 15 ] && grep -q 'shutting down' <<<"$serve_log"; then
  pass "serve: SIGTERM shuts down gracefully (exit 0 after ${stop_took}s)"
else fail "serve: SIGTERM shuts down gracefully" "exit $exit_code after ${stop_took}s"; fi
if [ "$failures" -gt 0 ]; then tail -20 <<<"$serve_log" | sed 's/^/  serve log: /'; fi

status=0
wait_help="$(podman run --rm "${restricted[@]}" --user "$init_uid:$init_uid" --entrypoint "$init_binary" \
  "$image" wait --help 2>&1)" || status=$?
if [ "$status" -eq 0 ] && grep -q -- '--settle' <<<"$wait_help"; then pass "init container: wait starts"
else fail "init container: wait starts" "exit $status: $wait_help"; fi
end_step "checks"

size="$(podman image inspect --format '{{.Size}}' "$image")"
echo
echo "image:  $image ($(podman image inspect --format '{{.Id}}' "$image" | cut -c1-12))"
echo "size:   $((size / 1000 / 1000)) MB ($size bytes, uncompressed)"
printf 'time:   %s\n' "${timings[@]}"
printf '        %-12s %4ds\n' total $((SECONDS - started))
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
