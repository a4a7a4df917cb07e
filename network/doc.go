// Package network defines the pod network interface the node agent calls,
// and helpers for network namespaces.
//
// PodNetwork is what an agent needs: SetUp a sandbox's network in its network
// namespace (returning the pod IPs), TearDown, Check, and Reconcile after a
// crash. Implementations: network/cni (the containernetworking plugins) and
// network/fake (in memory). Routes between nodes are kept by a RouteManager
// (network/routes implements host-gw routing), so an embedder can plug an
// overlay or SDN instead.
//
// Subpackages: cni (the default PodNetwork), fake (in memory), networktest
// (their conformance suite), alloc (pod CIDR, cluster IP and node port
// allocators), routes (host-gw routes), proxy (service VIPs through
// iptables), dns (cluster DNS). README.md draws how they fit together.
//
// NewNetNS creates a network namespace without `ip netns add`: it unshares
// on a locked OS thread and bind-mounts the thread's namespace file at a path
// the caller chooses; DeleteNetNS unmounts and removes it.
package network
