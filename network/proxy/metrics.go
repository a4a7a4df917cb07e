package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a Proxier's Prometheus metrics. Create them with NewMetrics
// and pass them in Config.Metrics.
type Metrics struct {
	// SyncDuration observes each sync that wrote rules, labelled
	// mode="full" or mode="incremental".
	SyncDuration *prometheus.HistogramVec
	// ProgrammingLatency observes, per sync, the time from the first
	// Service or Endpoints change it includes (as seen by the watch) to the
	// rules being in place.
	ProgrammingLatency prometheus.Histogram
	// Rules is the number of rules the proxier owns.
	Rules prometheus.Gauge
	// SyncErrors counts failed syncs.
	SyncErrors prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "coxswain", Subsystem: "proxy", Name: "sync_duration_seconds",
			Help: "Time to compute and apply a rule sync.", Buckets: buckets,
		}, []string{"mode"}),
		ProgrammingLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "coxswain", Subsystem: "proxy", Name: "network_programming_seconds",
			Help: "Time from a Service or Endpoints change reaching the proxy to its rules being in place.", Buckets: buckets,
		}),
		Rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "coxswain", Subsystem: "proxy", Name: "rules",
			Help: "Number of iptables rules the proxy owns.",
		}),
		SyncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "coxswain", Subsystem: "proxy", Name: "sync_errors_total",
			Help: "Failed rule syncs.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.SyncDuration, m.ProgrammingLatency, m.Rules, m.SyncErrors} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
