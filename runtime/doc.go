// Package runtime defines the container runtime interface the node agent
// drives: pod sandboxes, containers, exec, logs, stats and images.
//
// The interface follows the spirit of the Kubernetes CRI, kept small and
// split by facet:
//
//   - [SandboxManager]: a pod sandbox holds the namespaces the pod's
//     containers share (network, IPC, UTS) and the pod's cgroup parent.
//   - [ContainerManager]: create, start, stop with a grace period (SIGTERM,
//     then SIGKILL), remove, status and list of containers.
//   - [Streamer]: exec with stdin/stdout/stderr and an exit code, and logs
//     with follow.
//   - [StatsProvider]: CPU and memory usage read from cgroups.
//   - [ImageService]: pull, inspect, list and remove images.
//
// [Runtime] embeds all five. Implementations: runtime/libcontainer (real
// containers on runc's libcontainer) and runtime/fake (in memory,
// scriptable). Both pass the conformance suite in runtime/runtimetest.
//
// Helpers turn Kubernetes container fields into runtime terms:
// [ResolveCommand] (command and args against the image's entrypoint and
// cmd), [MergeEnv], and [ResourcesFor] (requests and limits into CPU shares,
// CFS quota and memory limit, as the kubelet computes them).
//
// Everything a runtime creates carries the labels its caller gave, so a node
// agent that restarts finds what it owns with [ContainerFilter] and
// [SandboxFilter] and adopts or removes it.
//
// Errors are wrapped with %w around the classes in errors.go ([ErrNotFound],
// [ErrAlreadyExists], [ErrInvalid], [ErrFailedPrecondition],
// [ErrUnsupported]); test them with errors.Is.
//
// All methods of a Runtime are safe for concurrent use.
package runtime
