package leaderelection_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/leaderelection"
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

func fastConfig(s store.Store, id string) leaderelection.Config {
	return leaderelection.Config{
		Store:         s,
		Name:          "test-lease",
		Identity:      id,
		LeaseDuration: 300 * time.Millisecond,
		RenewDeadline: 200 * time.Millisecond,
		RetryPeriod:   20 * time.Millisecond,
	}
}

type candidate struct {
	e       *leaderelection.Elector
	leading atomic.Bool
	cancel  context.CancelFunc
	done    chan error
}

// campaign runs an elector in a loop like the manager does, until stopped.
func campaign(t *testing.T, cfg leaderelection.Config) *candidate {
	t.Helper()
	e, err := leaderelection.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{e: e, cancel: cancel, done: make(chan error, 1)}
	go func() {
		for {
			err := e.Run(ctx, func(leadCtx context.Context) {
				c.leading.Store(true)
				<-leadCtx.Done()
				c.leading.Store(false)
			})
			if ctx.Err() != nil {
				c.done <- err
				return
			}
		}
	}()
	t.Cleanup(c.stop)
	return c
}

func (c *candidate) stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
		c.cancel = nil
	}
}

func TestValidate(t *testing.T) {
	s := memstore.New()
	tests := []struct {
		name string
		mod  func(*leaderelection.Config)
	}{
		{"no store", func(c *leaderelection.Config) { c.Store = nil }},
		{"no name", func(c *leaderelection.Config) { c.Name = "" }},
		{"no identity", func(c *leaderelection.Config) { c.Identity = "" }},
		{"renew >= lease", func(c *leaderelection.Config) { c.RenewDeadline = c.LeaseDuration }},
		{"retry >= renew", func(c *leaderelection.Config) { c.RetryPeriod = c.RenewDeadline }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fastConfig(s, "a")
			tt.mod(&cfg)
			if _, err := leaderelection.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	if _, err := leaderelection.New(leaderelection.Config{Store: s, Name: "l", Identity: "a"}); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
}

func TestOneLeaderThenTakeoverAfterExpiry(t *testing.T) {
	s := memstore.New()
	// Longer than fastConfig: a must keep renewing for the whole check
	// below even when a loaded machine delays it by a few hundred ms (a
	// leader that cannot renew in time rightly loses the lease).
	cfg := func(id string) leaderelection.Config {
		c := fastConfig(s, id)
		c.LeaseDuration, c.RenewDeadline = 1500*time.Millisecond, time.Second
		return c
	}
	a := campaign(t, cfg("a"))
	eventually(t, "a to lead", a.leading.Load)
	b := campaign(t, cfg("b"))
	eventually(t, "b to observe a", func() bool { return b.e.Leader() == "a" })
	// b must stay a follower while a renews: several lease durations.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if b.leading.Load() || b.e.IsLeader() {
			t.Fatal("b leads while a holds a valid lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
	lease, err := store.For[*api.Lease](s).Get(context.Background(), "default", "test-lease")
	if err != nil {
		t.Fatal(err)
	}
	if lease.GetSpec().GetHolderIdentity() != "a" || lease.GetSpec().GetLeaseTransitions() != 0 {
		t.Fatalf("lease = %v", lease.GetSpec())
	}

	stoppedAt := time.Now()
	a.stop() // no release: b must wait for the lease to expire
	if a.e.IsLeader() {
		t.Fatal("a still leader after stop")
	}
	eventually(t, "b to take over", b.leading.Load)
	if waited := time.Since(stoppedAt); waited < 1200*time.Millisecond {
		t.Fatalf("b took over after %v, before the lease could expire", waited)
	}
	lease, err = store.For[*api.Lease](s).Get(context.Background(), "default", "test-lease")
	if err != nil {
		t.Fatal(err)
	}
	if lease.GetSpec().GetHolderIdentity() != "b" || lease.GetSpec().GetLeaseTransitions() != 1 {
		t.Fatalf("lease after takeover = %v", lease.GetSpec())
	}
}

func TestReleaseOnCancelHandsOverAtOnce(t *testing.T) {
	s := memstore.New()
	cfgA := fastConfig(s, "a")
	cfgA.ReleaseOnCancel = true
	cfgA.LeaseDuration = time.Hour // without release, b would wait an hour
	cfgA.RenewDeadline = 30 * time.Minute
	a := campaign(t, cfgA)
	eventually(t, "a to lead", a.leading.Load)
	cfgB := fastConfig(s, "b")
	cfgB.LeaseDuration, cfgB.RenewDeadline = time.Hour, 30*time.Minute
	b := campaign(t, cfgB)
	eventually(t, "b to observe a", func() bool { return b.e.Leader() == "a" })
	a.stop()
	eventually(t, "b to take over the released lease", b.leading.Load)
}

func TestLeaderStepsDownWhenLeaseIsTaken(t *testing.T) {
	s := memstore.New()
	a := campaign(t, fastConfig(s, "a"))
	eventually(t, "a to lead", a.leading.Load)
	// Someone else writes the lease (as if a's renewals had been lost).
	leases := store.For[*api.Lease](s)
	if _, err := leases.Mutate(context.Background(), "default", "test-lease", func(l *api.Lease) error {
		l.Spec.HolderIdentity = "intruder"
		l.Spec.RenewTime = timestamppb.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to step down", func() bool { return !a.leading.Load() })
	// The intruder never renews, so a wins again after the lease expires.
	eventually(t, "a to lead again", a.leading.Load)
}

func TestRunReturnsErrLeadershipLostWhenRenewFails(t *testing.T) {
	s := memstore.New()
	e, err := leaderelection.New(fastConfig(s, "a"))
	if err != nil {
		t.Fatal(err)
	}
	var remove func()
	defer func() {
		if remove != nil {
			remove()
		}
	}()
	err = e.Run(context.Background(), func(leadCtx context.Context) {
		// Once leading, make every store call fail.
		remove = s.AddHook(func(context.Context, memstore.Operation, string) error { return store.ErrUnavailable })
		<-leadCtx.Done()
	})
	if !errors.Is(err, leaderelection.ErrLeadershipLost) {
		t.Fatalf("Run = %v, want ErrLeadershipLost", err)
	}
	if e.IsLeader() {
		t.Fatal("still leader after losing the lease")
	}
}

// With a fake clock: a follower takes over exactly when LeaseDuration has
// passed on its own clock since it last saw the lease change.
func TestTakeoverTimingWithFakeClock(t *testing.T) {
	s := memstore.New()
	fc := clock.NewFake(time.Unix(1_000_000, 0))
	cfg := func(id string) leaderelection.Config {
		return leaderelection.Config{Store: s, Name: "l", Identity: id, Clock: fc,
			LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
	}
	a, err := leaderelection.New(cfg("a"))
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	aDone := make(chan error, 1)
	go func() { aDone <- a.Run(actx, func(ctx context.Context) { <-ctx.Done() }) }()
	eventually(t, "a to lead", a.IsLeader)
	acancel() // a dies without releasing
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	// Fire the renew timer a left behind, so Waiters counts only b's.
	fc.Step(2 * time.Second)
	if n := fc.Waiters(); n != 0 {
		t.Fatalf("%d stale waiters", n)
	}

	b, err := leaderelection.New(cfg("b"))
	if err != nil {
		t.Fatal(err)
	}
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	var bLeading atomic.Bool
	go func() { _ = b.Run(bctx, func(ctx context.Context) { bLeading.Store(true); <-ctx.Done() }) }()
	// b first sees the lease at the fake time t0; it retries every 2s.
	for elapsed := time.Duration(0); elapsed < 14*time.Second; elapsed += 2 * time.Second {
		eventually(t, "b to wait for its next attempt", func() bool { return fc.Waiters() > 0 })
		if bLeading.Load() {
			t.Fatalf("b took over after %v, before the 15s lease expired", elapsed)
		}
		fc.Step(2 * time.Second)
	}
	// At t0+14s b still waits; at t0+16s the lease has expired.
	eventually(t, "b to wait", func() bool { return fc.Waiters() > 0 })
	fc.Step(2 * time.Second)
	eventually(t, "b to take over", bLeading.Load)
}

func TestHealthyFailsWhenLeaderCannotRenew(t *testing.T) {
	s := memstore.New()
	fc := clock.NewFake(time.Unix(1_000_000, 0))
	e, err := leaderelection.New(leaderelection.Config{Store: s, Name: "l", Identity: "a", Clock: fc,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Healthy(); err != nil {
		t.Fatalf("follower unhealthy: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Run(ctx, func(ctx context.Context) { <-ctx.Done() }) }()
	eventually(t, "leading", e.IsLeader)
	if err := e.Healthy(); err != nil {
		t.Fatalf("fresh leader unhealthy: %v", err)
	}
	// The store hangs (every Lease read blocks) and time passes the lease
	// duration: the leader has not renewed and must report unhealthy.
	gate := make(chan struct{})
	remove := s.AddHook(func(ctx context.Context, op memstore.Operation, kind string) error {
		if kind != api.KindLease {
			return nil
		}
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	defer remove()
	eventually(t, "the renew loop to wait", func() bool { return fc.Waiters() > 0 })
	fc.Step(16 * time.Second)
	if err := e.Healthy(); err == nil {
		t.Fatal("leader that has not renewed for 16s reports healthy")
	}
	close(gate) // the store answers again: the blocked renewal succeeds
	eventually(t, "healthy after renewing", func() bool { return e.Healthy() == nil })
	if !e.IsLeader() {
		t.Fatal("leader stepped down although its renewal succeeded")
	}
}
