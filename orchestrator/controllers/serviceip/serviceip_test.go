package serviceip_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func TestServicesGetAddresses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	env := testenv.Start(t, testenv.Options{Controllers: []string{testenv.ControllerServiceIP}, ServiceCIDR: "10.100.0.0/24"})
	svcs := store.For[*api.Service](env.Store)
	for _, svc := range []*api.Service{
		{Metadata: &api.ObjectMeta{Namespace: "default", Name: "a"}, Spec: &api.ServiceSpec{Ports: []*api.ServicePort{{Port: 80}}}},
		{Metadata: &api.ObjectMeta{Namespace: "default", Name: "b"}, Spec: &api.ServiceSpec{Type: "NodePort", Ports: []*api.ServicePort{{Port: 80}}}},
		{Metadata: &api.ObjectMeta{Namespace: "default", Name: "headless"}, Spec: &api.ServiceSpec{ClusterIp: "None", Ports: []*api.ServicePort{{Port: 80}}}},
	} {
		if _, err := svcs.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	prefix := netip.MustParsePrefix("10.100.0.0/24")
	a, err := testenv.UntilObject(ctx, env.Store, "default", "a", func(s *api.Service) bool { return s.GetSpec().GetClusterIp() != "" })
	if err != nil {
		t.Fatal(err)
	}
	b, err := testenv.UntilObject(ctx, env.Store, "default", "b", func(s *api.Service) bool {
		return s.GetSpec().GetClusterIp() != "" && s.GetSpec().GetPorts()[0].GetNodePort() != 0
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*api.Service{a, b} {
		ip, err := netip.ParseAddr(s.GetSpec().GetClusterIp())
		if err != nil || !prefix.Contains(ip) {
			t.Errorf("%s: cluster IP %q not in %s", s.GetMetadata().GetName(), s.GetSpec().GetClusterIp(), prefix)
		}
	}
	if a.GetSpec().GetClusterIp() == b.GetSpec().GetClusterIp() {
		t.Errorf("two services share %s", a.GetSpec().GetClusterIp())
	}
	if np := b.GetSpec().GetPorts()[0].GetNodePort(); np < 30000 || np > 32767 {
		t.Errorf("node port %d outside the default range", np)
	}
	h, err := svcs.Get(ctx, "default", "headless")
	if err != nil {
		t.Fatal(err)
	}
	if h.GetSpec().GetClusterIp() != "None" {
		t.Errorf("headless service got %q", h.GetSpec().GetClusterIp())
	}
}
