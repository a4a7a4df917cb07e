package dns_test

import (
	"context"
	"fmt"

	mdns "github.com/miekg/dns"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/dns"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func ExampleResolvConf() {
	conf, _ := dns.ResolvConf("shop", "cluster.local", []string{"10.96.0.10"})
	fmt.Print(string(conf))
	// Output:
	// nameserver 10.96.0.10
	// search shop.svc.cluster.local svc.cluster.local cluster.local
	// options ndots:5
}

func ExampleServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := memstore.New()
	_, _ = st.Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:     &api.ServiceSpec{ClusterIp: "10.96.0.10", Ports: []*api.ServicePort{{Name: "http", Port: 80}}},
	})
	srv, _ := dns.New(dns.Config{Store: st, Addr: "127.0.0.1:0"})
	go func() { _ = srv.Start(ctx) }()
	<-srv.Ready()

	q := new(mdns.Msg)
	q.SetQuestion("web.shop.svc.cluster.local.", mdns.TypeA)
	r, _, err := new(mdns.Client).Exchange(q, srv.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Answer[0].(*mdns.A).A)
	// Output: 10.96.0.10
}
