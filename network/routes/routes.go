package routes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/internal/kindwatch"
	"github.com/coxswain-io/coxswain/store"
)

// DefaultProtocol is the routing protocol number marking the routes this
// package owns (an unassigned number in /etc/iproute2/rt_protos).
const DefaultProtocol = 189

// Route is one desired route: a pod CIDR via a node address.
type Route struct {
	Dst  netip.Prefix
	Via  netip.Addr
	Node string
}

// DesiredRoutes returns the routes node self needs: every other node's pod
// CIDRs via its InternalIP, sorted by destination. Nodes without a pod CIDR
// or an InternalIP of the pod CIDR's family are skipped.
func DesiredRoutes(nodes []*api.Node, self string) []Route {
	var out []Route
	for _, n := range nodes {
		name := n.GetMetadata().GetName()
		if name == self {
			continue
		}
		cidrs := n.GetSpec().GetPodCidrs()
		if len(cidrs) == 0 && n.GetSpec().GetPodCidr() != "" {
			cidrs = []string{n.GetSpec().GetPodCidr()}
		}
		for _, c := range cidrs {
			dst, err := netip.ParsePrefix(c)
			if err != nil {
				continue
			}
			if via, ok := internalIP(n, dst.Addr().Is4()); ok {
				out = append(out, Route{Dst: dst.Masked(), Via: via, Node: name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dst.String() < out[j].Dst.String() })
	return out
}

func internalIP(n *api.Node, v4 bool) (netip.Addr, bool) {
	for _, a := range n.GetStatus().GetAddresses() {
		if a.GetType() != "InternalIP" {
			continue
		}
		ip, err := netip.ParseAddr(a.GetAddress())
		if err == nil && ip.Is4() == v4 {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// Config configures a HostGW.
type Config struct {
	// Store is watched for Nodes.
	Store store.Store
	// NodeName is this node.
	NodeName string
	// NetNS is the node's network namespace ("" = the process's own).
	NetNS string
	// Protocol marks owned routes; 0 means DefaultProtocol.
	Protocol int
	// ResyncInterval re-applies routes to repair drift; 0 means 30 s.
	ResyncInterval time.Duration
	// CleanupOnExit removes the owned routes when Start returns.
	CleanupOnExit bool
}

// HostGW is the host-gw RouteManager.
type HostGW struct {
	cfg Config

	mu     sync.Mutex // guards nodes and listed
	nodes  map[string]*api.Node
	listed bool
	kick   chan struct{}
}

var _ network.RouteManager = (*HostGW)(nil)

// New returns a HostGW.
func New(cfg Config) (*HostGW, error) {
	if cfg.Store == nil || cfg.NodeName == "" {
		return nil, store.Errorf(store.ErrInvalid, "routes: Store and NodeName are required")
	}
	if cfg.Protocol == 0 {
		cfg.Protocol = DefaultProtocol
	}
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = 30 * time.Second
	}
	return &HostGW{cfg: cfg, nodes: map[string]*api.Node{}, kick: make(chan struct{}, 1)}, nil
}

// Start watches Nodes and keeps the routes until ctx ends.
func (h *HostGW) Start(ctx context.Context) error {
	handle, err := h.handle()
	if err != nil {
		return err
	}
	defer handle.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = kindwatch.Run(wctx, h.cfg.Store, api.KindNode, store.ListOptions{}, (*handler)(h))
	}()
	tick := time.NewTicker(h.cfg.ResyncInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-done
			if h.cfg.CleanupOnExit {
				return h.apply(handle, nil)
			}
			return nil
		case <-h.kick:
		case <-tick.C:
		}
		h.mu.Lock()
		if !h.listed {
			h.mu.Unlock()
			continue
		}
		nodes := make([]*api.Node, 0, len(h.nodes))
		for _, n := range h.nodes {
			nodes = append(nodes, n)
		}
		h.mu.Unlock()
		if err := h.apply(handle, DesiredRoutes(nodes, h.cfg.NodeName)); err != nil {
			slog.ErrorContext(ctx, "host-gw routes", "node", h.cfg.NodeName, "err", err)
		}
	}
}

// Sync applies the routes for nodes once (what Start does on every change).
func (h *HostGW) Sync(nodes []*api.Node) error {
	handle, err := h.handle()
	if err != nil {
		return err
	}
	defer handle.Close()
	return h.apply(handle, DesiredRoutes(nodes, h.cfg.NodeName))
}

func (h *HostGW) handle() (*netlink.Handle, error) {
	if h.cfg.NetNS == "" {
		return netlink.NewHandle()
	}
	nsh, err := netns.GetFromPath(h.cfg.NetNS)
	if err != nil {
		return nil, fmt.Errorf("routes: netns %s: %w", h.cfg.NetNS, err)
	}
	defer nsh.Close()
	return netlink.NewHandleAt(nsh)
}

// apply makes the owned routes equal want.
func (h *HostGW) apply(handle *netlink.Handle, want []Route) error {
	var errs []error
	have := map[string]netlink.Route{}
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := handle.RouteListFiltered(family, &netlink.Route{Protocol: netlink.RouteProtocol(h.cfg.Protocol), Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if err != nil {
			return fmt.Errorf("list routes: %w", err)
		}
		for _, r := range routes {
			if r.Dst != nil {
				have[r.Dst.String()] = r
			}
		}
	}
	wantSet := map[string]bool{}
	for _, w := range want {
		key := w.Dst.String()
		wantSet[key] = true
		if r, ok := have[key]; ok && r.Gw != nil && r.Gw.Equal(net.IP(w.Via.AsSlice())) {
			continue
		}
		route := &netlink.Route{
			Dst:      &net.IPNet{IP: w.Dst.Addr().AsSlice(), Mask: net.CIDRMask(w.Dst.Bits(), w.Dst.Addr().BitLen())},
			Gw:       w.Via.AsSlice(),
			Protocol: netlink.RouteProtocol(h.cfg.Protocol),
			Table:    unix.RT_TABLE_MAIN,
		}
		if err := handle.RouteReplace(route); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s (node %s): %w", w.Dst, w.Via, w.Node, err))
		}
	}
	for key, r := range have {
		if !wantSet[key] {
			if err := handle.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("delete route %s: %w", key, err))
			}
		}
	}
	return errors.Join(errs...)
}

type handler HostGW

// Replace implements kindwatch.Handler.
func (h *handler) Replace(objs []api.Object, _ int64) {
	g := (*HostGW)(h)
	g.mu.Lock()
	g.nodes = map[string]*api.Node{}
	for _, o := range objs {
		if n, ok := o.(*api.Node); ok {
			g.nodes[n.GetMetadata().GetName()] = n
		}
	}
	g.listed = true
	g.mu.Unlock()
	g.poke()
}

// Apply implements kindwatch.Handler.
func (h *handler) Apply(ev store.Event) {
	g := (*HostGW)(h)
	n, ok := ev.Object.(*api.Node)
	if !ok {
		return
	}
	g.mu.Lock()
	if ev.Type == store.EventDeleted {
		delete(g.nodes, n.GetMetadata().GetName())
	} else {
		g.nodes[n.GetMetadata().GetName()] = n
	}
	g.mu.Unlock()
	g.poke()
}

func (g *HostGW) poke() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}
