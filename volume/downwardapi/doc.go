// Package downwardapi exposes a pod's own fields to its containers, as files
// (the downwardAPI volume plugin) and as environment values (FieldValue and
// ResourceValue, which volume/envvars uses for fieldRef and
// resourceFieldRef).
//
// Fields (fieldRef.fieldPath):
//
//	metadata.name, metadata.namespace, metadata.uid
//	metadata.labels, metadata.annotations        all, one key="value" per line
//	metadata.labels['k'], metadata.annotations['k']
//	spec.nodeName, spec.serviceAccountName
//	status.podIP, status.hostIP, status.podIPs
//
// Resources (resourceFieldRef.resource), of one container, divided by the
// divisor (default 1) and rounded up:
//
//	limits.cpu, limits.memory, limits.ephemeral-storage
//	requests.cpu, requests.memory, requests.ephemeral-storage
//
// An unset limit falls back to the node's allocatable amount when the caller
// supplies it; an unset request falls back to the limit, else 0.
//
// The volume's files are written with the atomic writer; Update rewrites
// them when the pod's labels or annotations change.
package downwardapi
