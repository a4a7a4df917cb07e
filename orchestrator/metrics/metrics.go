package metrics

// Result labels of coxswain_controller_reconcile_total.
const (
	ResultSuccess      = "success"
	ResultRequeue      = "requeue"
	ResultRequeueAfter = "requeue_after"
	ResultError        = "error"
	ResultTerminal     = "terminal_error"
)

// Names of the framework's metrics. Every one has a "controller" label;
// ReconcileTotal also has "result" (one of the Result constants).
const (
	ReconcileTotal  = "coxswain_controller_reconcile_total"
	ReconcileErrors = "coxswain_controller_reconcile_errors_total"
	ReconcileTime   = "coxswain_controller_reconcile_time_seconds"
	ActiveWorkers   = "coxswain_controller_active_workers"
	WorkqueueDepth  = "coxswain_workqueue_depth"
	WorkqueueRetry  = "coxswain_workqueue_retries_total"
)

// Help returns the help text of the framework metric name, "" for a name
// that is not one of them. Every Provider that exports the metrics by name
// uses it, so the help texts are the same whichever serves them.
func Help(name string) string {
	switch name {
	case ReconcileTotal:
		return "Reconciles per controller and result."
	case ReconcileErrors:
		return "Reconciles that returned an error, retried or terminal."
	case ReconcileTime:
		return "Time spent in Reconcile."
	case ActiveWorkers:
		return "Workers currently inside Reconcile."
	case WorkqueueDepth:
		return "Keys waiting in the work queue (ready, not delayed or in process)."
	case WorkqueueRetry:
		return "Rate-limited requeues."
	}
	return ""
}

// ReconcileTimeBuckets returns the upper bounds, in seconds, of the
// ReconcileTime histogram: 100µs doubling 17 times (to ~13s).
func ReconcileTimeBuckets() []float64 {
	b := make([]float64, 18)
	v := 0.0001
	for i := range b {
		b[i] = v
		v *= 2
	}
	return b
}

// Counter is a count that only goes up. Implementations are safe for
// concurrent use and do not block. A prometheus.Counter is one, and so is
// a VictoriaMetrics/metrics *Counter.
type Counter interface {
	Inc()
}

// Gauge is a value that goes up and down. Implementations are safe for
// concurrent use and do not block. A prometheus.Gauge is one, and so is a
// VictoriaMetrics/metrics *Gauge made without a callback.
type Gauge interface {
	Inc()
	Dec()
}

// Observer records observations (durations in seconds) into a
// distribution. Implementations are safe for concurrent use and do not
// block. A prometheus.Observer is one.
type Observer interface {
	Observe(float64)
}

// Instruments are where one controller reports. A Provider fills every
// field; a controller treats a nil field as one that discards.
type Instruments struct {
	// ActiveWorkers is the number of workers inside Reconcile
	// (ActiveWorkers).
	ActiveWorkers Gauge
	// ReconcileTime observes each reconcile's duration in seconds
	// (ReconcileTime).
	ReconcileTime Observer
	// ReconcileErrors counts reconciles that returned an error, retried or
	// terminal (ReconcileErrors).
	ReconcileErrors Counter
	// Retries counts rate-limited requeues (WorkqueueRetry).
	Retries Counter
	// Success, Requeue, RequeueAfter, Error and Terminal count reconciles
	// by result (ReconcileTotal with result ResultSuccess, ResultRequeue,
	// ResultRequeueAfter, ResultError and ResultTerminal).
	Success, Requeue, RequeueAfter, Error, Terminal Counter
}

// Provider hands controllers their instruments. Implementations are safe
// for concurrent use; controllers call Instruments once, in their
// constructor, and RegisterQueue each time they start.
type Provider interface {
	// Instruments returns the instruments of the controller named
	// controller. Asked twice for one name, a Provider returns instruments
	// that report into the same series.
	Instruments(controller string) Instruments
	// RegisterQueue makes depth the source of controller's work-queue depth
	// (WorkqueueDepth), read when the metrics are collected, until the
	// returned function is called. A later registration for the same
	// controller replaces it; unregistering a replaced registration does
	// nothing.
	RegisterQueue(controller string, depth func() int) (unregister func())
}

// Discard is a Provider whose instruments drop everything.
type Discard struct{}

// Instruments returns instruments that drop everything.
func (Discard) Instruments(string) Instruments {
	return Instruments{
		ActiveWorkers: nopGauge{}, ReconcileTime: nopObserver{},
		ReconcileErrors: nopCounter{}, Retries: nopCounter{},
		Success: nopCounter{}, Requeue: nopCounter{}, RequeueAfter: nopCounter{},
		Error: nopCounter{}, Terminal: nopCounter{},
	}
}

// RegisterQueue ignores depth.
func (Discard) RegisterQueue(string, func() int) func() { return func() {} }

// WithDefaults returns ins with every nil instrument replaced by one that
// discards, so that a caller can use every field without checking.
func (ins Instruments) WithDefaults() Instruments {
	if ins.ActiveWorkers == nil {
		ins.ActiveWorkers = nopGauge{}
	}
	if ins.ReconcileTime == nil {
		ins.ReconcileTime = nopObserver{}
	}
	for _, c := range []*Counter{&ins.ReconcileErrors, &ins.Retries, &ins.Success, &ins.Requeue, &ins.RequeueAfter, &ins.Error, &ins.Terminal} {
		if *c == nil {
			*c = nopCounter{}
		}
	}
	return ins
}

type nopCounter struct{}

func (nopCounter) Inc() {}

type nopGauge struct{}

func (nopGauge) Inc() {}
func (nopGauge) Dec() {}

type nopObserver struct{}

func (nopObserver) Observe(float64) {}

var _ Provider = Discard{}
