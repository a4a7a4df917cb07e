package workqueue

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/clock"
)

func newQueue[T comparable](t *testing.T, cfg Config[T]) *Queue[T] {
	t.Helper()
	q := New(cfg)
	t.Cleanup(q.ShutDown)
	return q
}

func get[T comparable](t *testing.T, q *Queue[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, ok := q.Get(ctx)
	if !ok {
		t.Fatalf("Get: no item")
	}
	return it
}

// eventually polls cond until it holds or a generous deadline passes.
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

func TestDeduplicates(t *testing.T) {
	q := newQueue(t, Config[string]{})
	for _, k := range []string{"a", "b", "a", "c", "b", "a"} {
		q.Add(k)
	}
	if got := q.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
	for _, want := range []string{"a", "b", "c"} {
		if got := get(t, q); got != want {
			t.Fatalf("Get = %q, want %q (FIFO order)", got, want)
		}
	}
}

func TestNotHandedOutTwiceWhileProcessing(t *testing.T) {
	q := newQueue(t, Config[string]{})
	q.Add("a")
	it := get(t, q)
	q.Add("a") // re-added while processing: must wait for Done
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len while processing = %d, want 0", got)
	}
	q.Done(it)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len after Done = %d, want 1", got)
	}
	q.Done(get(t, q))
	if got := q.Len(); got != 0 {
		t.Fatalf("Len after second Done = %d, want 0", got)
	}
}

func TestConcurrentWorkersNeverShareAKey(t *testing.T) {
	q := newQueue(t, Config[int]{})
	var active [10]atomic.Int32
	var processed atomic.Int64
	var violations atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, ok := q.Get(ctx)
				if !ok {
					return
				}
				if active[k].Add(1) != 1 {
					violations.Add(1)
				}
				processed.Add(1)
				active[k].Add(-1)
				q.Done(k)
			}
		}()
	}
	for i := range 10000 {
		q.Add(i % 10)
	}
	if err := q.ShutDownWithDrain(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d times a key was processed by two workers at once", v)
	}
	if processed.Load() < 10 {
		t.Fatalf("processed %d items, want at least one per key", processed.Load())
	}
}

func TestAddAfterWithFakeClock(t *testing.T) {
	fc := clock.NewFake(time.Unix(1000, 0))
	q := newQueue(t, Config[string]{Clock: fc})
	q.AddAfter("late", 2*time.Second)
	q.AddAfter("early", time.Second)
	q.AddAfter("late", 5*time.Second) // later time loses: still 2s
	eventually(t, "the delay loop to wait", func() bool { return fc.Waiters() > 0 })
	if q.Len() != 0 || q.Delayed() != 2 {
		t.Fatalf("Len=%d Delayed=%d, want 0 and 2", q.Len(), q.Delayed())
	}
	fc.Step(time.Second)
	eventually(t, "early to be ready", func() bool { return q.Len() == 1 })
	if got := get(t, q); got != "early" {
		t.Fatalf("Get = %q, want early", got)
	}
	fc.Step(time.Second)
	eventually(t, "late to be ready", func() bool { return q.Len() == 1 })
	if got := get(t, q); got != "late" {
		t.Fatalf("Get = %q, want late", got)
	}
	if q.Delayed() != 0 {
		t.Fatalf("Delayed = %d, want 0", q.Delayed())
	}
}

// stepOnWait is a fake clock that steps itself by step the first time a
// wait is registered on it: after the waiter read the time, before its wait
// exists, as a test stepping the clock at that moment would. read is closed
// at the first reading of the clock.
type stepOnWait struct {
	*clock.Fake
	step               time.Duration
	readOnce, waitOnce sync.Once
	read, stepped      chan struct{}
}

func newStepOnWait(now time.Time, step time.Duration) *stepOnWait {
	return &stepOnWait{Fake: clock.NewFake(now), step: step, read: make(chan struct{}), stepped: make(chan struct{})}
}

func (c *stepOnWait) Now() time.Time {
	c.readOnce.Do(func() { close(c.read) })
	return c.Fake.Now()
}

func (c *stepOnWait) beforeWait() {
	c.waitOnce.Do(func() {
		c.Fake.Step(c.step)
		close(c.stepped)
	})
}

func (c *stepOnWait) After(d time.Duration) <-chan time.Time {
	c.beforeWait()
	return c.Fake.After(d)
}

func (c *stepOnWait) At(t time.Time) <-chan time.Time {
	c.beforeWait()
	return c.Fake.At(t)
}

// A delayed item is ready when the clock reaches its time, even if the
// clock moved while the delay loop set its timer. (The loop used to wait
// for the item's time minus the time it had read, so a step at that moment
// made the item late by the step, and a caller stepping no further never
// saw it.)
func TestDelayedItemOnTimeWhenClockMovesAsTimerIsSet(t *testing.T) {
	start := time.Unix(1000, 0)
	c := newStepOnWait(start, 30*time.Second)
	q := newQueue(t, Config[string]{Clock: c})
	// The delay loop reads the clock as it starts, under the queue's lock;
	// the add below then wakes it once, and it sets one timer, for "k".
	select {
	case <-c.read:
	case <-time.After(5 * time.Second):
		t.Fatal("the delay loop never started")
	}
	q.AddAfter("k", time.Minute)
	select {
	case <-c.stepped:
	case <-time.After(5 * time.Second):
		t.Fatal("the delay loop never waited for the item")
	}
	c.Step(29 * time.Second) // 1s before the item's time
	if q.Len() != 0 {
		t.Fatal("item ready before its time")
	}
	c.Step(time.Second)
	if got := get(t, q); got != "k" {
		t.Fatalf("Get = %q, want k", got)
	}
}

