package remote_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, envOptions{server: func(c *remote.ServerConfig) { c.Metrics = reg }})
	ctx := context.Background()
	if _, err := e.client.Create(ctx, testPod("ns", "p")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.client.Get(ctx, api.KindPod, "ns", "p"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.Get(ctx, api.KindPod, "ns", "missing"); !store.IsNotFound(err) {
		t.Fatal(err)
	}
	w, err := e.client.Watch(ctx, api.KindDeployment, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Create(ctx, &api.Deployment{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "d"}}); err != nil {
		t.Fatal(err)
	}
	<-w.Events() // the stream is open once an event went through it
	open := metricValue(t, reg, "coxswain_apiserver_watches", map[string]string{"resource": "deployments"})
	w.Stop()
	if open != 1 {
		t.Errorf("open watches = %v, want 1", open)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"verb": "create", "resource": "pods", "code": "201"}, 1},
		{map[string]string{"verb": "get", "resource": "pods", "code": "200"}, 3},
		{map[string]string{"verb": "get", "resource": "pods", "code": "404"}, 1},
		{map[string]string{"verb": "create", "resource": "deployments.apps", "code": "201"}, 1},
	} {
		if got := metricValue(t, reg, "coxswain_apiserver_requests_total", tc.labels); got != tc.want {
			t.Errorf("requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if _, err := remote.NewServer(remote.ServerConfig{Store: e.mem, Metrics: reg}); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
}

// metricValue returns the value of the counter or gauge with the given name
// and labels in reg, 0 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := 0
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v == lp.GetValue() {
					match++
				}
			}
			if match == len(labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// TestStuckWatcherDropped: a client that opens a watch and stops reading
// is dropped once a write has waited RequestTimeout, freeing the handler.
func TestStuckWatcherDropped(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, envOptions{noClient: true, server: func(c *remote.ServerConfig) {
		c.Metrics = reg
		c.RequestTimeout = 200 * time.Millisecond
	}})
	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // fill up sooner
	}
	if _, err := fmt.Fprintf(conn, "GET /api/v1/namespaces/ns/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	watches := func() float64 {
		return metricValue(t, reg, "coxswain_apiserver_watches", map[string]string{"resource": "pods"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for watches() != 1 {
		select {
		case <-ctx.Done():
			t.Fatal("the watch never opened")
		case <-time.After(time.Millisecond):
		}
	}
	big := strings.Repeat("x", 200<<10)
	for i := 0; watches() == 1; i++ {
		p := testPod("ns", fmt.Sprintf("p%d", i))
		p.Metadata.Annotations = map[string]string{"big": big}
		if _, err := e.mem.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the stuck watch was not dropped after %d large events", i)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
