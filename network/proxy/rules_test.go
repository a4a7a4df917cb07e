package proxy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

func svc(ns, name, ip, typ string, ports ...*api.ServicePort) *api.Service {
	return &api.Service{
		Metadata: &api.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &api.ServiceSpec{ClusterIp: ip, Type: typ, Ports: ports},
	}
}

func port(name string, p, nodePort int32) *api.ServicePort {
	return &api.ServicePort{Name: name, Port: p, NodePort: nodePort, Protocol: "TCP"}
}

func eps(ns, name string, portName string, p int32, ready []string, notReady []string) *api.Endpoints {
	ss := &api.EndpointSubset{Ports: []*api.EndpointPort{{Name: portName, Port: p, Protocol: "TCP"}}}
	for _, ip := range ready {
		ss.Addresses = append(ss.Addresses, &api.EndpointAddress{Ip: ip})
	}
	for _, ip := range notReady {
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, &api.EndpointAddress{Ip: ip})
	}
	return &api.Endpoints{Metadata: &api.ObjectMeta{Namespace: ns, Name: name}, Subsets: []*api.EndpointSubset{ss}}
}

func TestBuildRules(t *testing.T) {
	web := ServicePortName{Namespace: "default", Name: "web", Port: "http", Protocol: "TCP"}
	webSvc := ServiceChain(web)
	sepA := EndpointChain(web, 0)
	sepB := EndpointChain(web, 1)
	tests := []struct {
		name     string
		services []*api.Service
		eps      []*api.Endpoints
		opts     Options
		want     map[string][]string // chains that must hold exactly these rules
		absent   []string            // chains that must not exist
	}{
		{
			name:     "cluster IP spreads over ready endpoints only",
			services: []*api.Service{svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))},
			eps:      []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.2.3", "10.244.1.2"}, []string{"10.244.3.4"})},
			opts:     Options{ClusterCIDR: "10.244.0.0/16"},
			want: map[string][]string{
				ChainServices: {"-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j " + webSvc},
				webSvc: {
					"! -s 10.244.0.0/16 -j CX-MARK-MASQ",
					"-m statistic --mode random --probability 0.5000000000 -j " + sepA,
					"-j " + sepB,
				},
				sepA:           {"-s 10.244.1.2/32 -j CX-MARK-MASQ", "-p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080"},
				sepB:           {"-s 10.244.2.3/32 -j CX-MARK-MASQ", "-p tcp -m tcp -j DNAT --to-destination 10.244.2.3:8080"},
				ChainNodePorts: nil,
			},
			absent: []string{EndpointChain(web, 2)},
		},
		{
			name:     "node port",
			services: []*api.Service{svc("default", "web", "10.96.0.10", "NodePort", port("http", 80, 30080))},
			eps:      []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)},
			want: map[string][]string{
				ChainNodePorts:     {"-p tcp -m tcp --dport 30080 -j " + externalChain(web)},
				externalChain(web): {"-j CX-MARK-MASQ", "-j " + webSvc},
				webSvc:             {"-j " + sepA},
			},
		},
		{
			name: "external and load balancer IPs",
			services: []*api.Service{func() *api.Service {
				s := svc("default", "web", "10.96.0.10", "LoadBalancer", port("http", 80, 0))
				s.Spec.ExternalIps = []string{"192.0.2.10", "10.96.0.10"}
				s.Status = &api.ServiceStatus{LoadBalancer: &api.LoadBalancerStatus{Ingress: []*api.LoadBalancerIngress{{Ip: "198.51.100.7"}, {Hostname: "lb.example"}}}}
				return s
			}()},
			eps: []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)},
			want: map[string][]string{
				ChainServices: {
					"-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j " + webSvc,
					"-d 192.0.2.10/32 -p tcp -m tcp --dport 80 -j " + externalChain(web),
					"-d 198.51.100.7/32 -p tcp -m tcp --dport 80 -j " + externalChain(web),
				},
				externalChain(web): {"-j CX-MARK-MASQ", "-j " + webSvc},
				ChainNodePorts:     nil,
			},
		},
		{
			name: "external traffic policy Local",
			services: []*api.Service{func() *api.Service {
				s := svc("default", "web", "10.96.0.10", "NodePort", port("http", 80, 30080))
				s.Spec.ExternalTrafficPolicy = "Local"
				return s
			}()},
			eps: []*api.Endpoints{func() *api.Endpoints {
				e := eps("default", "web", "http", 8080, []string{"10.244.1.2", "10.244.2.3"}, nil)
				e.Subsets[0].Addresses[0].NodeName = "node-b"
				e.Subsets[0].Addresses[1].NodeName = "node-a"
				return e
			}()},
			opts: Options{ClusterCIDR: "10.244.0.0/16", NodeName: "node-a"},
			want: map[string][]string{
				externalChain(web): {"-s 10.244.0.0/16 -j " + webSvc, "-j " + sepB},
			},
		},
		{
			name: "external traffic policy Local without local endpoints",
			services: []*api.Service{func() *api.Service {
				s := svc("default", "web", "10.96.0.10", "NodePort", port("http", 80, 30080))
				s.Spec.ExternalTrafficPolicy = "Local"
				return s
			}()},
			eps:  []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)},
			opts: Options{NodeName: "node-a"},
			want: map[string][]string{externalChain(web): {"-j DROP"}},
		},
		{
			name: "session affinity",
			services: []*api.Service{func() *api.Service {
				s := svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))
				s.Spec.SessionAffinity = "ClientIP"
				s.Spec.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIp: &api.ClientIPConfig{TimeoutSeconds: 60}}
				return s
			}()},
			eps: []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)},
			want: map[string][]string{
				webSvc: {
					"-m recent --name " + sepA + " --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j " + sepA,
					"-j " + sepA,
				},
				sepA: {
					"-s 10.244.1.2/32 -j CX-MARK-MASQ",
					"-p tcp -m recent --name " + sepA + " --mask 255.255.255.255 --rsource --set -m tcp -j DNAT --to-destination 10.244.1.2:8080",
				},
			},
		},
		{
			name: "headless, external name and no endpoints get no rules",
			services: []*api.Service{
				svc("default", "web", "None", "ClusterIP", port("http", 80, 0)),
				svc("default", "ext", "", "ExternalName", port("http", 80, 0)),
				svc("default", "empty", "10.96.0.11", "ClusterIP", port("http", 80, 0)),
			},
			eps: []*api.Endpoints{
				eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil),
				eps("default", "empty", "http", 8080, nil, []string{"10.244.1.9"}),
			},
			want: map[string][]string{ChainServices: nil, ChainNodePorts: nil,
				FilterChain(ChainReject): {"-d 10.96.0.11/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset"}},
			absent: []string{webSvc},
		},
		{
			name:     "node port without endpoints is rejected",
			services: []*api.Service{svc("default", "web", "10.96.0.10", "NodePort", port("http", 80, 30080))},
			want: map[string][]string{
				ChainNodePorts: nil,
				FilterChain(ChainReject): {
					"-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset",
					"-m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT --reject-with tcp-reset",
				},
			},
			absent: []string{webSvc},
		},
		{
			name:     "masquerade all",
			services: []*api.Service{svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))},
			eps:      []*api.Endpoints{eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)},
			opts:     Options{MasqueradeAll: true},
			want:     map[string][]string{webSvc: {"-j CX-MARK-MASQ", "-j " + sepA}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := BuildRules(tc.services, tc.eps, tc.opts)
			for chain, want := range tc.want {
				got, ok := rs.Chains[chain]
				if !ok {
					t.Fatalf("chain %s missing; have %v", chain, sortedChains(rs))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("chain %s:\ngot:\n%s\nwant:\n%s", chain, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			for _, chain := range tc.absent {
				if _, ok := rs.Chains[chain]; ok {
					t.Errorf("chain %s exists: %v", chain, rs.Chains[chain])
				}
			}
			again := BuildRules(tc.services, tc.eps, tc.opts)
			if d, n := Diff(rs, again); n != 0 {
				t.Errorf("BuildRules is not deterministic:\n%s", d)
			}
		})
	}
}

