// Package manager runs a set of runnables (controllers, informers, servers,
// anything with Start(ctx) error) as one unit: it shares one informer per
// kind among them, elects a leader through a Lease so that leader-only
// runnables run on one replica at a time, serves /healthz, /readyz and
// /metrics, and stops everything when its ctx ends or any runnable fails.
//
// Controllers report into Options.Metrics (a metrics.Provider). The default,
// metrics.Discard, drops everything, so the manager links no metrics
// library and serves no /metrics. A program that wants /metrics passes a
// Provider that is also an http.Handler: vmmetrics.Provider, the lean one
// (optionally with the Go runtime and process metrics),
//
//	p := vmmetrics.New(vmmetrics.WithProcessMetrics())
//	mgr, err := manager.New(manager.Options{Store: st, Addr: ":8080", Metrics: p})
//
// or, for a program with Prometheus client_golang metrics of its own, a
// prommetrics.Exporter over its registry, so that one /metrics serves
// everything:
//
//	reg := prometheus.NewRegistry()
//	exp, err := prommetrics.New(reg)
//	...
//	mgr, err := manager.New(manager.Options{Store: st, Addr: ":8080", Metrics: exp})
package manager
