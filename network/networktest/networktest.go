// Package networktest is the conformance suite every network.PodNetwork
// implementation passes (network/cni as root, network/fake anywhere).
package networktest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/network"
)

// Harness gives the suite a fresh implementation and sandboxes for it.
type Harness struct {
	// New returns a fresh pod network over PodCIDR.
	New func(t *testing.T) network.PodNetwork
	// NetNS returns a network namespace path for a new sandbox.
	NetNS func(t *testing.T, name string) string
	// PodCIDR is the range New's network allocates from.
	PodCIDR string
}

// Run runs the conformance suite against the implementations h creates:
// distinct in-range addresses, idempotent SetUp, Check and TearDown, and
// Reconcile freeing the sandboxes that are gone. Each case is a subtest.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	sandbox := func(t *testing.T, id string) network.Sandbox {
		return network.Sandbox{ID: id, NetNS: h.NetNS(t, id), Namespace: "default", Name: id, UID: "uid-" + id}
	}
	t.Run("SetUpGivesDistinctAddressesInRange", func(t *testing.T) {
		n := h.New(t)
		seen := map[string]bool{}
		for i := range 3 {
			sb := sandbox(t, fmt.Sprintf("sb%d", i))
			res, err := n.SetUp(ctx, sb)
			if err != nil {
				t.Fatal(err)
			}
			ip := res.PrimaryIP()
			if !ip.IsValid() || seen[ip.String()] {
				t.Fatalf("address %v invalid or reused", ip)
			}
			seen[ip.String()] = true
			if !res.Gateway.IsValid() || res.Gateway == ip {
				t.Errorf("gateway %v", res.Gateway)
			}
			t.Cleanup(func() { _ = n.TearDown(context.Background(), sb) })
		}
	})
	t.Run("SetUpIsIdempotent", func(t *testing.T) {
		n := h.New(t)
		sb := sandbox(t, "idem")
		a, err := n.SetUp(ctx, sb)
		if err != nil {
			t.Fatal(err)
		}
		b, err := n.SetUp(ctx, sb)
		if err != nil || a.PrimaryIP() != b.PrimaryIP() {
			t.Fatalf("second SetUp = %v, %v; want %v", b, err, a.PrimaryIP())
		}
		if err := n.TearDown(ctx, sb); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CheckAndTearDown", func(t *testing.T) {
		n := h.New(t)
		sb := sandbox(t, "chk")
		if _, err := n.Check(ctx, sb); !errors.Is(err, network.ErrNotFound) {
			t.Fatalf("Check before SetUp = %v, want ErrNotFound", err)
		}
		res, err := n.SetUp(ctx, sb)
		if err != nil {
			t.Fatal(err)
		}
		got, err := n.Check(ctx, sb)
		if err != nil || got.PrimaryIP() != res.PrimaryIP() {
			t.Fatalf("Check = %v, %v", got, err)
		}
		if err := n.TearDown(ctx, sb); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Check(ctx, sb); !errors.Is(err, network.ErrNotFound) {
			t.Fatalf("Check after TearDown = %v, want ErrNotFound", err)
		}
		if err := n.TearDown(ctx, sb); err != nil {
			t.Fatalf("TearDown of a torn-down sandbox: %v", err)
		}
	})
	t.Run("ReconcileFreesTheDead", func(t *testing.T) {
		n := h.New(t)
		live, dead := sandbox(t, "live"), sandbox(t, "dead")
		for _, sb := range []network.Sandbox{live, dead} {
			if _, err := n.SetUp(ctx, sb); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.Reconcile(ctx, []network.Sandbox{live}); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Check(ctx, dead); !errors.Is(err, network.ErrNotFound) {
			t.Errorf("dead sandbox after Reconcile: %v", err)
		}
		if _, err := n.Check(ctx, live); err != nil {
			t.Errorf("live sandbox after Reconcile: %v", err)
		}
		_ = n.TearDown(ctx, live)
	})
}
