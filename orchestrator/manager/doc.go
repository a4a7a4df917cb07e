// Package manager runs a set of runnables (controllers, informers, servers,
// anything with Start(ctx) error) as one unit: it shares one informer per
// kind among them, elects a leader through a Lease so that leader-only
// runnables run on one replica at a time, serves /healthz, /readyz and
// /metrics, and stops everything when its ctx ends or any runnable fails.
//
// Controllers report into Options.Metrics (a metrics.Provider). By default
// that is a metrics.Registry with the Go runtime and process metrics, which
// serves /metrics in the Prometheus text format without a metrics client
// library; a program with Prometheus metrics of its own passes a
// prommetrics.Exporter over its registry instead, so that one /metrics
// serves everything:
//
//	reg := prometheus.NewRegistry()
//	exp, err := prommetrics.New(reg)
//	...
//	mgr, err := manager.New(manager.Options{Store: st, Addr: ":8080", Metrics: exp})
package manager
