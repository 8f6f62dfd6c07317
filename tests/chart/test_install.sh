#!/usr/bin/env bash
# The chart on a real API server: server-side dry runs of every certificate mode, then
# `helm install` (existing-Secret mode), one uninstall round through the chart-installed
# guard, and `helm uninstall` leaving nothing of the release behind.
#
#   tests/chart/test_install.sh KUBECONFIG UNINSTALL_JOB_YAML
#
# KUBECONFIG: an admin kubeconfig of a cluster where Longhorn is installed (its CRDs, the
#   namespace longhorn-system and its Settings: tests/cluster/prepare.py without the guard's
#   kustomize install), whose nodes run the guard's image
#   (ghcr.io/longhorn-uninstall-guard/longhorn-uninstall-guard:v<version>; the pod runner of
#   tests/cluster maps it to the built binary), and no guard installed yet.
# UNINSTALL_JOB_YAML: Longhorn's uninstall Job with what it needs (its ServiceAccount and
#   RBAC), e.g. tests/cluster/longhorn/uninstall-kubectl.yaml. Its objects other than the Job
#   are applied first; the Job is created for the round and deleted after.
#
# Uses kubectl from PATH (or $KUBECTL) and helm from tests/chart/helm/build.sh. Prints one
# line per check and "N passed, M failed" last; exits 1 when a check failed.
#
# CTest runs it as cluster.chart_install (tests/cluster/test_chart_install.sh starts the control
# plane of tests/cluster, Kubernetes v1.34.1 from its Go modules, with a version-stamped
# kube-apiserver so the chart's kubeVersion check applies).
set -u
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBECONFIG="${1:-}"
job_yaml="${2:-}"
if [ ! -f "$KUBECONFIG" ] || [ ! -f "$job_yaml" ]; then
  echo "usage: $0 KUBECONFIG UNINSTALL_JOB_YAML" >&2
  exit 2
fi
export KUBECONFIG
KUBECTL="${KUBECTL:-kubectl}"
HELM="$(bash "$repo/tests/chart/helm/build.sh")" || exit 2
chart="$repo/charts/longhorn-uninstall-guard"
release=longhorn-uninstall-guard
ns=longhorn-uninstall-guard
longhorn_ns=longhorn-system
job=longhorn-uninstall
# How long each wait may take: the guard is ready in seconds and a healthy uninstall Job takes
# about 10 s, but the control plane shares 2 cores with builds. Far below the Job's own
# activeDeadlineSeconds (900 s).
readonly READY_TIMEOUT=180s
readonly JOB_TIMEOUT=300
# The guard holds a pod up to --max-hold (25 s) before denying it: a denial event appears
# within that plus the Job controller's first retry.
readonly DENIAL_TIMEOUT=90
# After `helm uninstall`: the garbage collector's pass over the ReplicaSet and its pods (seconds)
# plus the pods' terminationGracePeriodSeconds (the chart's 20 s shutdown grace plus 10 s), with
# room for a loaded machine.
readonly LEFTOVER_TIMEOUT=90

