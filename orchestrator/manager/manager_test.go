package manager_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/vmmetrics"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var quiet = slog.New(slog.DiscardHandler)

type running struct {
	mgr    *manager.Manager
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, mgr *manager.Manager) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{mgr: mgr, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- mgr.Start(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("manager Start: %v", err)
	}
}

// counter is a runnable that counts how many instances are running.
type counter struct {
	running atomic.Int32
	starts  atomic.Int32
	leader  bool
}

func (c *counter) Start(ctx context.Context) error {
	c.starts.Add(1)
	c.running.Add(1)
	defer c.running.Add(-1)
	<-ctx.Done()
	return nil
}

func (c *counter) NeedLeaderElection() bool { return c.leader }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	s := memstore.New()
	// Hold the first Pod list so readiness is observed false first.
	gate := make(chan struct{})
	remove := s.AddHook(func(ctx context.Context, op memstore.Operation, kind string) error {
		if op == memstore.OpList && kind == api.KindPod {
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	defer remove()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := manager.New(manager.Options{Store: s, Logger: quiet, Listener: ln, Metrics: vmmetrics.New(vmmetrics.WithProcessMetrics())})
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	if err := mgr.AddHealthzCheck("custom", func(*http.Request) error {
		if failing.Load() {
			return errors.New("wedged")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := mgr.AddHealthzCheck("custom", func(*http.Request) error { return nil }); err == nil {
		t.Fatal("duplicate check accepted")
	}
	var calls atomic.Int32
	if err := builder.ControllerManagedBy(mgr).For(api.KindPod).Complete(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.Result{}, nil
	})); err != nil {
		t.Fatal(err)
	}
	start(t, mgr)
	base := "http://" + ln.Addr().String()
	eventually(t, "server", func() bool { return mgr.Addr() != nil })

	if code, body := get(t, base+"/readyz"); code != http.StatusInternalServerError || !strings.Contains(body, "informer Pod: not synced") {
		t.Fatalf("/readyz before sync = %d %q", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	close(gate)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == http.StatusOK })

	failing.Store(true)
	if code, body := get(t, base+"/healthz"); code != http.StatusInternalServerError || !strings.Contains(body, "custom: wedged") {
		t.Fatalf("/healthz with a failing check = %d %q", code, body)
	}

	if _, err := s.Create(context.Background(), &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reconcile", func() bool { return calls.Load() > 0 })
	eventually(t, "metrics", func() bool {
		_, body := get(t, base+"/metrics")
		return strings.Contains(body, `coxswain_controller_reconcile_total{controller="pod",result="success"}`) &&
			strings.Contains(body, `coxswain_workqueue_depth{controller="pod"}`) &&
			strings.Contains(body, `coxswain_controller_reconcile_time_seconds_bucket{controller="pod"`) &&
			strings.Contains(body, "\ngo_goroutines ") // WithProcessMetrics
	})
}

// TestMetricsOption passes a Provider of the program's own: controllers
// report into it, and /metrics is served only when it is an http.Handler.
// Without one the manager discards the metrics and serves no /metrics.
func TestMetricsOption(t *testing.T) {
	exp, err := prommetrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		metrics metrics.Provider
		serves  bool
	}{
		{"default", nil, false},
		{"vmmetrics", vmmetrics.New(), true},
		{"prommetrics", exp, true},
		{"not a handler", metrics.Discard{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			mgr, err := manager.New(manager.Options{Store: memstore.New(), Logger: quiet, Listener: ln, Metrics: tc.metrics})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.metrics
			if want == nil {
				want = metrics.Discard{}
			}
			if mgr.Metrics() != want {
				t.Fatalf("Metrics() = %v, want %v", mgr.Metrics(), want)
			}
			if err := builder.ControllerManagedBy(mgr).For(api.KindPod).Complete(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
				return reconcile.Result{}, nil
			})); err != nil {
				t.Fatal(err)
			}
			start(t, mgr)
			base := "http://" + ln.Addr().String()
			eventually(t, "server", func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK })
			code, body := get(t, base+"/metrics")
			switch {
			case tc.serves && (code != http.StatusOK || !strings.Contains(body, `coxswain_controller_reconcile_total{controller="pod",result="success"} 0`)):
				t.Errorf("/metrics = %d %q", code, body)
			case tc.serves && strings.Contains(body, "go_goroutines"):
				t.Errorf("/metrics has runtime metrics the Provider was not built with")
			case !tc.serves && code != http.StatusNotFound:
				t.Errorf("/metrics of a Provider that is no handler = %d, want 404", code)
			}
		})
	}
}

