package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Result labels of coxswain_controller_reconcile_total.
const (
	ResultSuccess      = "success"
	ResultRequeue      = "requeue"
	ResultRequeueAfter = "requeue_after"
	ResultError        = "error"
	ResultTerminal     = "terminal_error"
)

// Metrics is one set of framework collectors, registered once in a
// Prometheus registry and shared by every controller of a manager.
type Metrics struct {
	// ReconcileTotal counts reconciles by controller and result.
	ReconcileTotal *prometheus.CounterVec
	// ReconcileErrors counts reconciles that returned an error.
	ReconcileErrors *prometheus.CounterVec
	// ReconcileTime observes reconcile latency in seconds.
	ReconcileTime *prometheus.HistogramVec
	// ActiveWorkers is the number of workers inside Reconcile.
	ActiveWorkers *prometheus.GaugeVec
	// Retries counts rate-limited requeues.
	Retries *prometheus.CounterVec

	depth *depthCollector
}

// New creates the collectors and registers them in reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		ReconcileTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coxswain_controller_reconcile_total",
			Help: "Reconciles per controller and result.",
		}, []string{"controller", "result"}),
		ReconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coxswain_controller_reconcile_errors_total",
			Help: "Reconciles that returned an error, retried or terminal.",
		}, []string{"controller"}),
		ReconcileTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coxswain_controller_reconcile_time_seconds",
			Help:    "Time spent in Reconcile.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100µs .. ~13s
		}, []string{"controller"}),
		ActiveWorkers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "coxswain_controller_active_workers",
			Help: "Workers currently inside Reconcile.",
		}, []string{"controller"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coxswain_workqueue_retries_total",
			Help: "Rate-limited requeues.",
		}, []string{"controller"}),
		depth: &depthCollector{
			desc:   prometheus.NewDesc("coxswain_workqueue_depth", "Keys waiting in the work queue (ready, not delayed or in process).", []string{"controller"}, nil),
			queues: map[string]func() int{},
		},
	}
	for _, c := range []prometheus.Collector{m.ReconcileTotal, m.ReconcileErrors, m.ReconcileTime, m.ActiveWorkers, m.Retries, m.depth} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// RegisterQueue reports depth() as the queue depth of controller at each
// scrape until the returned function is called.
func (m *Metrics) RegisterQueue(controller string, depth func() int) (unregister func()) {
	m.depth.mu.Lock()
	m.depth.queues[controller] = depth
	m.depth.mu.Unlock()
	return func() {
		m.depth.mu.Lock()
		delete(m.depth.queues, controller)
		m.depth.mu.Unlock()
	}
}

type depthCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	queues map[string]func() int
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	fns := make(map[string]func() int, len(c.queues))
	for k, v := range c.queues {
		fns[k] = v
	}
	c.mu.Unlock()
	for name, fn := range fns {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(fn()), name)
	}
}
