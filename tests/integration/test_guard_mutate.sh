#!/usr/bin/env bash
# /mutate on the uninstall Job's pods: the JSON patch is applied to the pod object the way
# the API server applies it, and the resulting pod is checked, not the patch text:
#
# - the init container comes first (the patch creates /spec/initContainers, or inserts at
#   index 0 before the pod's own init containers, which are kept unchanged);
# - it is named wait-for-deleting-confirmation, runs the image given with --init-image and
#   `longhorn-uninstall-guard wait` with the namespace, setting, API version, poll interval
#   and settle delay the guard was given, under the restricted Pod Security profile, with
#   small resources and the pod's own token volume mounted read-only;
# - the uninstall container runs under longhorn-uninstall-supervisor: an emptyDir volume
#   (sizeLimit 8Mi, above the size of the supervisor binary built beside the guard) is
#   added, the init container mounts it and installs the supervisor into it
#   (`wait --install-supervisor`), the uninstall container mounts it read-only and its
#   command becomes [supervisor, --attempts=N, --, original command...], args untouched;
#   --supervisor-attempts sets N, --wrap-uninstall=false turns all of it off, and a
#   container without a command is left alone with a warning;
# - nothing else in the pod changes, and the patched pod, reviewed again (mutating
#   webhooks can be re-invoked), gets no second patch;
# - /mutate never reads the setting and never holds, even while the flag is false.
#
# Usage: tests/integration/test_guard_mutate.sh PATH_TO_longhorn-uninstall-guard
# (LUG_SUPERVISOR_BIN: the supervisor binary, for the sizeLimit check; by default the one
# built beside the guard). Follows lib.sh's conventions. Takes about 10 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

init_image="registry.example.test/lug/longhorn-uninstall-guard:test-1"
# /mutate does no I/O: 2 s is far above its answer time and far below a hold (8 s here).
at_once=2
start_standin_guard --max-hold 8s --init-image "$init_image" --init-settle 7s --init-poll-interval 3s || finish

supervisor="/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor"

