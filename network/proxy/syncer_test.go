package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
)

func natRules(t *testing.T, nsPath string) string {
	t.Helper()
	return nettest.MustRun(t, nsPath, "iptables-save", "-t", "nat")
}

func TestSyncerInNetNS(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	for _, tc := range []struct {
		name string
		nft  string
	}{{"ListChainsWithNft", ""}, {"IptablesSaveOnly", "-"}} {
		t.Run(tc.name, func(t *testing.T) { syncerScenario(t, tc.nft) })
	}
}

func syncerScenario(t *testing.T, nft string) {
	node := nettest.NetNS(t, "node")
	ctx := context.Background()

	// A foreign rule, as CNI's portmap would leave, must survive every sync.
	nettest.MustRun(t, node, "iptables", "-t", "nat", "-N", "OTHER")
	nettest.MustRun(t, node, "iptables", "-t", "nat", "-A", "PREROUTING", "-j", "OTHER")
	nettest.MustRun(t, node, "iptables", "-t", "nat", "-A", "OTHER", "-p", "tcp", "--dport", "1234", "-j", "RETURN")

	var services []*api.Service
	var endpoints []*api.Endpoints
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("s%d", i)
		services = append(services, svc("default", name, fmt.Sprintf("10.96.0.%d", i+1), "NodePort", port("http", 80, int32(30000+i))))
		endpoints = append(endpoints, eps("default", name, "http", 8080, []string{fmt.Sprintf("10.244.1.%d", i+1), fmt.Sprintf("10.244.2.%d", i+1)}, nil))
	}
	services = append(services, svc("default", "empty", "10.96.1.1", "NodePort", port("http", 80, 31000)))
	s := NewSyncer(SyncerConfig{NetNS: node, NftCommand: nft})
	rs := BuildRules(services, endpoints, Options{ClusterCIDR: "10.244.0.0/16"})
	res, err := s.Sync(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full {
		t.Error("first sync was not full")
	}
	checkApplied(t, node, rs)

	// Incremental: one endpoint changes, one service goes.
	endpoints[3] = eps("default", "s3", "http", 8080, []string{"10.244.9.9"}, nil)
	rs2 := BuildRules(append(services[:19:19], services[20]), endpoints, Options{ClusterCIDR: "10.244.0.0/16"})
	res, err = s.Sync(ctx, rs2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.Chains == 0 || res.Chains > 12 {
		t.Errorf("incremental sync: %+v", res)
	}
	checkApplied(t, node, rs2)
	if res, err := s.Sync(ctx, rs2); err != nil || res.Chains != 0 {
		t.Errorf("no-op sync: %+v, %v", res, err)
	}

	// A syncer that restarts takes over what is there with a full sync.
	s2 := NewSyncer(SyncerConfig{NetNS: node, NftCommand: nft})
	if _, err := s2.Sync(ctx, rs); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, node, rs)
	if ok, err := s2.CheckJumps(); err != nil || !ok {
		t.Fatalf("CheckJumps = %v, %v", ok, err)
	}

	if err := s2.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	left := natRules(t, node) + nettest.MustRun(t, node, "iptables-save", "-t", "filter")
	if strings.Contains(left, ChainPrefix) {
		t.Errorf("cleanup left rules:\n%s", left)
	}
	if !strings.Contains(left, "-A OTHER -p tcp -m tcp --dport 1234 -j RETURN") {
		t.Errorf("foreign rule lost:\n%s", left)
	}
}

// checkApplied compares the kernel's CX- chains (nat and filter) with rs.
func checkApplied(t *testing.T, nsPath string, rs *RuleSet) {
	t.Helper()
	got := map[string][]string{}
	for _, table := range []string{"nat", "filter"} {
		key := func(c string) string {
			if table == "filter" {
				return FilterChain(c)
			}
			return c
		}
		for _, line := range strings.Split(nettest.MustRun(t, nsPath, "iptables-save", "-t", table), "\n") {
			if strings.HasPrefix(line, ":"+ChainPrefix) {
				c := key(strings.Fields(line)[0][1:])
				if got[c] == nil {
					got[c] = []string{}
				}
			}
			if strings.HasPrefix(line, "-A "+ChainPrefix) {
				f := strings.SplitN(line, " ", 3)
				got[key(f[1])] = append(got[key(f[1])], f[2])
			}
		}
	}
	if len(got) != len(rs.Chains) {
		t.Errorf("kernel has %d CX chains, want %d", len(got), len(rs.Chains))
	}
	for c, want := range rs.Chains {
		g, ok := got[c]
		if !ok {
			t.Errorf("chain %s missing", c)
			continue
		}
		if len(g) != len(want) {
			t.Errorf("chain %s has %d rules, want %d:\n%s", c, len(g), len(want), strings.Join(g, "\n"))
		}
	}
	if !strings.Contains(natRules(t, nsPath), "-A OTHER -p tcp -m tcp --dport 1234 -j RETURN") {
		t.Error("foreign rule lost")
	}
}

func TestSyncerSplitsLargeAdditions(t *testing.T) {
	nettest.RequireRoot(t)
	node := nettest.NetNS(t, "node")
	ctx := context.Background()
	nettest.MustRun(t, node, "iptables", "-t", "nat", "-N", "OTHER")
	nettest.MustRun(t, node, "iptables", "-t", "nat", "-A", "OTHER", "-p", "tcp", "--dport", "1234", "-j", "RETURN")
	s := NewSyncer(SyncerConfig{NetNS: node, MaxNewChainsPerRestore: 4})
	var services []*api.Service
	var endpoints []*api.Endpoints
	add := func(n int) {
		for i := len(services); i < n; i++ {
			name := fmt.Sprintf("s%d", i)
			services = append(services, svc("default", name, fmt.Sprintf("10.96.0.%d", i+1), "ClusterIP", port("http", 80, 0)))
			endpoints = append(endpoints, eps("default", name, "http", 8080, []string{fmt.Sprintf("10.244.1.%d", i+1)}, nil))
		}
	}
	parts := func() map[string]*RuleSet {
		m := map[string]*RuleSet{"": FixedRules(Options{})}
		for i, sv := range services {
			m[sv.GetMetadata().GetName()] = ServiceRules(sv, endpoints[i], Options{})
		}
		return m
	}
	add(1)
	if res, err := s.SyncParts(ctx, parts(), nil); err != nil || !res.Full {
		t.Fatalf("first sync %+v, %v", res, err)
	}
	// Ten services of two chains each, at most four new chains per
	// restore: several restores, all incremental, nothing lost.
	add(11)
	res, err := s.SyncParts(ctx, parts(), nil)
	if err != nil || res.Full || res.Chains != 30 {
		t.Fatalf("large addition %+v, %v", res, err)
	}
	rs := Merge(func() []*RuleSet {
		var l []*RuleSet
		for _, p := range parts() {
			l = append(l, p)
		}
		return l
	}()...)
	checkApplied(t, node, rs)
	if res, err := s.SyncParts(ctx, parts(), nil); err != nil || res.Full || res.Chains != 0 {
		t.Errorf("no-op after the split sync: %+v, %v", res, err)
	}
}
