package proxy_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/proxy"
)

func ExampleBuildRules() {
	svc := &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:     &api.ServiceSpec{ClusterIp: "10.96.0.10", Ports: []*api.ServicePort{{Name: "http", Port: 80}}},
	}
	eps := &api.Endpoints{
		Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"},
		Subsets: []*api.EndpointSubset{{
			Addresses: []*api.EndpointAddress{{Ip: "10.244.1.5"}, {Ip: "10.244.2.7"}},
			Ports:     []*api.EndpointPort{{Name: "http", Port: 8080}},
		}},
	}
	rs := proxy.BuildRules([]*api.Service{svc}, []*api.Endpoints{eps}, proxy.Options{ClusterCIDR: "10.244.0.0/16"})
	sp := proxy.ServicePortName{Namespace: "shop", Name: "web", Port: "http", Protocol: "TCP"}
	fmt.Println(len(rs.Chains[proxy.ChainServices]), "service rule;", len(rs.Chains[proxy.ServiceChain(sp)]), "rules in the service chain")
	for _, r := range rs.Chains[proxy.EndpointChain(sp, 1)] {
		fmt.Println(r)
	}
	// Output:
	// 1 service rule; 3 rules in the service chain
	// -s 10.244.2.7/32 -j CX-MARK-MASQ
	// -p tcp -m tcp -j DNAT --to-destination 10.244.2.7:8080
}
