// Package configmap is the configMap volume plugin: a ConfigMap's keys
// projected as files (all of them, or the listed items at their paths) with
// defaultMode and per-item modes. The files are written through the atomic
// writer, so Update (called by the agent when the ConfigMap changes) swaps
// the whole set at once and a running container sees the new content
// without a restart. A missing ConfigMap fails set-up with store.ErrNotFound
// unless the volume is optional (then the volume is empty until it appears).
package configmap
