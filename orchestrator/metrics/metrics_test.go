package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// value gathers reg and returns the value of the series name{controller=c}.
func value(t *testing.T, reg *prometheus.Registry, name, c string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == c {
					switch {
					case m.Gauge != nil:
						return m.GetGauge().GetValue(), true
					case m.Counter != nil:
						return m.GetCounter().GetValue(), true
					}
				}
			}
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Fatal("registering twice in one registry succeeded")
	}
	m.ReconcileErrors.WithLabelValues("rs").Add(2)
	unregister := m.RegisterQueue("rs", func() int { return 7 })
	if v, ok := value(t, reg, "coxswain_workqueue_depth", "rs"); !ok || v != 7 {
		t.Fatalf("depth = %v (found %v), want 7", v, ok)
	}
	if v, ok := value(t, reg, "coxswain_controller_reconcile_errors_total", "rs"); !ok || v != 2 {
		t.Fatalf("errors = %v (found %v), want 2", v, ok)
	}
	unregister()
	if _, ok := value(t, reg, "coxswain_workqueue_depth", "rs"); ok {
		t.Fatal("depth still reported after unregister")
	}
}
