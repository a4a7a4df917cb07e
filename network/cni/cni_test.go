package cni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/network/networktest"
)

func newNode(t *testing.T, podCIDR string) (*Network, string, string) {
	t.Helper()
	node := nettest.NetNS(t, "node")
	state := filepath.Join(t.TempDir(), "cni")
	n, err := New(Config{PluginDirs: []string{nettest.CNIPluginDir(t)}, NodeNetNS: node, StateDir: state, PodCIDR: podCIDR})
	if err != nil {
		t.Fatal(err)
	}
	return n, node, state
}

func allocations(t *testing.T, state string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir(filepath.Join(state, "ipam", "coxswain"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Count(e.Name(), ".") == 3 { // an address file
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSetUpTearDown(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	n, node, state := newNode(t, "10.250.1.0/24")
	ctx := context.Background()
	pod := nettest.NetNS(t, "pod")
	sb := network.Sandbox{ID: "sb1", NetNS: pod, Namespace: "default", Name: "p1", UID: "u1",
		PortMappings: []network.PortMapping{{HostPort: 8080, ContainerPort: 80}}}

	res, err := n.SetUp(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	ip := res.PrimaryIP()
	if !strings.HasPrefix(ip.String(), "10.250.1.") || res.Gateway.String() != "10.250.1.1" {
		t.Fatalf("result %+v", res)
	}
	again, err := n.SetUp(ctx, sb)
	if err != nil || again.PrimaryIP() != ip {
		t.Fatalf("second SetUp = %+v, %v; want the same address", again, err)
	}
	// The same sandbox id in a new namespace (a recreated sandbox) gets a
	// fresh attachment; the stale one is gone.
	pod2 := nettest.NetNS(t, "pod2")
	sb2 := sb
	sb2.NetNS = pod2
	if _, err := n.SetUp(ctx, sb2); err != nil {
		t.Fatal(err)
	}
	if got := allocations(t, state); len(got) != 1 {
		t.Fatalf("allocations after re-setup in a new namespace: %v", got)
	}
	if out := nettest.MustRun(t, pod, "ip", "-o", "link", "show"); strings.Contains(out, "eth0") {
		t.Fatalf("old namespace still attached: %s", out)
	}
	if err := n.TearDown(ctx, sb2); err != nil {
		t.Fatal(err)
	}
	res, err = n.SetUp(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	ip = res.PrimaryIP()

	// The pod has its address, loopback is up, and the node reaches it.
	if out := nettest.MustRun(t, pod, "ip", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, ip.String()+"/24") {
		t.Fatalf("pod eth0: %s", out)
	}
	nettest.MustRun(t, pod, "busybox", "ping", "-c1", "-W2", "127.0.0.1")
	nettest.MustRun(t, node, "busybox", "ping", "-c1", "-W2", ip.String())
	if out := nettest.MustRun(t, node, "iptables-save", "-t", "nat"); !strings.Contains(out, "--dport 8080") {
		t.Fatalf("no hostPort rule:\n%s", out)
	}
	if _, err := n.Check(ctx, sb); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got := allocations(t, state); len(got) != 1 || got[0] != ip.String() {
		t.Fatalf("allocations %v", got)
	}

	if err := n.TearDown(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if got := allocations(t, state); len(got) != 0 {
		t.Errorf("allocations left: %v", got)
	}
	if out := nettest.MustRun(t, node, "ip", "-o", "link", "show", "type", "veth"); out != "" {
		t.Errorf("veths left: %s", out)
	}
	if out := nettest.MustRun(t, node, "iptables-save", "-t", "nat"); strings.Contains(out, "--dport 8080") {
		t.Errorf("hostPort rule left:\n%s", out)
	}
	if _, err := n.Check(ctx, sb); !errors.Is(err, network.ErrNotFound) {
		t.Errorf("Check after TearDown = %v, want ErrNotFound", err)
	}
	if err := n.TearDown(ctx, sb); err != nil {
		t.Errorf("second TearDown: %v", err)
	}
}

func TestReconcileAfterCrash(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	n, node, state := newNode(t, "10.250.2.0/24")
	ctx := context.Background()
	keep := network.Sandbox{ID: "keep", NetNS: nettest.NetNS(t, "keep")}
	lostNS := nettest.NetNS(t, "lost")
	lost := network.Sandbox{ID: "lost", NetNS: lostNS, PortMappings: []network.PortMapping{{HostPort: 9090, ContainerPort: 80}}}
	for _, sb := range []network.Sandbox{keep, lost} {
		if _, err := n.SetUp(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	// The agent "crashes": the lost pod's namespace goes without a TearDown,
	// and a new Network (a restarted agent) reconciles.
	if err := network.DeleteNetNS(lostNS); err != nil {
		t.Fatal(err)
	}
	n2, err := New(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n2.Reconcile(ctx, []network.Sandbox{keep}); err != nil {
		t.Fatal(err)
	}
	if got := allocations(t, state); len(got) != 1 {
		t.Errorf("allocations after reconcile: %v, want only keep's", got)
	}
	ids, err := n2.Attachments()
	if err != nil || len(ids) != 1 || ids[0] != "keep" {
		t.Errorf("attachments after reconcile: %v, %v", ids, err)
	}
	if out := nettest.MustRun(t, node, "iptables-save", "-t", "nat"); strings.Contains(out, "--dport 9090") {
		t.Errorf("hostPort rule of the lost pod left:\n%s", out)
	}
	if _, err := n2.Check(ctx, keep); err != nil {
		t.Errorf("live sandbox broken by reconcile: %v", err)
	}
	if err := n2.TearDown(ctx, keep); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	nettest.RequireRoot(t)
	networktest.Run(t, networktest.Harness{
		PodCIDR: "10.250.3.0/24",
		New: func(t *testing.T) network.PodNetwork {
			n, _, _ := newNode(t, "10.250.3.0/24")
			return n
		},
		NetNS: func(t *testing.T, name string) string { return nettest.NetNS(t, name) },
	})
}
