package network

import (
	"context"
	"errors"
	"net/netip"
)

// Sandbox is the network identity of a pod sandbox.
type Sandbox struct {
	// ID is the sandbox (container) id; unique on the node.
	ID string
	// NetNS is the path of the sandbox's network namespace.
	NetNS string
	// Namespace, Name and UID identify the pod.
	Namespace, Name, UID string
	// PortMappings are the pod's host ports.
	PortMappings []PortMapping
}

// PortMapping maps a port of the node to a port of the pod (hostPort).
type PortMapping struct {
	HostPort      int32
	ContainerPort int32
	// Protocol is TCP, UDP or SCTP; empty means TCP.
	Protocol string
	// HostIP limits the mapping to one node address; empty means all.
	HostIP string
}

// Result is a pod's network state after SetUp.
type Result struct {
	// IPs are the pod's addresses, the primary first.
	IPs []netip.Prefix
	// Gateway is the pod's default gateway, if any.
	Gateway netip.Addr
	// Interface is the pod-side interface name.
	Interface string
}

// PrimaryIP returns the pod's first address, or the zero Addr.
func (r *Result) PrimaryIP() netip.Addr {
	if r == nil || len(r.IPs) == 0 {
		return netip.Addr{}
	}
	return r.IPs[0].Addr()
}

// PodNetwork sets up and tears down pod networking on one node.
//
// Implementations are safe for concurrent use for different sandboxes;
// calls for the same sandbox are serialized by the caller (the agent).
type PodNetwork interface {
	// SetUp attaches the sandbox's network namespace to the pod network and
	// returns its addresses. Calling it again for a set-up sandbox returns
	// the existing result.
	SetUp(ctx context.Context, sb Sandbox) (*Result, error)
	// TearDown detaches the sandbox and frees its addresses, veths and
	// rules. It succeeds for an unknown sandbox and after the namespace is
	// gone.
	TearDown(ctx context.Context, sb Sandbox) error
	// Check verifies that the sandbox's network is as SetUp left it and
	// returns its result; ErrNotFound if it was never set up.
	Check(ctx context.Context, sb Sandbox) (*Result, error)
	// Reconcile frees everything held for sandboxes not in live (after an
	// agent crash): addresses, interfaces, rules and cached state.
	Reconcile(ctx context.Context, live []Sandbox) error
}

// RouteManager keeps this node's routes to other nodes' pod networks. The
// host-gw implementation is network/routes; an overlay or SDN plugs in here.
type RouteManager interface {
	// Start keeps routes in sync until ctx ends.
	Start(ctx context.Context) error
}

// Error classes of the pod network.
var (
	// ErrNotFound: the sandbox has no network set up.
	ErrNotFound = errors.New("sandbox network not found")
	// ErrExhausted: no address is left in the pod range.
	ErrExhausted = errors.New("pod address range exhausted")
)
