// Package vmmetrics reports the reconcile-loop framework's metrics into a
// VictoriaMetrics/metrics Set and serves that Set in the Prometheus text
// format: the lean way for a controller binary to have a /metrics (the
// library adds ~0.6 MB to a program that already serves HTTP; client_golang,
// through package prommetrics, ~1.6 MB).
//
//	p := vmmetrics.New(vmmetrics.WithProcessMetrics())
//	mgr, err := manager.New(manager.Options{Store: st, Addr: ":8080", Metrics: p})
//
// The metric names, labels and histogram buckets are those of package
// metrics, the same as prommetrics serves, so a dashboard works whichever a
// program uses. Two things differ, both the library's choice:
//
//   - HELP and TYPE lines. The library writes them only when the program
//     turns them on, process-wide, for every Set (metrics.ExposeMetadata(true)
//     of github.com/VictoriaMetrics/metrics), and its HELP lines carry no
//     text. A Provider changes no process-wide setting, so by default the
//     output has neither, and Prometheus stores the series as untyped (PromQL
//     reads them the same: rate over the counters, histogram_quantile over
//     the _bucket series). A program that wants the types calls
//     ExposeMetadata(true) once in main; metrics.Help's texts are not served
//     either way.
//   - The runtime and process metrics (WithProcessMetrics) are the library's:
//     the go_* and process_* names client_golang's collectors use for the
//     common ones (go_goroutines, go_memstats_*, process_cpu_seconds_total,
//     process_resident_memory_bytes, process_open_fds, ...), with some
//     metrics only one of the two has.
//
// The Set is the Provider's own (no global state); a program adds metrics of
// its own to it (Set) and they are served at the same /metrics. Names
// beginning with coxswain_ are the framework's: a program must not register
// them in the Set (the library panics on a clash).
package vmmetrics

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
)

// Option configures a Provider.
type Option func(*Provider)

// WithProcessMetrics makes the Provider also serve the Go runtime and
// process metrics: the library's WriteProcessMetrics (go_* from
// runtime/metrics and runtime.MemStats, process_* from /proc on Linux) and
// WriteFDMetrics (process_open_fds, process_max_fds), read at each scrape.
func WithProcessMetrics() Option {
	return func(p *Provider) { p.process = true }
}

// Provider is a metrics.Provider backed by its own VictoriaMetrics/metrics
// Set, and an http.Handler serving that Set (and, with WithProcessMetrics,
// the runtime and process metrics) in the Prometheus text format. It is safe
// for concurrent use.
type Provider struct {
	set     *vm.Set
	process bool

	mu     sync.Mutex             // guards queues; taken before the Set's lock
	queues map[string]*queueGauge // by controller, while a depth is registered
}

// New returns a Provider with a new, empty Set.
func New(opts ...Option) *Provider {
	p := &Provider{set: vm.NewSet(), queues: map[string]*queueGauge{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Set returns the Set p reports into and serves; a program may register
// metrics of its own in it.
func (p *Provider) Set() *vm.Set { return p.set }

// WritePrometheus writes every metric p serves to w in the Prometheus text
// format: the Set's, then the runtime and process metrics if p was built
// WithProcessMetrics.
func (p *Provider) WritePrometheus(w io.Writer) {
	p.set.WritePrometheus(w)
	if p.process {
		vm.WriteProcessMetrics(w)
		vm.WriteFDMetrics(w)
	}
}

// ServeHTTP serves WritePrometheus's output as text/plain (the Prometheus
// text format, version 0.0.4).
func (p *Provider) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	p.WritePrometheus(w)
}

// Instruments returns controller's series, creating them (at zero) on first
// use; asked again for the same controller it returns the same series.
func (p *Provider) Instruments(controller string) metrics.Instruments {
	ctl := `{controller="` + escape(controller) + `"`
	total := func(result string) metrics.Counter {
		return p.set.GetOrCreateCounter(metrics.ReconcileTotal + ctl + `,result="` + result + `"}`)
	}
	return metrics.Instruments{
		ActiveWorkers:   p.set.GetOrCreateGauge(metrics.ActiveWorkers+ctl+"}", nil),
		ReconcileTime:   observer{p.set.GetOrCreatePrometheusHistogramExt(metrics.ReconcileTime+ctl+"}", metrics.ReconcileTimeBuckets())},
		ReconcileErrors: p.set.GetOrCreateCounter(metrics.ReconcileErrors + ctl + "}"),
		Retries:         p.set.GetOrCreateCounter(metrics.WorkqueueRetry + ctl + "}"),
		Success:         total(metrics.ResultSuccess),
		Requeue:         total(metrics.ResultRequeue),
		RequeueAfter:    total(metrics.ResultRequeueAfter),
		Error:           total(metrics.ResultError),
		Terminal:        total(metrics.ResultTerminal),
	}
}

// RegisterQueue serves depth() as controller's work-queue depth, read at
// each scrape, until the returned function is called. A later registration
// for the same controller replaces it without a gap in the series;
// unregistering a replaced registration does nothing (see
// metrics.Provider).
func (p *Provider) RegisterQueue(controller string, depth func() int) (unregister func()) {
	src := &queueSource{depth: depth}
	name := metrics.WorkqueueDepth + `{controller="` + escape(controller) + `"}`
	p.mu.Lock()
	g := p.queues[controller]
	if g == nil {
		g = &queueGauge{}
		g.cur.Store(src)
		p.set.NewGauge(name, g.value)
		p.queues[controller] = g
	} else {
		g.cur.Store(src)
	}
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.queues[controller] == g && g.cur.Load() == src {
			p.set.UnregisterMetric(name)
			delete(p.queues, controller)
		}
	}
}

// queueSource is one registration of a queue depth; its address tells a
// stale unregister from the current one.
type queueSource struct{ depth func() int }

// queueGauge is the source of one controller's depth series. The Set calls
// value at scrape time without p.mu (depth may take the queue's lock), so
// the current source is an atomic pointer; a scrape racing an unregister
// may still read the last source, as a scrape just before it would have.
type queueGauge struct{ cur atomic.Pointer[queueSource] }

func (g *queueGauge) value() float64 { return float64(g.cur.Load().depth()) }

// observer adapts a PrometheusHistogram to metrics.Observer. The library
// drops negative values and NaN (a duration is neither).
type observer struct{ h *vm.PrometheusHistogram }

func (o observer) Observe(v float64) { o.h.Update(v) }

// escape quotes a label value as the Prometheus text format does:
// backslash, double quote and line feed are escaped.
var escape = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

var (
	_ metrics.Provider = (*Provider)(nil)
	_ http.Handler     = (*Provider)(nil)
)
