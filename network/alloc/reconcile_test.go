package alloc_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/alloc"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func TestAssignPodCIDRs(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	nodes := store.For[*api.Node](st)
	for _, n := range []struct{ name, cidr string }{{"a", ""}, {"b", "10.244.0.0/24"}, {"c", ""}, {"d", "10.244.0.0/24"}} {
		if _, err := nodes.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: n.name}, Spec: &api.NodeSpec{PodCidr: n.cidr}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := alloc.AssignPodCIDRs(ctx, st, "10.244.0.0/16", 24)
	if !errors.Is(err, alloc.ErrAllocated) {
		t.Errorf("duplicate CIDR of node d not reported: %v", err)
	}
	if got["a"].String() != "10.244.1.0/24" || got["c"].String() != "10.244.2.0/24" || len(got) != 2 {
		t.Fatalf("assigned %v", got)
	}
	a, _ := nodes.Get(ctx, "", "a")
	if a.GetSpec().GetPodCidr() != "10.244.1.0/24" || len(a.GetSpec().GetPodCidrs()) != 1 {
		t.Fatalf("node a spec %v", a.GetSpec())
	}
	// Level-triggered: a second pass changes nothing; a deleted node's range
	// is free for the next new node.
	if got, _ := alloc.AssignPodCIDRs(ctx, st, "10.244.0.0/16", 24); len(got) != 0 {
		t.Fatalf("second pass assigned %v", got)
	}
	if _, err := nodes.Delete(ctx, "", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "e"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = alloc.AssignPodCIDRs(ctx, st, "10.244.0.0/16", 24)
	if got["e"].String() != "10.244.1.0/24" {
		t.Fatalf("new node got %v, want the freed 10.244.1.0/24", got)
	}
}

func TestAssignServices(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	svcs := store.For[*api.Service](st)
	create := func(name string, spec *api.ServiceSpec) {
		t.Helper()
		if _, err := svcs.Create(ctx, &api.Service{Metadata: &api.ObjectMeta{Namespace: "default", Name: name}, Spec: spec}); err != nil {
			t.Fatal(err)
		}
	}
	create("fixed", &api.ServiceSpec{ClusterIp: "10.96.0.1", Ports: []*api.ServicePort{{Port: 80}}})
	create("web", &api.ServiceSpec{Type: "NodePort", Ports: []*api.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443, NodePort: 30000}}})
	create("headless", &api.ServiceSpec{ClusterIp: "None", Ports: []*api.ServicePort{{Port: 80}}})
	create("ext", &api.ServiceSpec{Type: "ExternalName", ExternalName: "example.org"})
	create("dup", &api.ServiceSpec{ClusterIp: "10.96.0.1"})

	r := alloc.ServiceRanges{ServiceCIDR: "10.96.0.0/24", NodePortRange: "30000-30010"}
	changed, err := alloc.AssignServices(ctx, st, r)
	if !errors.Is(err, alloc.ErrAllocated) {
		t.Errorf("duplicate cluster IP not reported: %v", err)
	}
	if fmt.Sprint(changed) != "[default/web]" {
		t.Fatalf("changed %v", changed)
	}
	web, _ := svcs.Get(ctx, "default", "web")
	if web.Spec.ClusterIp != "10.96.0.2" || web.Spec.Ports[0].NodePort != 30001 || web.Spec.Ports[1].NodePort != 30000 {
		t.Fatalf("web spec %v", web.Spec)
	}
	for _, name := range []string{"headless", "ext"} {
		s, _ := svcs.Get(ctx, "default", name)
		if ip := s.Spec.GetClusterIp(); ip != "None" && ip != "" {
			t.Errorf("%s got cluster IP %s", name, ip)
		}
	}
	// Deleting a service frees its address for the next one.
	if _, err := svcs.Delete(ctx, "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	create("next", &api.ServiceSpec{Type: "NodePort", Ports: []*api.ServicePort{{Port: 80}}})
	if _, err := alloc.AssignServices(ctx, st, r); !errors.Is(err, alloc.ErrAllocated) {
		t.Fatalf("second pass: %v", err)
	}
	next, _ := svcs.Get(ctx, "default", "next")
	if next.Spec.ClusterIp != "10.96.0.2" || next.Spec.Ports[0].NodePort != 30000 {
		t.Fatalf("next spec %v, want the freed 10.96.0.2 and 30000", next.Spec)
	}
}

func TestAssignServicesUnique(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for i := range 50 {
		if _, err := st.Create(ctx, &api.Service{Metadata: &api.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("s%d", i)},
			Spec: &api.ServiceSpec{Type: "NodePort", Ports: []*api.ServicePort{{Port: 80}, {Port: 81}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alloc.AssignServices(ctx, st, alloc.ServiceRanges{ServiceCIDR: "10.96.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	list, _, err := store.For[*api.Service](st).List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ips, ports := map[string]bool{}, map[int32]bool{}
	for _, s := range list {
		if ips[s.Spec.ClusterIp] || s.Spec.ClusterIp == "" {
			t.Fatalf("cluster IP %q missing or reused", s.Spec.ClusterIp)
		}
		ips[s.Spec.ClusterIp] = true
		for _, p := range s.Spec.Ports {
			if ports[p.NodePort] || p.NodePort < 30000 || p.NodePort > 32767 {
				t.Fatalf("node port %d out of range or reused", p.NodePort)
			}
			ports[p.NodePort] = true
		}
	}
	if len(ips) != 50 || len(ports) != 100 {
		t.Fatalf("%d IPs, %d ports", len(ips), len(ports))
	}
}

func ExampleCIDRAllocator() {
	a, _ := alloc.NewCIDRAllocator("10.244.0.0/16", 24)
	first, _ := a.Allocate()
	second, _ := a.Allocate()
	fmt.Println(first, second)
	// Output: 10.244.0.0/24 10.244.1.0/24
}

func ExampleAssignServices() {
	ctx := context.Background()
	st := memstore.New()
	_, _ = st.Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:     &api.ServiceSpec{Type: "NodePort", Ports: []*api.ServicePort{{Port: 80}}},
	})
	changed, _ := alloc.AssignServices(ctx, st, alloc.ServiceRanges{ServiceCIDR: "10.96.0.0/12"})
	svc, _ := store.For[*api.Service](st).Get(ctx, "shop", "web")
	sort.Strings(changed)
	fmt.Println(changed, svc.Spec.ClusterIp, svc.Spec.Ports[0].NodePort)
	// Output: [shop/web] 10.96.0.1 30000
}
