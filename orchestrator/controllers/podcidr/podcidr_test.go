package podcidr_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func TestNodesGetDistinctSubnets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	env := testenv.Start(t, testenv.Options{Controllers: []string{testenv.ControllerPodCIDR}, ClusterCIDR: "10.200.0.0/16"})
	for i := range 5 {
		if _, err := env.Store.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: fmt.Sprintf("n%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	cluster := netip.MustParsePrefix("10.200.0.0/16")
	var nodes []*api.Node
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{}, func(ns []*api.Node) bool {
		nodes = ns
		for _, n := range ns {
			if n.GetSpec().GetPodCidr() == "" {
				return false
			}
		}
		return len(ns) == 5
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		p, err := netip.ParsePrefix(n.GetSpec().GetPodCidr())
		if err != nil || p.Bits() != 24 || !cluster.Contains(p.Addr()) {
			t.Errorf("%s: podCIDR %q", n.GetMetadata().GetName(), n.GetSpec().GetPodCidr())
		}
		if seen[p.String()] {
			t.Errorf("%s shared by two nodes", p)
		}
		seen[p.String()] = true
	}
}
