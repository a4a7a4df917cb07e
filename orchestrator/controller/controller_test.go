package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// memMetrics is an in-memory metrics.Provider: each series is a number
// under its name and labels, the histogram keeps its _count and _sum, and
// it knows which controllers have a queue depth registered.
type memMetrics struct {
	mu     sync.Mutex
	series map[string]float64
	queues map[string]*func() int
}

func newMemMetrics() *memMetrics {
	return &memMetrics{series: map[string]float64{}, queues: map[string]*func() int{}}
}

// key names one series: the metric and its controller and result labels.
func key(name, controller, result string) string {
	return name + "{controller=" + controller + ",result=" + result + "}"
}

func (m *memMetrics) add(k string, d float64) {
	m.mu.Lock()
	m.series[k] += d
	m.mu.Unlock()
}

// memSeries is a counter or gauge of memMetrics.
type memSeries struct {
	m *memMetrics
	k string
}

func (s memSeries) Inc() { s.m.add(s.k, 1) }
func (s memSeries) Dec() { s.m.add(s.k, -1) }

// memHistogram is the reconcile-time histogram of one controller.
type memHistogram struct {
	m          *memMetrics
	count, sum string
}

func (h memHistogram) Observe(v float64) {
	h.m.add(h.count, 1)
	h.m.add(h.sum, v)
}

func (m *memMetrics) Instruments(controller string) metrics.Instruments {
	s := func(name, result string) memSeries { return memSeries{m, key(name, controller, result)} }
	return metrics.Instruments{
		ActiveWorkers:   s(metrics.ActiveWorkers, ""),
		ReconcileTime:   memHistogram{m, key(metrics.ReconcileTime+"_count", controller, ""), key(metrics.ReconcileTime+"_sum", controller, "")},
		ReconcileErrors: s(metrics.ReconcileErrors, ""),
		Retries:         s(metrics.WorkqueueRetry, ""),
		Success:         s(metrics.ReconcileTotal, metrics.ResultSuccess),
		Requeue:         s(metrics.ReconcileTotal, metrics.ResultRequeue),
		RequeueAfter:    s(metrics.ReconcileTotal, metrics.ResultRequeueAfter),
		Error:           s(metrics.ReconcileTotal, metrics.ResultError),
		Terminal:        s(metrics.ReconcileTotal, metrics.ResultTerminal),
	}
}

func (m *memMetrics) RegisterQueue(controller string, depth func() int) func() {
	src := &depth
	m.mu.Lock()
	m.queues[controller] = src
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		if m.queues[controller] == src {
			delete(m.queues, controller)
		}
		m.mu.Unlock()
	}
}

// value returns the series name{controller, result} ("" for a metric
// without result), 0 if there is none.
func (m *memMetrics) value(name, controller, result string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.series[key(name, controller, result)]
}

// hasQueue tells whether controller's queue depth is registered.
func (m *memMetrics) hasQueue(controller string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queues[controller] != nil
}

// start runs a controller with no watches (requests come from Enqueue) and
// stops it at cleanup.
func start(t *testing.T, opts Options) (*Controller, *memMetrics) {
	t.Helper()
	reg := newMemMetrics()
	opts.Metrics = reg
	if opts.RateLimiter == nil {
		opts.RateLimiter = workqueue.NewExponential[reconcile.Request](time.Millisecond, 10*time.Millisecond)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start returned %v", err)
		}
		if reg.hasQueue(opts.Name) {
			t.Error("queue depth still registered after Start returned")
		}
	})
	eventually(t, "controller to run", func() bool { return c.Enqueue(reconcile.Request{Name: "__probe"}) })
	eventually(t, "queue depth registered", func() bool { return reg.hasQueue(opts.Name) })
	return c, reg
}

