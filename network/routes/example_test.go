package routes_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/routes"
)

func ExampleDesiredRoutes() {
	node := func(name, cidr, ip string) *api.Node {
		return &api.Node{
			Metadata: &api.ObjectMeta{Name: name},
			Spec:     &api.NodeSpec{PodCidr: cidr},
			Status:   &api.NodeStatus{Addresses: []*api.NodeAddress{{Type: "InternalIP", Address: ip}}},
		}
	}
	nodes := []*api.Node{node("a", "10.244.0.0/24", "192.168.1.10"), node("b", "10.244.1.0/24", "192.168.1.11")}
	for _, r := range routes.DesiredRoutes(nodes, "a") {
		fmt.Println(r.Dst, "via", r.Via, "("+r.Node+")")
	}
	// Output: 10.244.1.0/24 via 192.168.1.11 (b)
}