passed=0 failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; shift; printf '       %s\n' "$@"; failed=$((failed + 1)); }
k() { timeout 120 "$KUBECTL" "$@"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- server-side dry runs ---------------------------------------------------------------------
k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
k label namespace "$ns" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest --overwrite >/dev/null
"$repo/certs/generate.sh" "$work/certs" >"$work/generate.log" 2>&1 || { fail "certs/generate.sh" "$(cat "$work/generate.log")"; }
modes=("certgen:" "existing-secret:--set existingSecret.name=guard-tls --set-file existingSecret.caBundle=$work/certs/ca.crt")
if k get crd certificates.cert-manager.io >/dev/null 2>&1; then
  modes+=("cert-manager:--set certManager.enabled=true")
else
  echo "# cert-manager's CRDs are not installed: its mode is not dry-run here"
fi
for mode in "${modes[@]}"; do
  name="${mode%%:*}"
  # shellcheck disable=SC2206 # the mode's arguments are split on purpose
  args=(${mode#*:})
  if ! "$HELM" template "$release" "$chart" -n "$ns" "${args[@]}" >"$work/$name.yaml" 2>"$work/$name.err"; then
    fail "$name: helm template" "$(cat "$work/$name.err")"
    continue
  fi
  if out="$(k apply --dry-run=server --server-side --field-manager=chart-test -f "$work/$name.yaml" 2>&1)"; then
    pass "$name: the API server accepts every object (server-side dry run)"
  else
    fail "$name: the API server accepts every object (server-side dry run)" "$out"
  fi
done

# --- helm install, existing-Secret mode ----------------------------------------------------------
k -n "$ns" create secret tls guard-tls --cert="$work/certs/tls.crt" --key="$work/certs/tls.key" >/dev/null
if out="$("$HELM" install "$release" "$chart" -n "$ns" --set existingSecret.name=guard-tls \
  --set-file existingSecret.caBundle="$work/certs/ca.crt" --wait --timeout "$READY_TIMEOUT" 2>&1)"; then
  pass "helm install (existing Secret) completes, replicas ready"
else
  fail "helm install (existing Secret) completes, replicas ready" "$out" "$(k -n "$ns" get pods -o wide 2>&1)"
fi
for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
  bundle="$(k get "$kind" "$release" -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2>/dev/null | base64 -d 2>/dev/null)"
  if [ "$bundle" = "$(cat "$work/certs/ca.crt")" ]; then pass "$kind carries the CA"; else fail "$kind carries the CA"; fi
done

# --- one uninstall round through the guard ---------------------------------------------------------
# The flag false: the Job's first pods are held and denied (FailedCreate events with the guard's
# message); then true: the next pod is admitted with the init container and the Job completes.
k apply -f <(awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} !/\nkind: Job\n/' "$job_yaml") >/dev/null
k -n "$longhorn_ns" patch -p '{"value": "false"}' --type=merge lhs deleting-confirmation-flag >/dev/null
k -n "$longhorn_ns" delete job "$job" --ignore-not-found --wait=true >/dev/null
k create -f <(awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} /\nkind: Job\n/' "$job_yaml") >/dev/null
denied=""
for _ in $(seq "$DENIAL_TIMEOUT"); do
  denied="$(k -n "$longhorn_ns" get events --field-selector "involvedObject.name=$job,reason=FailedCreate" \
    -o jsonpath='{.items[*].message}' 2>/dev/null)"
  [ -n "$denied" ] && break
  sleep 1
done
if grep -q 'longhorn-uninstall-guard held this pod' <<<"$denied"; then
  pass "with the flag false, the uninstall pod is held and denied with the guard's message"
else
  fail "with the flag false, the uninstall pod is held and denied with the guard's message" "events: ${denied:-none}"
fi
k -n "$longhorn_ns" patch -p '{"value": "true"}' --type=merge lhs deleting-confirmation-flag >/dev/null
if k -n "$longhorn_ns" wait --for=condition=complete "job/$job" --timeout="${JOB_TIMEOUT}s" >/dev/null 2>&1; then
  pass "with the flag true, the uninstall Job completes"
else
  fail "with the flag true, the uninstall Job completes" "$(k -n "$longhorn_ns" describe job "$job" 2>&1 | tail -20)"
fi
pods="$(k -n "$longhorn_ns" get pods -l "job-name=$job" -o json)"
if [ "$(jq '[.items[] | select(.status.phase == "Failed")] | length' <<<"$pods")" = 0 ]; then
  pass "no uninstall pod failed"
else
  fail "no uninstall pod failed" "$(jq -c '[.items[] | {name: .metadata.name, phase: .status.phase}]' <<<"$pods")"
fi
if [ "$(jq '[.items[] | select(any(.spec.initContainers[]?; .name == "wait-for-deleting-confirmation"))] | length > 0' <<<"$pods")" = true ]; then
  pass "the admitted pod has the guard's init container"
else
  fail "the admitted pod has the guard's init container"
fi
k -n "$longhorn_ns" delete job "$job" --cascade=foreground --wait=true >/dev/null 2>&1

# --- helm uninstall leaves nothing behind ------------------------------------------------------------
if out="$("$HELM" uninstall "$release" -n "$ns" --wait --timeout "$READY_TIMEOUT" 2>&1)"; then
  pass "helm uninstall"
else
  fail "helm uninstall" "$out"
fi
k -n "$ns" delete secret guard-tls --ignore-not-found >/dev/null
release_leftovers() {
  local kind
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration clusterrole clusterrolebinding; do
    k get "$kind" -l "app.kubernetes.io/instance=$release" -o name 2>/dev/null
  done
  k -n "$longhorn_ns" get role,rolebinding -l "app.kubernetes.io/instance=$release" -o name 2>/dev/null
  k -n "$ns" get all,secrets,serviceaccounts,roles,rolebindings,poddisruptionbudgets,jobs -o name 2>/dev/null |
    grep -v '^serviceaccount/default$'
}
# `helm uninstall --wait` returns once the release's own objects are gone; their dependants
# (ReplicaSet, pods) are removed afterwards by the garbage collector, and each pod then gets
# its graceful termination: wait for that, bounded.
left="$(release_leftovers)"
deadline=$((SECONDS + LEFTOVER_TIMEOUT))
while [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 2
  left="$(release_leftovers)"
done
if [ -z "$left" ]; then pass "nothing of the release is left"; else fail "nothing of the release is left" "$left"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