func TestRunnableErrorStopsManager(t *testing.T) {
	s := memstore.New()
	mgr, err := manager.New(manager.Options{Store: s, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	bystander := &counter{}
	boom := errors.New("boom")
	if err := mgr.Add(bystander); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(manager.RunnableFunc(func(context.Context) error { return boom })); err != nil {
		t.Fatal(err)
	}
	err = mgr.Start(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Start = %v, want boom", err)
	}
	if bystander.running.Load() != 0 {
		t.Fatal("a runnable still runs after the manager returned")
	}
	if err := mgr.Start(context.Background()); !errors.Is(err, manager.ErrAlreadyStarted) {
		t.Fatalf("second Start = %v", err)
	}
}

func TestWithoutLeaderElectionEverythingRuns(t *testing.T) {
	mgr, err := manager.New(manager.Options{Store: memstore.New(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	leaderOnly, everywhere := &counter{leader: true}, &counter{}
	_ = mgr.Add(leaderOnly)
	_ = mgr.Add(everywhere)
	r := start(t, mgr)
	<-mgr.Elected()
	eventually(t, "both running", func() bool { return leaderOnly.running.Load() == 1 && everywhere.running.Load() == 1 })
	late := &counter{leader: true}
	_ = mgr.Add(late) // added after start: starts at once
	eventually(t, "late runnable running", func() bool { return late.running.Load() == 1 })
	r.stop(t)
	if leaderOnly.running.Load()+everywhere.running.Load()+late.running.Load() != 0 {
		t.Fatal("runnables still running after stop")
	}
}

func electionConfig(id string) *leaderelection.Config {
	return &leaderelection.Config{
		Name:          "controller-manager",
		Identity:      id,
		LeaseDuration: 300 * time.Millisecond,
		RenewDeadline: 200 * time.Millisecond,
		RetryPeriod:   20 * time.Millisecond,
	}
}

type replica struct {
	*running
	leaderOnly, everywhere *counter
}

func newReplica(t *testing.T, s store.Store, id string) *replica {
	t.Helper()
	mgr, err := manager.New(manager.Options{Store: s, Logger: quiet.With("replica", id), LeaderElection: electionConfig(id)})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{leaderOnly: &counter{leader: true}, everywhere: &counter{}}
	_ = mgr.Add(r.leaderOnly)
	_ = mgr.Add(r.everywhere)
	r.running = start(t, mgr)
	return r
}

func TestLeaderElectionOneLeaderAndFailover(t *testing.T) {
	s := memstore.New()
	a := newReplica(t, s, "a")
	<-a.mgr.Elected()
	b := newReplica(t, s, "b")
	eventually(t, "both replicas' non-leader runnables", func() bool {
		return a.everywhere.running.Load() == 1 && b.everywhere.running.Load() == 1
	})
	eventually(t, "a's leader-only runnable", func() bool { return a.leaderOnly.running.Load() == 1 })
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if b.leaderOnly.running.Load() != 0 || b.mgr.IsLeader() {
			t.Fatal("b runs leader-only work while a leads")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.stop(t) // a dies without releasing: b takes over after the lease expires
	<-b.mgr.Elected()
	eventually(t, "b's leader-only runnable", func() bool { return b.leaderOnly.running.Load() == 1 })
	if !b.mgr.IsLeader() {
		t.Fatal("b not leader")
	}
}

func TestLeadershipLossStopsOnlyLeaderRunnables(t *testing.T) {
	s := memstore.New()
	a := newReplica(t, s, "a")
	<-a.mgr.Elected()
	eventually(t, "leader-only running", func() bool { return a.leaderOnly.running.Load() == 1 })

	// Another identity grabs the lease (as if a's renewals were lost).
	if _, err := store.For[*api.Lease](s).Mutate(context.Background(), "default", "controller-manager", func(l *api.Lease) error {
		l.Spec.HolderIdentity = "intruder"
		l.Spec.RenewTime = timestamppb.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "leader-only runnable stopped", func() bool { return a.leaderOnly.running.Load() == 0 })
	if a.everywhere.running.Load() != 1 || a.everywhere.starts.Load() != 1 {
		t.Fatal("non-leader runnable was stopped or restarted by the leadership loss")
	}
	// The intruder never renews: a wins again and restarts its leader work.
	eventually(t, "leader-only runnable restarted", func() bool {
		return a.leaderOnly.running.Load() == 1 && a.leaderOnly.starts.Load() == 2
	})
}

func TestListerForSharesTheInformer(t *testing.T) {
	s := memstore.New()
	mgr, err := manager.New(manager.Options{Store: s, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := manager.ListerFor[*api.Pod](mgr)
	if err != nil {
		t.Fatal(err)
	}
	inf, _ := mgr.Informer(api.KindPod)
	if pods.Informer() != inf {
		t.Fatal("ListerFor made a second informer")
	}
	start(t, mgr)
	if _, err := s.Create(context.Background(), &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod in cache", func() bool { _, ok := pods.Get("ns", "p"); return ok })
}
