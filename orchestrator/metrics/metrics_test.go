package metrics_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
)

func TestDiscardAndDefaults(t *testing.T) {
	ins := metrics.Discard{}.Instruments("x")
	ins.Success.Inc()
	ins.ActiveWorkers.Dec()
	ins.ReconcileTime.Observe(1)
	metrics.Discard{}.RegisterQueue("x", func() int { return 1 })()

	var n countingCounter
	filled := metrics.Instruments{Success: &n}.WithDefaults()
	for _, c := range []metrics.Counter{filled.ReconcileErrors, filled.Retries, filled.Requeue, filled.RequeueAfter, filled.Error, filled.Terminal} {
		c.Inc() // must not panic
	}
	filled.ActiveWorkers.Inc()
	filled.ReconcileTime.Observe(1)
	filled.Success.Inc()
	if n != 1 {
		t.Errorf("WithDefaults replaced a set instrument: %d", n)
	}
}

type countingCounter int

func (c *countingCounter) Inc() { *c++ }

func TestReconcileTimeBuckets(t *testing.T) {
	b := metrics.ReconcileTimeBuckets()
	if len(b) != 18 || b[0] != 0.0001 || b[17] < 13 || b[17] > 13.2 {
		t.Fatalf("buckets %v", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("buckets not ascending: %v", b)
		}
	}
	for _, n := range []string{metrics.ReconcileTotal, metrics.ReconcileErrors, metrics.ReconcileTime, metrics.ActiveWorkers, metrics.WorkqueueDepth, metrics.WorkqueueRetry} {
		if metrics.Help(n) == "" {
			t.Errorf("no help for %s", n)
		}
	}
	if metrics.Help("nope") != "" {
		t.Error("help for an unknown name")
	}
}
