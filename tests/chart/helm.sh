# shellcheck shell=bash
# The helm binary and the rendering helpers the chart tests share. Sourced after
# ../integration/lib.sh (setup_test), never run.
#
#   find_helm                       sets HELM (building it once, helm/build.sh); 1 if it cannot
#   helm_template NAME [ARGS...]    renders the chart as release longhorn-uninstall-guard in the
#                                   namespace longhorn-uninstall-guard, into $LUG_WORK/NAME.yaml
#                                   (stderr in NAME.err); ARGS go to `helm template`
#
# Release name and namespace are the kustomize install's, so that the chart's objects carry
# the same names and can be compared field by field.

CHART="$LUG_ROOT/charts/longhorn-uninstall-guard"
RELEASE=longhorn-uninstall-guard
RELEASE_NS=longhorn-uninstall-guard
# helm template needs no cluster; a minute is a machine far too busy to trust the result.
HELM_TIMEOUT=60

find_helm() {
  local out
  if ! out="$(bash "$LUG_ROOT/tests/chart/helm/build.sh" 2>&1)"; then
    HELM_ERROR="$out"
    return 1
  fi
  HELM="$(tail -n 1 <<<"$out")"
  # HOME-independent: helm must not read or write a developer's repositories or plugins.
  export HELM_CACHE_HOME="$LUG_WORK/helm/cache" HELM_CONFIG_HOME="$LUG_WORK/helm/config" \
    HELM_DATA_HOME="$LUG_WORK/helm/data"
  echo "# helm: $HELM ($("$HELM" version --short 2>&1))"
}

helm_template() {
  local name="$1"
  shift
  timeout "$HELM_TIMEOUT" "$HELM" template "$RELEASE" "$CHART" --namespace "$RELEASE_NS" "$@" \
    >"$LUG_WORK/$name.yaml" 2>"$LUG_WORK/$name.err"
}
