package fake_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/fake"
	"github.com/coxswain-io/coxswain/network/networktest"
	"github.com/coxswain-io/coxswain/store"
)

func TestConformance(t *testing.T) {
	networktest.Run(t, networktest.Harness{
		PodCIDR: "10.244.1.0/24",
		New: func(t *testing.T) network.PodNetwork {
			n, err := fake.New("10.244.1.0/24")
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		NetNS: func(t *testing.T, name string) string { return "/fake/netns/" + name },
	})
}

func TestExhaustionAndHostPorts(t *testing.T) {
	ctx := context.Background()
	n, err := fake.New("10.0.0.0/30") // .1 gateway, .2 the only pod address
	if err != nil {
		t.Fatal(err)
	}
	pm := []network.PortMapping{{HostPort: 80, ContainerPort: 8080}}
	if _, err := n.SetUp(ctx, network.Sandbox{ID: "a", NetNS: "/a", PortMappings: pm}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SetUp(ctx, network.Sandbox{ID: "b", NetNS: "/b", PortMappings: pm}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("host port clash = %v", err)
	}
	if _, err := n.SetUp(ctx, network.Sandbox{ID: "c", NetNS: "/c"}); !errors.Is(err, network.ErrExhausted) {
		t.Fatalf("full range = %v", err)
	}
	boom := errors.New("boom")
	n.SetUpHook = func(network.Sandbox) error { return boom }
	if _, err := n.SetUp(ctx, network.Sandbox{ID: "d", NetNS: "/d"}); !errors.Is(err, boom) {
		t.Fatalf("hook error = %v", err)
	}
}

func Example() {
	ctx := context.Background()
	n, _ := fake.New("10.244.1.0/24")
	res, _ := n.SetUp(ctx, network.Sandbox{ID: "sandbox-1", NetNS: "/run/netns/sandbox-1"})
	fmt.Println(res.PrimaryIP(), "via", res.Gateway)
	_ = n.TearDown(ctx, network.Sandbox{ID: "sandbox-1"})
	fmt.Println(n.Sandboxes())
	// Output:
	// 10.244.1.2 via 10.244.1.1
	// []
}
