package dns

import (
	"context"
	"errors"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func fixtures() []api.Object {
	return []api.Object{
		&api.Service{Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
			Spec: &api.ServiceSpec{ClusterIp: "10.96.0.10", Ports: []*api.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}}}},
		&api.Service{Metadata: &api.ObjectMeta{Namespace: "prod", Name: "db"},
			Spec: &api.ServiceSpec{ClusterIp: "None", Ports: []*api.ServicePort{{Name: "pg", Port: 5432}}}},
		&api.Endpoints{Metadata: &api.ObjectMeta{Namespace: "prod", Name: "db"}, Subsets: []*api.EndpointSubset{{
			Addresses:         []*api.EndpointAddress{{Ip: "10.244.1.5", Hostname: "db-0"}, {Ip: "10.244.2.6"}},
			NotReadyAddresses: []*api.EndpointAddress{{Ip: "10.244.3.7"}},
			Ports:             []*api.EndpointPort{{Name: "pg", Port: 5432}},
		}}},
		&api.Service{Metadata: &api.ObjectMeta{Namespace: "default", Name: "ext"},
			Spec: &api.ServiceSpec{Type: "ExternalName", ExternalName: "example.org"}},
	}
}

func startServer(t *testing.T) (*Server, store.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := memstore.New()
	for _, o := range fixtures() {
		if _, err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{Store: st, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	return s, st
}

func query(t *testing.T, addr, name string, qtype uint16) ([]string, int) {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	r, _, err := new(mdns.Client).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		f := strings.Fields(rr.String())
		out = append(out, f[3]+" "+strings.Join(f[4:], " "))
	}
	sort.Strings(out)
	return out, r.Rcode
}

func TestServer(t *testing.T) {
	s, st := startServer(t)
	tests := []struct {
		name  string
		qtype uint16
		want  []string
		rcode int
	}{
		{"web.default.svc.cluster.local", mdns.TypeA, []string{"A 10.96.0.10"}, mdns.RcodeSuccess},
		{"WEB.Default.svc.cluster.local", mdns.TypeA, []string{"A 10.96.0.10"}, mdns.RcodeSuccess},
		{"web.default.svc.cluster.local", mdns.TypeAAAA, nil, mdns.RcodeSuccess},
		{"db.prod.svc.cluster.local", mdns.TypeA, []string{"A 10.244.1.5", "A 10.244.2.6"}, mdns.RcodeSuccess},
		{"db-0.db.prod.svc.cluster.local", mdns.TypeA, []string{"A 10.244.1.5"}, mdns.RcodeSuccess},
		{"_http._tcp.web.default.svc.cluster.local", mdns.TypeSRV, []string{"SRV 0 100 80 web.default.svc.cluster.local."}, mdns.RcodeSuccess},
		{"ext.default.svc.cluster.local", mdns.TypeA, []string{"CNAME example.org."}, mdns.RcodeSuccess},
		{"nope.default.svc.cluster.local", mdns.TypeA, nil, mdns.RcodeNameError},
		{"web.other.svc.cluster.local", mdns.TypeA, nil, mdns.RcodeNameError},
		{"cluster.local", mdns.TypeA, nil, mdns.RcodeNameError},
		{"example.org", mdns.TypeA, nil, mdns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+mdns.TypeToString[tc.qtype], func(t *testing.T) {
			got, rcode := query(t, s.Addr(), tc.name, tc.qtype)
			if rcode != tc.rcode || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v %s, want %v %s", got, mdns.RcodeToString[rcode], tc.want, mdns.RcodeToString[tc.rcode])
			}
		})
	}

	// A pod of the headless service turns not ready: it leaves the answer.
	ctx := context.Background()
	_, err := store.For[*api.Endpoints](st).Mutate(ctx, "prod", "db", func(e *api.Endpoints) error {
		ss := e.Subsets[0]
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, ss.Addresses[1])
		ss.Addresses = ss.Addresses[:1]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := query(t, s.Addr(), "db.prod.svc.cluster.local", mdns.TypeA)
		if strings.Join(got, ",") == "A 10.244.1.5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not-ready pod still served: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Deleting the service removes its name.
	if _, err := st.Delete(ctx, api.KindService, "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, rcode := query(t, s.Addr(), "web.default.svc.cluster.local", mdns.TypeA); rcode == mdns.RcodeNameError {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deleted service still resolves")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestResolvConf(t *testing.T) {
	got, err := ResolvConf("prod", "", []string{"10.96.0.10"})
	if err != nil {
		t.Fatal(err)
	}
	want := "nameserver 10.96.0.10\nsearch prod.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range [][]string{nil, {"not-an-ip"}} {
		if _, err := ResolvConf("prod", "", bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ResolvConf(%v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestForwardsOtherNamesUpstream(t *testing.T) {
	// A stand-in upstream resolver on loopback.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		if r.Question[0].Name == "example.org." {
			rr, _ := mdns.NewRR("example.org. 60 IN A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = up.ActivateAndServe() }()
	t.Cleanup(func() { _ = up.Shutdown() })

	ctx, cancel := context.WithCancel(context.Background())
	st := memstore.New()
	s, err := New(Config{Store: st, Addr: "127.0.0.1:0", Upstream: []string{pc.LocalAddr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-s.Ready()

	if got, rcode := query(t, s.Addr(), "example.org", mdns.TypeA); rcode != mdns.RcodeSuccess || strings.Join(got, ",") != "A 192.0.2.7" {
		t.Errorf("forwarded answer %v %s", got, mdns.RcodeToString[rcode])
	}
	// Cluster names are never forwarded.
	if _, rcode := query(t, s.Addr(), "nope.default.svc.cluster.local", mdns.TypeA); rcode != mdns.RcodeNameError {
		t.Errorf("cluster name rcode %s", mdns.RcodeToString[rcode])
	}
}
