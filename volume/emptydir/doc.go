// Package emptydir is the emptyDir volume plugin: scratch space that lives as
// long as the pod, shared by its containers. With medium "" it is a directory
// on the node's disk; with medium "Memory" it is a tmpfs mounted at the
// volume directory, sized by sizeLimit when set (the kernel enforces it:
// writes past it fail with ENOSPC). On disk, sizeLimit is not enforced (that
// would need eviction by the agent, as Kubernetes does). Tear-down unmounts
// and removes it.
package emptydir
