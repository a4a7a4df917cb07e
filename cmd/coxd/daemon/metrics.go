package daemon

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
)

// newMetrics returns what coxd serves at /metrics: one Prometheus registry
// with the Go and process collectors and the framework's metrics
// (prommetrics); the API server and the service proxy register theirs in
// Registry() too.
func newMetrics() (*prommetrics.Exporter, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return prommetrics.New(reg)
}
