// Package cni implements network.PodNetwork with libcni and the reference
// containernetworking plugins: loopback, bridge (isGateway, hairpinMode) with
// host-local IPAM, and portmap for hostPorts.
//
// # Plugin binaries
//
// The plugins are built from github.com/containernetworking/plugins at the
// version pinned in Coxswain's go.mod by hack/build-cni-plugins.sh (`make
// setup` runs it into .tools/cni/bin and exports COXSWAIN_CNI_BIN_DIR). An
// embedder sets Config.PluginDirs, or the environment variable
// COXSWAIN_CNI_BIN_DIR; with neither, the plugins are looked up in
// /opt/cni/bin, where distribution packages and most installers put them.
// Any plugin version that speaks CNI spec 1.1.0 works.
//
// # Configuration
//
// By default the network is generated from the node's pod CIDR
// (Config.PodCIDR): a bridge (Config.Bridge, default "cx0") that is the
// pods' gateway, host-local IPAM over the pod CIDR with its data under
// Config.StateDir, and portmap. An embedder can supply its own conflist
// instead (Config.ConfList); a loopback network is always attached first.
//
// # Node namespace
//
// Every plugin runs inside the node's network namespace (Config.NodeNetNS,
// "" for the process's own), so tests can make a "node" out of a network
// namespace: its bridge, iptables rules and addresses stay in it. libcni's
// cache and host-local's allocations live under Config.StateDir, never in
// /var/lib/cni, so nodes never share state.
//
// # Cleanup
//
// TearDown runs CNI DEL (which frees the address, the veth and the portmap
// rules, also after the pod namespace is gone). Reconcile, given the live
// sandboxes, runs DEL for every cached attachment not among them and CNI GC,
// which also frees addresses whose cache entry was lost.
package cni
