package remote_test

import (
	"context"
	"testing"

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
