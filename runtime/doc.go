// Package runtime defines the container runtime interface the node agent
// drives: pod sandboxes, containers, exec, logs, stats and images.
package runtime
