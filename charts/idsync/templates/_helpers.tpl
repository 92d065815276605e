{{/* The release's full name, used for every object the chart creates. */}}
{{- define "idsync.fullname" -}}
{{- if eq .Release.Name .Chart.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "idsync.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "idsync.labels" -}}
{{ include "idsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "idsync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "idsync.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The rules for where the operator watches; mirrors WATCH_RULES in src/operator/rbac-needs.ts. */}}
{{- define "idsync.watchRules" }}
  # informers (list, watch); get: re-reading an object after a 409 on a status write
  - apiGroups: ["idsync.dev"]
    resources: ["managementagents", "syncrules", "retentionpolicies"]
    verbs: ["get", "list", "watch"]
  # the finalizer idsync.dev/cleanup
  - apiGroups: ["idsync.dev"]
    resources: ["managementagents"]
    verbs: ["patch"]
  # status, through the status subresource
  - apiGroups: ["idsync.dev"]
    resources: ["managementagents/status", "syncrules/status", "retentionpolicies/status"]
    verbs: ["patch"]
  # connector credentials named by passwordSecretRef / connectionSecretRef
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["list", "watch"]
  # Events about runs, errors and blocked deletes (repeats patch the count)
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
{{- end }}