# check_patched_pod REVIEW DESCRIPTION [NAMESPACE SETTING API_VERSION ATTEMPTS]
# Applies the last response's patch to REVIEW's pod and checks the result (see the top):
# the init container expected for the guard's flags (--init-poll-interval 3s,
# --init-settle 7s, and the setting flags given, by default Longhorn's), mounting the pod's
# own token volume where the pod's containers mount it and installing the supervisor, and
# the uninstall container (the pod's only one) running under it with --attempts=ATTEMPTS
# (default 5).
check_patched_pod() {
  local review desc="$2"
  review="$(fixture_path "$1")"
  assert_json '[.response.allowed, .response.patchType]' '[true,"JSONPatch"]' "$RESPONSE_BODY" "$desc: allowed with a JSONPatch"
  apply_patch "$review" >"$LUG_WORK/patched.json"
  if grep -q '^error: ' "$LUG_WORK/patched.json"; then
    fail "$desc: the patch applies to the pod" "$(cat "$LUG_WORK/patched.json")"
    return
  fi
  pass "$desc: the patch applies to the pod"
  # One jq run computes, line by line, what each check below compares.
  local lines
  mapfile -t lines < <(jq -cS --slurpfile review "$review" --arg image "$init_image" --arg supervisor "$supervisor" \
    --arg ns "${3:-longhorn-system}" --arg setting "${4:-deleting-confirmation-flag}" --arg version "${5:-v1beta2}" \
    --arg attempts "${6:-5}" '
    $review[0].request.object as $original
    | ($original.spec.initContainers // []) as $before
    | ($original.spec.volumes[] | select(.projected.sources // [] | any(has("serviceAccountToken"))) | .name) as $volume
    | ([$original.spec.containers[].volumeMounts[]? | select(.name == $volume)][0].mountPath) as $path
    | {name: "longhorn-uninstall-supervisor", mountPath: "/run/longhorn-uninstall-guard"} as $mount
    | def millicores: if endswith("m") then rtrimstr("m") | tonumber else tonumber * 1000 end;
      def mebibytes: if endswith("Mi") then rtrimstr("Mi") | tonumber else null end;
    .spec.initContainers as $init
    | ([$init[].name] == ["wait-for-deleting-confirmation"] + [$before[].name]),
      ($init[1:] == $before),
      {name: "wait-for-deleting-confirmation", image: $image, command: ["/usr/local/bin/longhorn-uninstall-guard"],
       args: ["wait", "--namespace", $ns, "--setting", $setting, "--setting-api-version", $version,
              "--poll-interval", "3s", "--settle", "7s", "--install-supervisor", $supervisor],
       volumeMounts: [{name: $volume, mountPath: $path, readOnly: true}, $mount]},
      ($init[0] | {name, image, command, args, volumeMounts}),
      ($init[0].securityContext | {allowPrivilegeEscalation, capabilities, privileged, readOnlyRootFilesystem,
        runAsNonRoot, seccompProfile, runAsUserNonZero: ((.runAsUser // 1) > 0)}),
      ($init[0].resources as $r | ($r.requests.cpu | millicores) <= ($r.limits.cpu | millicores)
        and ($r.limits.cpu | millicores) <= 100
        and ($r.requests.memory | mebibytes) <= ($r.limits.memory | mebibytes) and ($r.limits.memory | mebibytes) <= 64),
      (.spec.volumes == $original.spec.volumes + [{name: "longhorn-uninstall-supervisor", emptyDir: {sizeLimit: "8Mi"}}]),
      (.spec.containers[0] | {command, args, volumeMounts}),
      ($original.spec.containers[0] | {command: ([$supervisor, "--attempts=\($attempts)", "--"] + .command), args,
        volumeMounts: (.volumeMounts + [$mount + {readOnly: true}])}),
      ((.spec.containers | map(del(.command, .volumeMounts))) == ($original.spec.containers | map(del(.command, .volumeMounts)))
        and (del(.spec.initContainers, .spec.volumes, .spec.containers)
             == ($original | del(.spec.initContainers, .spec.volumes, .spec.containers))))' "$LUG_WORK/patched.json")
  assert_eq "$desc: the init container is first, the pod's own init containers follow" true "${lines[0]:-}"
  assert_eq "$desc: the pod's own init containers are kept exactly" true "${lines[1]:-}"
  assert_eq "$desc: name, image, command, args, token mount and supervisor mount" "${lines[2]:-}" "${lines[3]:-}"
  assert_eq "$desc: restricted securityContext" \
    '{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"privileged":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUserNonZero":true,"seccompProfile":{"type":"RuntimeDefault"}}' \
    "${lines[4]:-}"
  assert_eq "$desc: small resources, requests and limits (cpu <= 100m, memory <= 64Mi)" true "${lines[5]:-}"
  assert_eq "$desc: the supervisor's emptyDir is added after the pod's volumes" true "${lines[6]:-}"
  assert_eq "$desc: the uninstall command runs under the supervisor, args untouched, volume mounted read-only" \
    "${lines[8]:-}" "${lines[7]:-}"
  assert_eq "$desc: nothing else in the pod changed" true "${lines[9]:-}"

  # Re-invoked on its own result: nothing more to do.
  jq --slurpfile patched "$LUG_WORK/patched.json" '.request.object = $patched[0]' "$review" >"$LUG_WORK/reinvoked.json"
  post_review "/mutate?timeout=10s" "$LUG_WORK/reinvoked.json"
  assert_json '[.response.allowed, (.response | has("patch")), (.response | has("patchType"))]' '[true,false,false]' \
    "$RESPONSE_BODY" "$desc: the patched pod reviewed again gets no second patch"
}

set_flag false
reset_reads

# A pod without init containers: the patch creates the list.
post_review "/mutate?timeout=10s" uninstall-pod-kubectl.json
patch_ops="$(jq -r .response.patch "$RESPONSE_BODY" | base64 -d | jq -c '[.[] | [.op, .path]]')"
assert_eq "no init containers: the patch adds /spec/initContainers, the volume, the mount, the command" \
  '[["add","/spec/initContainers"],["add","/spec/volumes/-"],["add","/spec/containers/0/volumeMounts/-"],["replace","/spec/containers/0/command"]]' \
  "$patch_ops"
check_patched_pod uninstall-pod-kubectl.json "kubectl pod"

# A pod with an init container: inserted at index 0.
post_review "/mutate?timeout=10s" uninstall-pod-with-init-containers.json
patch_ops="$(jq -r .response.patch "$RESPONSE_BODY" | base64 -d | jq -c '[.[] | [.op, .path]]')"
assert_eq "existing init containers: the patch adds at /spec/initContainers/0" '["add","/spec/initContainers/0"]' \
  "$(jq -c '.[0]' <<<"$patch_ops")"
check_patched_pod uninstall-pod-with-init-containers.json "pod with an init container"

# The Helm pod (another service account, a priorityClassName) and the v1beta1 review; the
# admission contract test applies the patches of the other fixtures.
for fixture in uninstall-pod-helm.json uninstall-pod-v1beta1.json; do
  post_review "/mutate?timeout=10s" "$fixture"
  assert_json .apiVersion "$(jq -r .apiVersion "$(fixture_path "$fixture")")" "$RESPONSE_BODY" \
    "$fixture: answered in the review's apiVersion"
  check_patched_pod "$fixture" "$fixture"
done

# The token volume mounted at a non-default path: the init container mounts it there too.
jq '.request.uid = "5b2d0c4e-0101-4d6e-8f10-2a3b4c5d6f01"
    | .request.object.spec.volumes[0].name = "sa-token"
    | .request.object.spec.containers[0].volumeMounts[0] = {name: "sa-token", readOnly: true, mountPath: "/var/run/token"}' \
  "$(fixture_path uninstall-pod-kubectl.json)" >"$LUG_WORK/custom-token-path.json"
post_review "/mutate?timeout=10s" "$LUG_WORK/custom-token-path.json"
check_patched_pod "$LUG_WORK/custom-token-path.json" "token volume at a custom path"

# The supervisor fits in its volume: the sizeLimit is above the size of the binary built
# beside the guard (debug symbols included, so the shipped, stripped one fits easily).
supervisor_bin="${LUG_SUPERVISOR_BIN:-$(dirname "$GUARD_BIN")/supervisor/longhorn-uninstall-supervisor}"
if [ -x "$supervisor_bin" ]; then
  assert_true "the supervisor's size ($(stat -c %s "$supervisor_bin") bytes) is under the volume's 8Mi sizeLimit" \
    test "$(stat -c %s "$supervisor_bin")" -lt $((8 * 1024 * 1024))
else
  fail "the supervisor binary is found for the sizeLimit check" "not executable: $supervisor_bin"
fi

# A container without a command runs its image's entrypoint, unknown to the guard: the init
# container is injected, nothing else, and a warning says why.
jq '.request.uid = "5b2d0c4e-0104-4d6e-8f10-2a3b4c5d6f04" | del(.request.object.spec.containers[0].command)
    | .request.object.spec.containers[0].args = ["uninstall", "--force"]' \
  "$(fixture_path uninstall-pod-kubectl.json)" >"$LUG_WORK/no-command.json"
post_review "/mutate?timeout=10s" "$LUG_WORK/no-command.json"
assert_eq "no command: only the init container is added, without the supervisor's install" \
  '[["add","/spec/initContainers"]] false' \
  "$(jq -r .response.patch "$RESPONSE_BODY" | base64 -d | jq -c '[.[] | [.op, .path]]') $(jq -r .response.patch "$RESPONSE_BODY" | base64 -d | jq -c '.[0].value[0].args | index("--install-supervisor") != null')"
assert_json '[.response.warnings[] | test("container \"longhorn-uninstall\" has no command.*longhorn/longhorn#10483")] | any' \
  true "$RESPONSE_BODY" "no command: a warning says why it does not run under the supervisor"

# Never holds: while the flag is false, every in-scope /mutate is answered at once.
for fixture in uninstall-pod-kubectl.json uninstall-pod-helm.json uninstall-pod-no-token.json; do
  post_review_bg mutate "/mutate?timeout=10s" "$fixture"
  await_review mutate
  assert_json .response.allowed true "$BG_BODY" "flag false, $fixture on /mutate: allowed"
  assert_seconds_between "flag false, $fixture on /mutate: answered at once, never held" 0 "$at_once" "$BG_SECONDS"
done
save_reads "$LUG_WORK/reads.json"
assert_json '.requests | length' 0 "$LUG_WORK/reads.json" "/mutate never reads the setting (zero requests to the API)"
stop_guard

# --- the init container follows --namespace, --setting and --setting-api-version -----------------
start_standin_guard --namespace longhorn-custom --setting my-confirmation --setting-api-version v1beta1 \
  --init-image "$init_image" --init-settle 7s --init-poll-interval 3s --supervisor-attempts 3 || finish
jq '.request.uid = "5b2d0c4e-0103-4d6e-8f10-2a3b4c5d6f03" | .request.namespace = "longhorn-custom"
    | .request.object.metadata.namespace = "longhorn-custom"' \
  "$(fixture_path uninstall-pod-kubectl.json)" >"$LUG_WORK/custom-namespace.json"
reset_reads
post_review "/mutate?timeout=10s" "$LUG_WORK/custom-namespace.json"
check_patched_pod "$LUG_WORK/custom-namespace.json" \
  "--namespace longhorn-custom --setting my-confirmation --supervisor-attempts 3" longhorn-custom my-confirmation v1beta1 3
post_review "/mutate?timeout=10s" uninstall-pod-kubectl.json
assert_json '[.response.allowed, (.response | has("patch"))]' '[true,false]' "$RESPONSE_BODY" \
  "--namespace longhorn-custom: a pod in longhorn-system is out of scope, not patched"
save_reads "$LUG_WORK/reads.json"
assert_json '.requests | length' 0 "$LUG_WORK/reads.json" "--namespace longhorn-custom: /mutate made no request to the API"

stop_guard

# --- --wrap-uninstall=false: the init container only, as before the supervisor ----------------
start_standin_guard --init-image "$init_image" --wrap-uninstall=false || finish
post_review "/mutate?timeout=10s" uninstall-pod-kubectl.json
apply_patch uninstall-pod-kubectl.json >"$LUG_WORK/patched.json"
assert_eq "--wrap-uninstall=false: one operation, the init container" '[["add","/spec/initContainers"]]' \
  "$(jq -r .response.patch "$RESPONSE_BODY" | base64 -d | jq -c '[.[] | [.op, .path]]')"
assert_eq "--wrap-uninstall=false: the init container installs nothing and mounts only the token" \
  'false 1' "$(jq -c '.spec.initContainers[0] | [(.args | index("--install-supervisor") != null), (.volumeMounts | length)] | join(" ")' -r "$LUG_WORK/patched.json")"
assert_json '.response | has("warnings")' false "$RESPONSE_BODY" "--wrap-uninstall=false: no warning"

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
