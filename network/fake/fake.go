package fake

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/alloc"
	"github.com/coxswain-io/coxswain/store"
)

// Network is an in-memory pod network. The first address of the CIDR is the
// gateway; pods get the following ones.
type Network struct {
	cidr    netip.Prefix
	gateway netip.Addr

	// SetUpHook and TearDownHook, if set, run first in SetUp and TearDown;
	// a non-nil error is returned as the call's error and nothing changes.
	SetUpHook    func(sb network.Sandbox) error
	TearDownHook func(sb network.Sandbox) error

	mu        sync.Mutex
	ips       *alloc.IPAllocator
	sandboxes map[string]*entry
	hostPorts map[string]string // "proto/port" -> sandbox id
}

type entry struct {
	sb  network.Sandbox
	res network.Result
}

var _ network.PodNetwork = (*Network)(nil)

// New returns a fake network over podCIDR, e.g. "10.244.1.0/24".
func New(podCIDR string) (*Network, error) {
	ips, err := alloc.NewIPAllocator(podCIDR)
	if err != nil {
		return nil, err
	}
	gw, err := ips.Allocate() // the first address is the gateway
	if err != nil {
		return nil, err
	}
	return &Network{cidr: ips.CIDR(), gateway: gw, ips: ips, sandboxes: map[string]*entry{}, hostPorts: map[string]string{}}, nil
}

func portKey(m network.PortMapping) string {
	proto := m.Protocol
	if proto == "" {
		proto = "TCP"
	}
	return fmt.Sprintf("%s/%s/%d", m.HostIP, proto, m.HostPort)
}

// SetUp allocates the sandbox an address.
func (n *Network) SetUp(ctx context.Context, sb network.Sandbox) (*network.Result, error) {
	if sb.ID == "" || sb.NetNS == "" {
		return nil, store.Errorf(store.ErrInvalid, "fake network: sandbox needs an ID and a netns path")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n.SetUpHook != nil {
		if err := n.SetUpHook(sb); err != nil {
			return nil, err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if e, ok := n.sandboxes[sb.ID]; ok {
		r := e.res
		return &r, nil
	}
	for _, m := range sb.PortMappings {
		if owner, ok := n.hostPorts[portKey(m)]; ok {
			return nil, store.Errorf(store.ErrAlreadyExists, "host port %d is used by sandbox %s", m.HostPort, owner)
		}
	}
	ip, err := n.ips.Allocate()
	if err != nil {
		return nil, fmt.Errorf("fake network: %w: %w", network.ErrExhausted, err)
	}
	for _, m := range sb.PortMappings {
		n.hostPorts[portKey(m)] = sb.ID
	}
	e := &entry{sb: sb, res: network.Result{
		IPs:       []netip.Prefix{netip.PrefixFrom(ip, n.cidr.Bits())},
		Gateway:   n.gateway,
		Interface: "eth0",
	}}
	n.sandboxes[sb.ID] = e
	r := e.res
	return &r, nil
}

// TearDown frees the sandbox's address and host ports.
func (n *Network) TearDown(ctx context.Context, sb network.Sandbox) error {
	if n.TearDownHook != nil {
		if err := n.TearDownHook(sb); err != nil {
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.remove(sb.ID)
	return nil
}

func (n *Network) remove(id string) {
	e, ok := n.sandboxes[id]
	if !ok {
		return
	}
	n.ips.Release(e.res.IPs[0].Addr())
	for _, m := range e.sb.PortMappings {
		delete(n.hostPorts, portKey(m))
	}
	delete(n.sandboxes, id)
}

// Check returns the sandbox's result, or network.ErrNotFound.
func (n *Network) Check(ctx context.Context, sb network.Sandbox) (*network.Result, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.sandboxes[sb.ID]
	if !ok {
		return nil, fmt.Errorf("sandbox %s: %w", sb.ID, network.ErrNotFound)
	}
	r := e.res
	return &r, nil
}

// Reconcile tears down every sandbox not in live.
func (n *Network) Reconcile(ctx context.Context, live []network.Sandbox) error {
	keep := map[string]bool{}
	for _, sb := range live {
		keep[sb.ID] = true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for id := range n.sandboxes {
		if !keep[id] {
			n.remove(id)
		}
	}
	return nil
}

// Sandboxes returns the ids of the set-up sandboxes, sorted.
func (n *Network) Sandboxes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]string, 0, len(n.sandboxes))
	for id := range n.sandboxes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
