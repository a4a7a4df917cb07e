// Command coxd runs Coxswain: a control-plane member, a node agent, or both.
//
//	coxd server [flags]   raftstore member + remote API + controllers + scheduler
//	coxd node   [flags]   node agent (libcontainer, CNI, service proxy, routes)
//	coxd all    [flags]   both in one process, for a single machine
//
// # server
//
// A member keeps its state in a raftstore under -data-dir (one member by
// default; -raft-addr, -bootstrap and -peers form a cluster; a member
// started with -join asks a running cluster's API to add it). Writes
// from the API pass the admission chain (defaulting, limits, validation,
// quota). The controllers (ReplicaSet, ReplicationController, Deployment,
// garbage collector), the scheduler and the network allocator (pod CIDRs
// for nodes, cluster IPs and node ports for Services) run under a manager
// that elects one leader among the members through a Lease, so any number
// of members can run and exactly one acts.
//
// # node
//
// A node runs the agent against the API servers named by -server (a comma
// separated list the client fails over across), with the libcontainer
// runtime, CNI pod networking on a bridge, the iptables service proxy and
// host-gw routes to the other nodes' pod CIDRs. Its pod CIDR is -pod-cidr, or
// the one the control plane assigns to its Node. On SIGTERM the agent stops
// and leaves the pods' containers running: a restarted coxd node adopts them
// (see orchestrator/agent). -cleanup-on-exit also removes the proxy's rules
// and the node's routes. -node-api-addr serves the pods' logs and exec to
// coxctl; -dns-addr runs cluster DNS for the pods.
//
// # all
//
// The server and the node in one process, sharing the in-process store.
//
// # Configuration
//
// Every flag can also come from a file named by -config: a YAML (or JSON)
// map of flag names to values, e.g.
//
//	data-dir: /var/lib/coxd
//	api-addr: 127.0.0.1:6443
//	token-file: /etc/coxd/tokens
//
// Flags on the command line win over the file. Logs are structured (slog,
// -log-format text|json). /healthz, /readyz and /metrics are served on
// -health-addr, and net/http/pprof on -pprof-addr when set.
//
// coxd starts containers, so it calls libcontainer.Init first, in an init
// function of this package (the runtime re-executes the binary as each
// container's init). Everything else is package daemon, which a program
// calls to run coxd with kinds of its own (see examples/customcontroller/coxd).
package main