func TestOptionsValidate(t *testing.T) {
	r := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil })
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"ok", Options{Name: "c", Reconciler: r}, true},
		{"no name", Options{Reconciler: r}, false},
		{"no reconciler", Options{Name: "c"}, false},
		{"negative workers", Options{Name: "c", Reconciler: r, Workers: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestResults(t *testing.T) {
	type outcome struct {
		res reconcile.Result
		err error
	}
	tests := []struct {
		name string
		// script is what successive reconciles of the key return; after it
		// runs out, reconciles return done.
		script    []outcome
		wantCalls int
		result    string
	}{
		{"done", []outcome{{}}, 1, metrics.ResultSuccess},
		{"error retried with backoff", []outcome{{err: errors.New("boom")}, {err: errors.New("boom")}, {}}, 3, metrics.ResultError},
		{"requeue", []outcome{{res: reconcile.Result{Requeue: true}}, {}}, 2, metrics.ResultRequeue},
		{"requeue after", []outcome{{res: reconcile.Result{RequeueAfter: time.Millisecond}}, {}}, 2, metrics.ResultRequeueAfter},
		{"terminal not retried", []outcome{{err: reconcile.Terminal(errors.New("bad spec"))}, {}}, 1, metrics.ResultTerminal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			r := reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
				if req.Name != "obj" {
					return reconcile.Result{}, nil
				}
				n := int(calls.Add(1)) - 1
				if n < len(tt.script) {
					return tt.script[n].res, tt.script[n].err
				}
				return reconcile.Result{}, nil
			})
			c, reg := start(t, Options{Name: "test", Reconciler: r})
			c.Enqueue(reconcile.Request{Namespace: "ns", Name: "obj"})
			eventually(t, "the scripted reconciles", func() bool { return int(calls.Load()) >= tt.wantCalls })
			eventually(t, "the result metric", func() bool {
				return reg.value(metrics.ReconcileTotal, "test", tt.result) >= 1
			})
			// A terminal error must not come back on its own: enqueue another
			// key and wait for it, then check the count did not move.
			if tt.result == metrics.ResultTerminal {
				c.Enqueue(reconcile.Request{Name: "other"})
				eventually(t, "other key", func() bool {
					return reg.value(metrics.ReconcileTotal, "test", metrics.ResultSuccess) >= 2
				})
				if got := calls.Load(); got != 1 {
					t.Fatalf("terminal error reconciled %d times, want 1", got)
				}
				if got := reg.value(metrics.ReconcileErrors, "test", ""); got != 1 {
					t.Fatalf("errors_total = %v, want 1", got)
				}
			}
			if got := reg.value(metrics.ReconcileTime+"_count", "test", ""); got < float64(tt.wantCalls) {
				t.Fatalf("latency samples = %v, want >= %d", got, tt.wantCalls)
			}
		})
	}
}

// A requeue delay counts from the start of the reconcile: a reconciler that
// asks to come back at a deadline it computed from the clock comes back at
// that deadline, even if the clock moved on while it worked. (The delay
// used to count from when the reconcile returned, so the key came back as
// late as the reconcile had been long: a CronJob's run, missed.)
func TestRequeueAfterCountsFromReconcileStart(t *testing.T) {
	fc := clock.NewFake(time.Unix(1000, 0))
	deadline := fc.Now().Add(time.Minute)
	var calls atomic.Int32
	worked := make(chan struct{})
	again := make(chan time.Time, 1)
	r := reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
		if req.Name != "obj" {
			return reconcile.Result{}, nil
		}
		now := fc.Now()
		if calls.Add(1) == 1 {
			fc.Step(30 * time.Second) // the reconcile takes half a minute
			close(worked)
			return reconcile.Result{RequeueAfter: deadline.Sub(now)}, nil
		}
		select {
		case again <- now:
		default:
		}
		return reconcile.Result{}, nil
	})
	c, _ := start(t, Options{Name: "test", Reconciler: r, Clock: fc})
	c.Enqueue(reconcile.Request{Name: "obj"})
	select {
	case <-worked:
	case <-time.After(5 * time.Second):
		t.Fatal("no reconcile")
	}
	fc.Step(30 * time.Second) // to the deadline
	select {
	case at := <-again:
		if !at.Equal(deadline) {
			t.Fatalf("reconciled again at %v, want the deadline %v", at, deadline)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("not reconciled again at the deadline it asked for (%v)", deadline)
	}
}

func TestPanicIsRetried(t *testing.T) {
	var calls atomic.Int32
	r := reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
		if req.Name == "obj" && calls.Add(1) == 1 {
			panic("reconciler bug")
		}
		return reconcile.Result{}, nil
	})
	c, _ := start(t, Options{Name: "test", Reconciler: r, Logger: slog.New(slog.DiscardHandler)})
	c.Enqueue(reconcile.Request{Name: "obj"})
	eventually(t, "retry after panic", func() bool { return calls.Load() >= 2 })
}

func TestKeyNeverReconciledConcurrently(t *testing.T) {
	var active, maxActive, total atomic.Int32
	r := reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
		if req.Name != "hot" {
			return reconcile.Result{}, nil
		}
		n := active.Add(1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(100 * time.Microsecond) // widen the window a second worker could use
		active.Add(-1)
		total.Add(1)
		return reconcile.Result{}, nil
	})
	c, _ := start(t, Options{Name: "test", Reconciler: r, Workers: 8})
	for range 200 {
		c.Enqueue(reconcile.Request{Name: "hot"})
	}
	eventually(t, "some reconciles", func() bool { return total.Load() >= 1 })
	for range 200 {
		c.Enqueue(reconcile.Request{Name: "hot"})
	}
	eventually(t, "queue to drain", func() bool { return active.Load() == 0 && total.Load() >= 2 })
	if m := maxActive.Load(); m != 1 {
		t.Fatalf("key reconciled by %d workers at once", m)
	}
}