// AddAt keeps to its deadline whatever the clock did since the caller read
// it: a deadline already passed queues the item at once, a future one
// fires when the clock gets there.
func TestAddAt(t *testing.T) {
	start := time.Unix(1000, 0)
	fc := clock.NewFake(start)
	q := newQueue(t, Config[string]{Clock: fc})
	q.AddAt("past", start.Add(-time.Second))
	q.AddAt("now", start)
	if q.Len() != 2 || q.Delayed() != 0 {
		t.Fatalf("Len=%d Delayed=%d, want 2 and 0 (deadlines reached are added at once)", q.Len(), q.Delayed())
	}
	q.Done(get(t, q))
	q.Done(get(t, q))
	q.AddAt("later", start.Add(time.Minute))
	q.AddAt("later", start.Add(2*time.Minute)) // later time loses
	fc.Step(59 * time.Second)
	if q.Len() != 0 || q.Delayed() != 1 {
		t.Fatalf("Len=%d Delayed=%d, want 0 and 1", q.Len(), q.Delayed())
	}
	fc.Step(time.Second)
	if got := get(t, q); got != "later" {
		t.Fatalf("Get = %q, want later", got)
	}
}

func TestExponentialBackoff(t *testing.T) {
	rl := NewExponential[string](10*time.Millisecond, 100*time.Millisecond)
	tests := []time.Duration{10, 20, 40, 80, 100, 100}
	for i, want := range tests {
		if got := rl.When("k"); got != want*time.Millisecond {
			t.Fatalf("failure %d: When = %v, want %v", i+1, got, want*time.Millisecond)
		}
	}
	if got := rl.NumRequeues("k"); got != len(tests) {
		t.Fatalf("NumRequeues = %d, want %d", got, len(tests))
	}
	if got := rl.When("other"); got != 10*time.Millisecond {
		t.Fatalf("other key: When = %v, want 10ms (per-item)", got)
	}
	rl.Forget("k")
	if got := rl.When("k"); got != 10*time.Millisecond {
		t.Fatalf("after Forget: When = %v, want 10ms", got)
	}
	for range 100 {
		rl.When("huge")
	}
	if got := rl.When("huge"); got != 100*time.Millisecond {
		t.Fatalf("after many failures: When = %v, want the cap", got)
	}
}

func TestAddRateLimitedUsesBackoff(t *testing.T) {
	fc := clock.NewFake(time.Unix(0, 0))
	q := newQueue(t, Config[string]{Clock: fc, RateLimiter: NewExponential[string](time.Second, time.Minute)})
	q.AddRateLimited("k") // 1s
	eventually(t, "delay loop", func() bool { return fc.Waiters() > 0 })
	fc.Step(999 * time.Millisecond)
	if q.Len() != 0 {
		t.Fatal("item ready before its backoff")
	}
	fc.Step(time.Millisecond)
	eventually(t, "retry to be ready", func() bool { return q.Len() == 1 })
	q.Done(get(t, q))
	if got := q.NumRequeues("k"); got != 1 {
		t.Fatalf("NumRequeues = %d, want 1", got)
	}
	q.Forget("k")
	if got := q.NumRequeues("k"); got != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", got)
	}
}

func TestShutDownDrains(t *testing.T) {
	q := newQueue(t, Config[string]{})
	q.Add("a")
	q.Add("b")
	q.AddAfter("delayed", time.Hour)
	inFlight := get(t, q) // "a" is being processed
	drained := make(chan error, 1)
	go func() { drained <- q.ShutDownWithDrain(context.Background()) }()
	eventually(t, "shutdown", q.ShuttingDown)
	q.Add("new") // ignored after shutdown
	if got := get(t, q); got != "b" {
		t.Fatalf("Get after shutdown = %q, want queued b", got)
	}
	q.Done("b")
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v while %q was still in flight", err, inFlight)
	default:
	}
	q.Done(inFlight)
	if err := <-drained; err != nil {
		t.Fatalf("ShutDownWithDrain: %v", err)
	}
	if _, ok := q.Get(context.Background()); ok {
		t.Fatal("Get after drain returned an item")
	}
}

func TestGetHonoursContext(t *testing.T) {
	q := newQueue(t, Config[string]{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := q.Get(ctx); ok {
		t.Fatal("Get on an empty queue with a cancelled ctx returned an item")
	}
}

func BenchmarkAddGetDone(b *testing.B) {
	q := New(Config[int]{})
	defer q.ShutDown()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Add(i & 1023)
		k, _ := q.Get(ctx)
		q.Done(k)
	}
}
