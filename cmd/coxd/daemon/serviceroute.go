package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/coxswain-io/coxswain/network"
)

// serviceRoute keeps a route to the service range through the pod bridge
// in the node's network namespace, so that the node itself reaches cluster
// IPs (the proxy's DNAT happens after routing, which needs some route) on a
// node with no default route. A node with a route that already covers the
// range is left alone.
type serviceRoute struct {
	cidr   string
	bridge string
	netns  string
	log    *slog.Logger
}

// serviceRouteInterval is how often the route is checked.
const serviceRouteInterval = 2 * time.Second

// Start keeps the route until ctx ends.
func (s *serviceRoute) Start(ctx context.Context) error {
	_, dst, err := net.ParseCIDR(s.cidr)
	if err != nil {
		return fmt.Errorf("service route: %w", err)
	}
	t := time.NewTicker(serviceRouteInterval)
	defer t.Stop()
	logged := false
	for {
		err := s.ensure(dst)
		switch {
		case err == nil && !logged:
			s.log.Info("route to the service range in place", "cidr", s.cidr, "bridge", s.bridge)
			logged = true
		case err != nil && !errors.Is(err, errNoBridge):
			s.log.Warn("service route", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

var errNoBridge = errors.New("pod bridge not created yet")

// ensure adds the route when the bridge exists and nothing routes the range.
func (s *serviceRoute) ensure(dst *net.IPNet) error {
	do := func(fn func() error) error { return fn() }
	if s.netns != "" {
		do = func(fn func() error) error { return network.Do(s.netns, fn) }
	}
	return do(func() error {
		routes, err := netlink.RouteGet(dst.IP)
		if err == nil && len(routes) > 0 {
			return nil
		}
		link, err := netlink.LinkByName(s.bridge)
		if err != nil {
			return errNoBridge
		}
		return netlink.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK})
	})
}
