package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func TestProxierFollowsStore(t *testing.T) {
	nettest.RequireRoot(t)
	nettest.HostUnchanged(t)
	node := nettest.NetNS(t, "node")
	st := memstore.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	web := svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))
	if _, err := st.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Store: st, NetNS: node, CleanupOnExit: true, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()

	sp := ServicePortName{Namespace: "default", Name: "web", Port: "http", Protocol: "TCP"}
	waitRules := func(want ...string) {
		t.Helper()
		nettest.Eventually(t, 10*time.Second, func() error {
			got := natRules(t, node)
			for _, w := range want {
				if !strings.Contains(got, w) {
					return fmt.Errorf("missing %q in:\n%s", w, got)
				}
			}
			return nil
		})
	}
	waitRules("-A CX-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j "+ServiceChain(sp),
		"--to-destination 10.244.1.2:8080", "-j CX-SERVICES")
	// Metrics are updated just after the rules are in place.
	nettest.Eventually(t, 10*time.Second, func() error {
		var gauge dto.Metric
		if err := metrics.Rules.Write(&gauge); err != nil || gauge.GetGauge().GetValue() < 5 {
			return fmt.Errorf("rules metric = %v, %v", gauge.GetGauge().GetValue(), err)
		}
		families, err := reg.Gather()
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, f := range families {
			seen[f.GetName()] = true
		}
		for _, name := range []string{"coxswain_proxy_sync_duration_seconds", "coxswain_proxy_network_programming_seconds", "coxswain_proxy_rules"} {
			if !seen[name] {
				return fmt.Errorf("metric %s not reported; have %v", name, seen)
			}
		}
		return nil
	})

	// A second ready endpoint joins; the first turns not ready.
	upd := eps("default", "web", "http", 8080, []string{"10.244.1.3"}, []string{"10.244.1.2"})
	if _, err := st.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	waitRules("--to-destination 10.244.1.3:8080")
	nettest.Eventually(t, 10*time.Second, func() error {
		if strings.Contains(natRules(t, node), "10.244.1.2:8080") {
			return fmt.Errorf("not-ready endpoint still programmed")
		}
		return nil
	})

	// The service goes: its chains go.
	if _, err := st.Delete(ctx, api.KindService, "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	nettest.Eventually(t, 10*time.Second, func() error {
		if strings.Contains(natRules(t, node), ServiceChain(sp)) {
			return fmt.Errorf("service chain still there")
		}
		return nil
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left := natRules(t, node); strings.Contains(left, ChainPrefix) {
		t.Errorf("rules left after shutdown with cleanup:\n%s", left)
	}
}

func TestProxierRepairsFlushedTable(t *testing.T) {
	nettest.RequireRoot(t)
	node := nettest.NetNS(t, "node")
	st := memstore.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := st.Create(ctx, svc("default", "web", "10.96.0.10", "ClusterIP", port("http", 80, 0))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, eps("default", "web", "http", 8080, []string{"10.244.1.2"}, nil)); err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Store: st, NetNS: node, CheckInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	programmed := func() error {
		got := natRules(t, node)
		for _, w := range []string{"-A PREROUTING -m comment --comment coxswain-services -j CX-SERVICES", "--to-destination 10.244.1.2:8080"} {
			if !strings.Contains(got, w) {
				return fmt.Errorf("missing %q", w)
			}
		}
		return nil
	}
	nettest.Eventually(t, 10*time.Second, programmed)
	// Someone wipes the nat table (atomically, as a restore does); the
	// proxier notices and resyncs fully.
	nettest.MustRun(t, node, "sh", "-c", `printf '*nat\nCOMMIT\n' | iptables-restore`)

	nettest.Eventually(t, 10*time.Second, programmed)
}