func TestBuildRulesProbabilities(t *testing.T) {
	var ips []string
	for i := 1; i <= 4; i++ {
		ips = append(ips, fmt.Sprintf("10.244.0.%d", i))
	}
	rs := BuildRules([]*api.Service{svc("a", "b", "10.96.0.1", "", port("", 80, 0))},
		[]*api.Endpoints{eps("a", "b", "", 80, ips, nil)}, Options{})
	got := rs.Chains[ServiceChain(ServicePortName{Namespace: "a", Name: "b", Protocol: "TCP"})]
	want := []string{"0.2500000000", "0.3333333333", "0.5000000000"}
	if len(got) != 4 {
		t.Fatalf("rules: %v", got)
	}
	for i, p := range want {
		if !strings.Contains(got[i], "--probability "+p) {
			t.Errorf("rule %d = %q, want probability %s", i, got[i], p)
		}
	}
	if strings.Contains(got[3], "statistic") {
		t.Errorf("last rule must catch the rest: %q", got[3])
	}
}

func TestChainNames(t *testing.T) {
	sp := ServicePortName{Namespace: "a-very-long-namespace-name", Name: "and-a-long-service-name", Port: "https", Protocol: "TCP"}
	for _, c := range []string{ServiceChain(sp), EndpointChain(sp, 9999), externalChain(sp), ChainPostrouting} {
		if len(c) > 28 {
			t.Errorf("chain %s is longer than iptables' 28 characters", c)
		}
	}
	if ServiceChain(sp) == ServiceChain(ServicePortName{Namespace: "a", Name: "b", Protocol: "TCP"}) {
		t.Error("different service ports share a chain")
	}
}

