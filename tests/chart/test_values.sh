#!/usr/bin/env bash
# A bad value must fail `helm template` (and so `helm install`, which runs the same schema
# validation and templates) with a message that names the value and says what is wrong;
# the values just inside each limit must render. Schema checks come from values.schema.json,
# relations between values from the templates' `fail` (templates/_helpers.tpl, lug.validate).
#
#   test_values.sh PATH_TO_longhorn-uninstall-guard
#
# (The binary is not run here; lib.sh's setup_test wants it, and the suite always has it.)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
setup_test "${1:-}"
source "$LUG_ROOT/tests/chart/helm.sh"
if ! find_helm; then
  fail "build or find helm (tests/chart/helm/build.sh)" "$HELM_ERROR"
  finish
fi

case_number=0
# expect_refused DESCRIPTION EXPECTED_TEXT... -- HELM_TEMPLATE_ARGS...
# The render must fail, and its error must contain every EXPECTED_TEXT.
expect_refused() {
  local desc="$1" expected=() arg
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    expected+=("$1")
    shift
  done
  shift
  case_number=$((case_number + 1))
  local name="refused-$case_number"
  if helm_template "$name" "$@"; then
    fail "refused: $desc" "helm template $* rendered it"
    return
  fi
  local err
  err="$(cat "$LUG_WORK/$name.err")"
  for arg in "${expected[@]}"; do
    if ! grep -qF -- "$arg" <<<"$err"; then
      fail "refused: $desc" "the error does not say '$arg':" "$err"
      return
    fi
  done
  pass "refused: $desc ($(grep -m 1 -F -- "${expected[0]}" <<<"$err" | sed 's/^[[:space:]]*//' | cut -c1-160))"
}

# expect_accepted DESCRIPTION HELM_TEMPLATE_ARGS...
expect_accepted() {
  local desc="$1"
  shift
  case_number=$((case_number + 1))
  if helm_template "accepted-$case_number" "$@"; then
    pass "accepted: $desc"
  else
    fail "accepted: $desc" "$(cat "$LUG_WORK/accepted-$case_number.err")"
  fi
}

# --- values.schema.json -------------------------------------------------------------------
expect_refused "no replicas" "/replicaCount" "minimum" -- --set replicaCount=0
expect_refused "a duration in words" "/guard/maxHold" "pattern" -- --set guard.maxHold="25 seconds"
expect_refused "a duration without a unit" "/guard/pollInterval" -- --set guard.pollInterval=500
expect_refused "an unknown read-error policy" "/guard/onReadError" "deny" "allow" -- --set guard.onReadError=ignore
expect_refused "a count that is not a number" "/guard/maxHeld" "integer" -- --set-string guard.maxHeld=lots
expect_refused "more held pods than the binary allows" "/guard/maxHeld" "maximum" -- --set guard.maxHeld=100001
expect_refused "a short digest" "/image/digest" -- --set image.digest=sha256:abc
expect_refused "a tag with a slash" "/image/tag" -- --set image.tag=v1/2
expect_refused "an unknown pull policy" "/image/pullPolicy" -- --set image.pullPolicy=Sometimes
expect_refused "a Longhorn namespace that is no Kubernetes name" "/longhorn/namespace" -- --set longhorn.namespace=Longhorn_System
expect_refused "an empty Job name" "/longhorn/uninstallJobName" -- --set longhorn.uninstallJobName=
expect_refused "an unknown longhorn.io version" "/longhorn/settingApiVersion" -- --set longhorn.settingApiVersion=v2
expect_refused "a misspelt top-level value (replicas)" "replicas" -- --set replicas=3
expect_refused "a misspelt nested value (guard.maxHolds)" "maxHolds" -- --set guard.maxHolds=20s
expect_refused "a CA bundle that is not PEM" "/existingSecret/caBundle" -- --set existingSecret.name=mine --set existingSecret.caBundle=not-a-certificate
expect_refused "a string where a boolean belongs" "/certManager/enabled" "boolean" -- --set-string certManager.enabled=yes

# --- relations the templates check ------------------------------------------------------------
expect_refused "the release in Longhorn's namespace" "namespace of its own" "longhorn-system" -- --namespace longhorn-system
expect_refused "the release in a custom Longhorn namespace" "namespace of its own" -- --namespace storage --set longhorn.namespace=storage
expect_refused "two certificate sources" "certManager.enabled and existingSecret.name are both set" -- \
  --set certManager.enabled=true --set existingSecret.name=mine --set-file existingSecret.caBundle=/dev/null
expect_refused "an existing Secret without its CA" "existingSecret.caBundle is empty" "mine" -- --set existingSecret.name=mine
expect_refused "a hold as long as the webhook's timeout" "guard.maxHold is 30s" "below 30s" -- --set guard.maxHold=30s
expect_refused "a hold longer than the webhook's timeout, in minutes" "guard.maxHold is 1m" -- --set guard.maxHold=1m
expect_refused "polling faster than 50ms" "guard.pollInterval is 10ms" "at least 50ms" -- --set guard.pollInterval=10ms

expect_refused "a pod label that would change the Deployment's selector" "podLabels sets app.kubernetes.io/name" -- --set podLabels.app\\.kubernetes\\.io/name=other

# --- just inside every limit -----------------------------------------------------------------
expect_accepted "one replica" --set replicaCount=1
expect_accepted "a hold of 29.9s" --set guard.maxHold=29.9s
expect_accepted "a hold written as 29s999ms" --set guard.maxHold=29s999ms
expect_accepted "polling every 50ms" --set guard.pollInterval=50ms
expect_accepted "100000 held pods" --set guard.maxHeld=100000
expect_accepted "one supervisor attempt, no wrapping" --set guard.supervisorAttempts=1 --set guard.wrapUninstall=false
expect_accepted "a digest" --set image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

finish
