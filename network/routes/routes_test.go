package routes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func node(name, podCIDR, ip string) *api.Node {
	n := &api.Node{Metadata: &api.ObjectMeta{Name: name}, Spec: &api.NodeSpec{PodCidr: podCIDR}, Status: &api.NodeStatus{}}
	if ip != "" {
		n.Status.Addresses = []*api.NodeAddress{{Type: "Hostname", Address: name}, {Type: "InternalIP", Address: ip}}
	}
	return n
}

func TestDesiredRoutes(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*api.Node
		want  []string
	}{
		{"others only", []*api.Node{node("a", "10.244.0.0/24", "192.168.1.1"), node("b", "10.244.1.0/24", "192.168.1.2")}, []string{"10.244.1.0/24 via 192.168.1.2"}},
		{"no pod CIDR yet", []*api.Node{node("b", "", "192.168.1.2")}, nil},
		{"no InternalIP", []*api.Node{node("b", "10.244.1.0/24", "")}, nil},
		{"family must match", []*api.Node{node("b", "fd00:1::/64", "192.168.1.2")}, nil},
		{"sorted", []*api.Node{node("c", "10.244.2.0/24", "192.168.1.3"), node("b", "10.244.1.0/24", "192.168.1.2")},
			[]string{"10.244.1.0/24 via 192.168.1.2", "10.244.2.0/24 via 192.168.1.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range DesiredRoutes(tc.nodes, "a") {
				got = append(got, r.Dst.String()+" via "+r.Via.String())
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHostGWFollowsNodes(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	ns := nettest.NetNS(t, "a")
	nettest.MustRun(t, ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	nettest.MustRun(t, ns, "ip", "link", "set", "peer0", "up")
	nettest.MustRun(t, ns, "ip", "addr", "add", "192.168.77.1/24", "dev", "eth0")
	nettest.MustRun(t, ns, "ip", "link", "set", "eth0", "up")
	nettest.MustRun(t, ns, "ip", "route", "add", "10.99.0.0/16", "via", "192.168.77.254") // not ours

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := memstore.New()
	for _, n := range []*api.Node{
		node("a", "10.244.0.0/24", "192.168.77.1"),
		node("b", "10.244.1.0/24", "192.168.77.2"),
		node("c", "10.244.2.0/24", "192.168.77.3"),
	} {
		if _, err := st.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(Config{Store: st, NodeName: "a", NetNS: ns, CleanupOnExit: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Start(ctx) }()

	routes := func() string {
		return nettest.MustRun(t, ns, "ip", "route", "show", "proto", fmt.Sprint(DefaultProtocol))
	}
	want := func(lines ...string) {
		t.Helper()
		nettest.Eventually(t, 10*time.Second, func() error {
			got := routes()
			for _, l := range lines {
				if !strings.Contains(got, l) {
					return fmt.Errorf("missing %q in:\n%s", l, got)
				}
			}
			if n := strings.Count(strings.TrimSpace(got), "\n") + 1; got != "" && n != len(lines) {
				return fmt.Errorf("want %d routes, have:\n%s", len(lines), got)
			}
			return nil
		})
	}
	want("10.244.1.0/24 via 192.168.77.2", "10.244.2.0/24 via 192.168.77.3")

	nodes := store.For[*api.Node](st)
	if _, err := nodes.MutateStatus(ctx, "", "b", func(n *api.Node) error {
		n.Status.Addresses[1].Address = "192.168.77.20"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Delete(ctx, "", "c", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want("10.244.1.0/24 via 192.168.77.20")

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := routes(); got != "" {
		t.Errorf("routes left after cleanup:\n%s", got)
	}
	if got := nettest.MustRun(t, ns, "ip", "route", "show", "10.99.0.0/16"); !strings.Contains(got, "via 192.168.77.254") {
		t.Errorf("foreign route touched: %q", got)
	}
}