func TestDiff(t *testing.T) {
	s1 := svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))
	s2 := svc("default", "db", "10.96.0.11", "ClusterIP", port("pg", 5432, 0))
	e1 := eps("default", "web", "http", 8080, []string{"10.244.1.2", "10.244.1.3"}, nil)
	e2 := eps("default", "db", "pg", 5432, []string{"10.244.1.4"}, nil)
	old := BuildRules([]*api.Service{s1, s2}, []*api.Endpoints{e1, e2}, Options{})

	// web loses an endpoint; db goes away.
	e1b := eps("default", "web", "http", 8080, []string{"10.244.1.2"}, []string{"10.244.1.3"})
	nw := BuildRules([]*api.Service{s1}, []*api.Endpoints{e1b}, Options{})
	in, n := Diff(old, nw)
	text := string(in)
	web := ServicePortName{Namespace: "default", Name: "web", Port: "http", Protocol: "TCP"}
	db := ServicePortName{Namespace: "default", Name: "db", Port: "pg", Protocol: "TCP"}
	for _, want := range []string{
		":" + ServiceChain(web) + " - [0:0]",
		"-X " + EndpointChain(web, 1),
		"-X " + ServiceChain(db),
		"-D CX-SERVICES -d 10.96.0.11/32 -p tcp -m tcp --dport 5432 -j " + ServiceChain(db),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("diff lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, ":CX-SERVICES") {
		t.Errorf("diff flushes the shared services chain:\n%s", text)
	}
	if strings.Contains(text, EndpointChain(web, 0)+" - [0:0]") {
		t.Errorf("diff rewrites an unchanged endpoint chain:\n%s", text)
	}
	if n != 5 { // web svc, services, 1 sep removed, db svc + db sep removed
		t.Errorf("diff touches %d chains, want 5:\n%s", n, text)
	}
	if _, n := Diff(nw, nw); n != 0 {
		t.Errorf("diff of equal sets touches %d chains", n)
	}
	// Ordering: flushes first, removals of chains last.
	if strings.Index(text, "-X ") < strings.Index(text, "-A ") {
		t.Errorf("chains deleted before references are rewritten:\n%s", text)
	}
}
