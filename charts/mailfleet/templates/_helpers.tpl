{{/* The chart name, overridable. */}}
{{- define "mailfleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: the release name, plus the chart name unless it is already in it. */}}
{{- define "mailfleet.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mailfleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mailfleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "mailfleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mailfleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mailfleet
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- /* The `helm test` pod's labels: the release's, with its own component, so no selector of the
operator (Deployment, PodDisruptionBudget, metrics Service, spreading) ever counts it. */ -}}
{{- define "mailfleet.testLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "mailfleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: helm-test
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mailfleet
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mailfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mailfleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mailfleet.leaseName" -}}
{{- default (include "mailfleet.fullname" .) .Values.operator.leaderElection.leaseName }}
{{- end }}

{{/* An image reference from {repository, tag, digest}: the digest decides what runs (repository:tag@digest
keeps a tag for readers), the tag defaults to appVersion. */}}
{{- define "mailfleet.image" -}}
{{- $image := index . 0 }}
{{- $chart := index . 1 }}
{{- if and $image.digest $image.tag }}
{{- printf "%s:%s@%s" $image.repository $image.tag $image.digest }}
{{- else if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaced permissions of the operator, granted cluster-wide (ClusterRole) or per watched
namespace (Role). No wildcards; secrets are never deleted (generated DKIM keys go with their owner
through garbage collection); the operator never touches pods directly. Server-side apply is
create + patch; the SmtpRelay reconciler deletes only what a relay stops needing (a PDB at one
replica, a NetworkPolicy, Certificate, ServiceMonitor or PrometheusRule turned off) and reads the
optional kinds by name (their CRDs may be absent, so they are not watched).
*/}}
{{- define "mailfleet.namespacedRules" -}}
- apiGroups: ["mailfleet.dev"]
  resources: ["smtprelays", "senderdomains"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["mailfleet.dev"]
  resources: ["smtprelays/status", "senderdomains/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["mailfleet.dev"]
  resources: ["smtprelays/finalizers", "senderdomains/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# A deleted SmtpRelay waits for its pods' queues (read from each pod's /queuez); the PVCs found empty
# are deleted as queue.persistentVolumeClaimRetentionPolicy says (whenDeleted, whenScaled).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["list", "delete"]
# The queue PVC of a pod scaled away is drained by a Job running the relay on it.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["list", "create", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors", "prometheusrules"]
  verbs: ["get", "create", "patch", "delete"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "create", "patch", "delete"]
# The DNSEndpoint of a SenderDomain whose records are published through external-dns.
- apiGroups: ["externaldns.k8s.io"]
  resources: ["dnsendpoints"]
  verbs: ["get", "create", "patch", "delete"]
{{- end }}