func TestLogsCarryControllerAndKey(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var done atomic.Bool
	r := reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		if req.Name != "obj" {
			return reconcile.Result{}, nil
		}
		reconcile.Logger(ctx).Info("user line")
		if done.Swap(true) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, errors.New("first try fails")
	})
	c, _ := start(t, Options{Name: "logger-test", Reconciler: r, Logger: logger})
	c.Enqueue(reconcile.Request{Namespace: "ns", Name: "obj"})
	eventually(t, "two reconciles logged", func() bool {
		n := 0
		for _, l := range buf.lines() {
			if l["msg"] == "user line" {
				n++
			}
		}
		return n >= 2
	})
	var sawError bool
	for _, l := range buf.lines() {
		if l["controller"] != "logger-test" {
			t.Errorf("log line without controller: %v", l)
		}
		if l["key"] == "ns/obj" && l["msg"] == "reconcile failed; retrying with backoff" {
			sawError = true
		}
		if l["msg"] == "user line" && l["key"] != "ns/obj" {
			t.Errorf("reconciler's log line without key: %v", l)
		}
	}
	if !sawError {
		t.Error("no error line with the key for the failed reconcile")
	}
}

func TestStartTwiceAndRestart(t *testing.T) {
	var calls atomic.Int32
	r := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.Result{}, nil
	})
	c, err := New(Options{Name: "restart", Reconciler: r})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Start(ctx) }()
		eventually(t, "running", func() bool { return c.Enqueue(reconcile.Request{Name: "x"}) })
		if err := c.Start(ctx); !errors.Is(err, ErrAlreadyRunning) {
			t.Fatalf("round %d: second Start = %v, want ErrAlreadyRunning", round, err)
		}
		eventually(t, "reconcile", func() bool { return calls.Load() > int32(round) })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("round %d: Start = %v", round, err)
		}
		if c.Enqueue(reconcile.Request{Name: "x"}) {
			t.Fatalf("round %d: Enqueue succeeded on a stopped controller", round)
		}
	}
}

// BenchmarkThroughput measures the framework's cost per reconcile (queue,
// worker hand-off, metrics, per-key logger) with a no-op reconciler and 2
// workers.
func BenchmarkThroughput(b *testing.B) {
	var done atomic.Int64
	r := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		done.Add(1)
		return reconcile.Result{}, nil
	})
	c, err := New(Options{Name: "bench", Reconciler: r, Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Start(ctx) }()
	for !c.Enqueue(reconcile.Request{Name: "warmup"}) {
		time.Sleep(time.Millisecond)
	}
	for done.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	reqs := make([]reconcile.Request, b.N)
	for i := range reqs {
		reqs[i] = reconcile.Request{Namespace: "default", Name: fmt.Sprintf("obj-%07d", i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := done.Load()
	for _, req := range reqs { // distinct keys: no merging, every one reconciled
		c.Enqueue(req)
	}
	for done.Load()-start < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(done.Load()-start)/b.Elapsed().Seconds(), "reconciles/s")
}

// partialProvider hands out only a success counter, as a third-party
// Provider that predates newer instruments might.
type partialProvider struct {
	successes atomic.Int32
	queues    atomic.Int32
}

func (p *partialProvider) Inc() { p.successes.Add(1) }

func (p *partialProvider) Instruments(string) metrics.Instruments {
	return metrics.Instruments{Success: p}
}

func (p *partialProvider) RegisterQueue(string, func() int) func() {
	p.queues.Add(1)
	return func() { p.queues.Add(-1) }
}

// TestPartialInstruments runs a controller on a Provider that leaves
// instruments nil: the controller must treat them as discarding, not panic.
func TestPartialInstruments(t *testing.T) {
	var calls atomic.Int32
	r := reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
		if req.Name != "obj" {
			return reconcile.Result{}, nil
		}
		if calls.Add(1) == 1 {
			return reconcile.Result{}, errors.New("retry me") // uses the nil error and retry counters
		}
		return reconcile.Result{}, nil
	})
	p := &partialProvider{}
	c, err := New(Options{Name: "partial", Reconciler: r, Metrics: p, Logger: slog.New(slog.DiscardHandler),
		RateLimiter: workqueue.NewExponential[reconcile.Request](time.Millisecond, 10*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	eventually(t, "controller to run", func() bool { return c.Enqueue(reconcile.Request{Name: "obj"}) })
	eventually(t, "a retried success", func() bool { return calls.Load() >= 2 && p.successes.Load() >= 1 })
	if p.queues.Load() != 1 {
		t.Errorf("queue registrations while running = %d, want 1", p.queues.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.queues.Load() != 0 {
		t.Errorf("queue still registered after Start returned")
	}
}
