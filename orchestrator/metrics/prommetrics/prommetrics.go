// Package prommetrics reports the reconcile-loop framework's metrics into
// a Prometheus client_golang registry, for a program that exports
// Prometheus metrics of its own and serves them all at one /metrics (coxd
// does). The metric names, labels, help texts and histogram buckets are
// those of package metrics, so a dashboard works the same whichever of the
// two a program uses.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(collectors.NewGoCollector(), myCollector)
//	exp, err := prommetrics.New(reg)
//	...
//	mgr, err := manager.New(manager.Options{Store: st, Addr: ":8080", Metrics: exp})
//
// A program that needs none of its own is smaller without this package
// (the Prometheus client is ~1.6 MB of a binary): vmmetrics serves the same
// framework metrics from VictoriaMetrics/metrics (~0.6 MB).
package prommetrics

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
)

// Exporter is a metrics.Provider backed by collectors registered in a
// Prometheus registry, and an http.Handler serving that whole registry
// (promhttp). It is safe for concurrent use.
type Exporter struct {
	reg     *prometheus.Registry
	handler http.Handler

	reconcileTotal  *prometheus.CounterVec
	reconcileErrors *prometheus.CounterVec
	reconcileTime   *prometheus.HistogramVec
	activeWorkers   *prometheus.GaugeVec
	retries         *prometheus.CounterVec
	depth           *depthCollector
}

// New creates the framework's collectors and registers them in reg. It
// fails if reg already holds collectors of the same names (one Exporter per
// registry).
func New(reg *prometheus.Registry) (*Exporter, error) {
	if reg == nil {
		return nil, fmt.Errorf("prommetrics: nil registry")
	}
	ctl := []string{"controller"}
	e := &Exporter{
		reg:     reg,
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		reconcileTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metrics.ReconcileTotal, Help: metrics.Help(metrics.ReconcileTotal),
		}, []string{"controller", "result"}),
		reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metrics.ReconcileErrors, Help: metrics.Help(metrics.ReconcileErrors),
		}, ctl),
		reconcileTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: metrics.ReconcileTime, Help: metrics.Help(metrics.ReconcileTime),
			Buckets: metrics.ReconcileTimeBuckets(),
		}, ctl),
		activeWorkers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metrics.ActiveWorkers, Help: metrics.Help(metrics.ActiveWorkers),
		}, ctl),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metrics.WorkqueueRetry, Help: metrics.Help(metrics.WorkqueueRetry),
		}, ctl),
		depth: &depthCollector{
			desc:   prometheus.NewDesc(metrics.WorkqueueDepth, metrics.Help(metrics.WorkqueueDepth), ctl, nil),
			queues: map[string]*queueSource{},
		},
	}
	for _, c := range []prometheus.Collector{e.reconcileTotal, e.reconcileErrors, e.reconcileTime, e.activeWorkers, e.retries, e.depth} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("prommetrics: %w", err)
		}
	}
	return e, nil
}

// Registry returns the registry e reports into and serves.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// ServeHTTP serves every metric of e's registry (promhttp).
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Instruments returns the children of the framework's collectors for
// controller.
func (e *Exporter) Instruments(controller string) metrics.Instruments {
	return metrics.Instruments{
		ActiveWorkers:   e.activeWorkers.WithLabelValues(controller),
		ReconcileTime:   e.reconcileTime.WithLabelValues(controller),
		ReconcileErrors: e.reconcileErrors.WithLabelValues(controller),
		Retries:         e.retries.WithLabelValues(controller),
		Success:         e.reconcileTotal.WithLabelValues(controller, metrics.ResultSuccess),
		Requeue:         e.reconcileTotal.WithLabelValues(controller, metrics.ResultRequeue),
		RequeueAfter:    e.reconcileTotal.WithLabelValues(controller, metrics.ResultRequeueAfter),
		Error:           e.reconcileTotal.WithLabelValues(controller, metrics.ResultError),
		Terminal:        e.reconcileTotal.WithLabelValues(controller, metrics.ResultTerminal),
	}
}

// RegisterQueue reports depth() as controller's queue depth at each scrape
// until the returned function is called (see metrics.Provider).
func (e *Exporter) RegisterQueue(controller string, depth func() int) (unregister func()) {
	src := &queueSource{depth: depth}
	e.depth.mu.Lock()
	e.depth.queues[controller] = src
	e.depth.mu.Unlock()
	return func() {
		e.depth.mu.Lock()
		if e.depth.queues[controller] == src {
			delete(e.depth.queues, controller)
		}
		e.depth.mu.Unlock()
	}
}

// queueSource is one registration of a queue depth; its address tells a
// stale unregister from the current one.
type queueSource struct{ depth func() int }

// depthCollector reports each registered queue's depth when gathered.
type depthCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	queues map[string]*queueSource
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	fns := make(map[string]func() int, len(c.queues))
	for k, v := range c.queues {
		fns[k] = v.depth
	}
	c.mu.Unlock()
	for name, fn := range fns { // outside mu: depth may take the queue's lock
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(fn()), name)
	}
}

var _ metrics.Provider = (*Exporter)(nil)
