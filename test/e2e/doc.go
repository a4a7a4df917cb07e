// Package e2e holds full-stack end-to-end tests: real node agents
// (orchestrator/agent) on the libcontainer runtime, the real CNI plugins,
// host-gw routes, the iptables service proxy, cluster DNS and the volume
// plugins, all over one in-process memstore as the control plane.
//
// Every test builds its own "nodes" (network namespaces on a test bridge),
// state directories and cgroup roots, and checks at the end that the host's
// links, routes, iptables rules and mounts are as it found them. The tests
// need root (they skip with a message otherwise), the busybox-static binary
// at /bin/busybox and the CNI plugins (`make cni-plugins`, or
// COXSWAIN_CNI_BIN_DIR).
//
// The package has no non-test code besides this comment.
package e2e
