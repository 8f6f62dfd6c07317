{{/*
Names, labels and the few computed values every template shares. Facts that must agree
across objects (the Longhorn namespace, the Job name, the setting, the Secret's name, the
ports) are defined once here and used by name.
*/}}

{{- define "lug.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of the guard's Service, Deployment, webhook configurations and most other objects:
the release name when it already says longhorn-uninstall-guard, else release-chart.
63 characters: the Service's name is a DNS label.
*/}}
{{- define "lug.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The certgen Job's name; a Job's name is a pod label value, 63 characters at most. */}}
{{- define "lug.certgenName" -}}
{{- printf "%s-certgen" (include "lug.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* The Role (and RoleBinding) in Longhorn's namespace that reads the one setting. */}}
{{- define "lug.settingReaderName" -}}
{{- printf "%s-setting-reader" (include "lug.fullname" .) -}}
{{- end -}}

{{/* The Secret with tls.crt and tls.key that the guard serves with. */}}
{{- define "lug.tlsSecretName" -}}
{{- if .Values.existingSecret.name -}}
{{- .Values.existingSecret.name -}}
{{- else -}}
{{- printf "%s-tls" (include "lug.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The Longhorn setting that confirms the uninstall. Longhorn's own name: not a value. */}}
{{- define "lug.setting" -}}deleting-confirmation-flag{{- end -}}

{{/*
Container ports. The webhook port serves only /validate and /mutate over TLS; probes and
metrics have ports of their own (plain HTTP; metrics over TLS with metrics.tls).
*/}}
{{- define "lug.port.https" -}}8443{{- end -}}
{{- define "lug.port.probes" -}}8081{{- end -}}
{{- define "lug.port.metrics" -}}8080{{- end -}}

{{/* Where the Secret is mounted; --tls-cert and --tls-key name its files. */}}
{{- define "lug.certDir" -}}/certs{{- end -}}

{{/*
The DNS names of the Service: the API server dials NAME.NAMESPACE.svc; the other forms are
for anyone testing from inside the cluster. The serving certificate must name them all.
*/}}
{{- define "lug.serviceDnsNames" -}}
{{- $name := include "lug.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns) (printf "%s.%s.svc.cluster.local" $name $ns) | toJson -}}
{{- end -}}

{{- define "lug.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lug.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object; the caller adds app.kubernetes.io/component. */}}
{{- define "lug.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lug.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* REPOSITORY[:TAG][@DIGEST] of a dict with repository, tag, digest. */}}
{{- define "lug.imageRef" -}}
{{- $ref := .repository -}}
{{- if .tag -}}{{- $ref = printf "%s:%s" $ref .tag -}}{{- end -}}
{{- if .digest -}}{{- $ref = printf "%s@%s" $ref .digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* The guard's image: the tag defaults to v<appVersion>, the binary's own version. */}}
{{- define "lug.image" -}}
{{- $image := .Values.image -}}
{{- include "lug.imageRef" (dict "repository" $image.repository "tag" (default (printf "v%s" .Chart.AppVersion) $image.tag) "digest" $image.digest) -}}
{{- end -}}

{{/* The injected init container's image: each field falls back to the guard's image. */}}
{{- define "lug.initImage" -}}
{{- $image := .Values.image -}}
{{- $init := .Values.initImage -}}
{{- include "lug.imageRef" (dict "repository" (default $image.repository $init.repository) "tag" (default (default (printf "v%s" .Chart.AppVersion) $image.tag) $init.tag) "digest" (default $image.digest $init.digest)) -}}
{{- end -}}

{{/*
Seconds in a duration written as Go and Kubernetes write them (500ms, 25s, 1m30s), as a
float; values.schema.json has already checked the spelling.
*/}}
{{- define "lug.seconds" -}}
{{- $scale := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" . -1 -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . | float64 -}}
{{- $unit := regexReplaceAll "^[0-9]+(\\.[0-9]+)?" . "" -}}
{{- $total = addf $total (mulf $number (get $scale $unit)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/*
Which certificate source this install uses: certgen (default), certManager or existingSecret.
Refuses two at once, and an existing Secret without its CA.
*/}}
{{- define "lug.certificateSource" -}}
{{- if and .Values.certManager.enabled .Values.existingSecret.name -}}
{{- fail "certManager.enabled and existingSecret.name are both set: choose one source for the serving certificate (cert-manager issues it, or you bring the Secret), or neither for the default certgen Job" -}}
{{- else if .Values.certManager.enabled -}}
certManager
{{- else if .Values.existingSecret.name -}}
{{- if not .Values.existingSecret.caBundle -}}
{{- fail (printf "existingSecret.name is %q but existingSecret.caBundle is empty: the webhooks must trust the CA that signed the Secret's tls.crt (--set-file existingSecret.caBundle=ca.crt)" .Values.existingSecret.name) -}}
{{- end -}}
existingSecret
{{- else -}}
certgen
{{- end -}}
{{- end -}}

{{/*
The checks values.schema.json cannot express: relations between values, and durations
compared by length. Rendered (as nothing) by the Deployment, so every install runs them.
*/}}
{{- define "lug.validate" -}}
{{- if eq .Release.Namespace .Values.longhorn.namespace -}}
{{- fail (printf "the release namespace is Longhorn's (%s): install the guard into a namespace of its own (--namespace longhorn-uninstall-guard --create-namespace), because uninstalling Longhorn deletes %s and the guard must outlive the uninstall it guards" .Release.Namespace .Release.Namespace) -}}
{{- end -}}
{{- if lt (include "lug.seconds" .Values.guard.pollInterval | float64) 0.05 -}}
{{- fail (printf "guard.pollInterval is %s: it must be at least 50ms (reading more often adds API load without admitting anyone sooner)" .Values.guard.pollInterval) -}}
{{- end -}}
{{- if ge (include "lug.seconds" .Values.guard.maxHold | float64) 30.0 -}}
{{- fail (printf "guard.maxHold is %s: it must be below 30s, the validating webhook's timeoutSeconds and the most the API server waits for a webhook, so the guard's answer arrives in time" .Values.guard.maxHold) -}}
{{- end -}}
{{- range $key, $value := .Values.podLabels -}}
{{- if or (hasPrefix "app.kubernetes.io/" $key) (eq $key "helm.sh/chart") -}}
{{- fail (printf "podLabels sets %s: the chart's own app.kubernetes.io/* and helm.sh/chart labels select the guard's pods (Deployment, Service, PodDisruptionBudget) and cannot be changed; use another label name" $key) -}}
{{- end -}}
{{- end -}}
{{- $source := include "lug.certificateSource" . -}}
{{- end -}}
