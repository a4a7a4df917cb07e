package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// cutter wraps a handler: the first maxCuts JSON watch streams are aborted
// after cutAfter events each, and while refuse is set every watch is
// answered 503.
type cutter struct {
	next     http.Handler
	cutAfter int
	maxCuts  int64
	refuse   atomic.Bool
	opened   atomic.Int64
}

func (c *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("watch") != "true" {
		c.next.ServeHTTP(w, r)
		return
	}
	if c.refuse.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Status","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"refusing watches"}`))
		return
	}
	if c.opened.Add(1) > c.maxCuts {
		c.next.ServeHTTP(w, r)
		return
	}
	c.next.ServeHTTP(&cuttingWriter{ResponseWriter: w, left: c.cutAfter}, r)
}

// cuttingWriter aborts the connection once left events (lines) have been
// written; bookmarks count too.
type cuttingWriter struct {
	http.ResponseWriter
	left int
}

func (w *cuttingWriter) Write(b []byte) (int, error) {
	if w.left <= 0 {
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.left -= bytes.Count(b, []byte("\n"))
	return w.ResponseWriter.Write(b)
}

func (w *cuttingWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

func newCutterEnv(t *testing.T, cutAfter int, memOpts ...memstore.Option) (*memstore.Store, *cutter, *remote.Client) {
	t.Helper()
	mem := memstore.New(append([]memstore.Option{memstore.WithBookmarkInterval(time.Hour)}, memOpts...)...)
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	cut := &cutter{next: srv.Handler(), cutAfter: cutAfter, maxCuts: 6}
	hs := httptest.NewServer(cut)
	t.Cleanup(hs.Close)
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}, JSON: remote.KubernetesJSON, WatchRetryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return mem, cut, c
}

func nextEvent(t *testing.T, w store.Watch) store.Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch closed: %v", w.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return store.Event{}
}

// TestWatchResumesAfterDrops cuts every watch stream after two events, also
// in the middle of a transaction's events (which share one revision), and
// checks that the client delivers every event once, in order.
func TestWatchResumesAfterDrops(t *testing.T) {
	for _, cutAfter := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("cut after %d", cutAfter), func(t *testing.T) {
			mem, cut, c := newCutterEnv(t, cutAfter)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Revision 1 is special (a watch cannot start before it), so
			// the test starts later.
			if _, err := mem.Create(ctx, testPod("other", "zero")); err != nil {
				t.Fatal(err)
			}
			w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			var want []string
			for i := range 3 {
				ops := make([]store.Op, 0, 4)
				for j := range 4 {
					name := fmt.Sprintf("txn%d-%d", i, j)
					ops = append(ops, store.CreateOp(testPod("ns", name)))
					want = append(want, name)
				}
				if _, err := mem.Txn(ctx, ops...); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("single%d", i)
				if _, err := mem.Create(ctx, testPod("ns", name)); err != nil {
					t.Fatal(err)
				}
				want = append(want, name)
			}
			last := int64(0)
			for i, name := range want {
				ev := nextEvent(t, w)
				if ev.Type != store.EventAdded || ev.Object.GetMetadata().GetName() != name {
					t.Fatalf("event %d = %s %s, want ADDED %s", i, ev.Type, ev.Object.GetMetadata().GetName(), name)
				}
				if ev.Revision < last {
					t.Fatalf("revision went back from %d to %d", last, ev.Revision)
				}
				last = ev.Revision
			}
			if n := cut.opened.Load(); n <= cut.maxCuts {
				t.Fatalf("only %d streams were opened; the cuts did not happen", n)
			}
			select {
			case ev, ok := <-w.Events():
				if ok {
					t.Fatalf("unexpected extra event %s %v", ev.Type, ev.Object.GetMetadata().GetName())
				}
				t.Fatalf("watch closed: %v", w.Err())
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

// TestWatchResumeCompacted: when the history the watch needs to resume is
// compacted while it is disconnected, the watch ends with ErrCompacted.
func TestWatchResumeCompacted(t *testing.T) {
	mem, cut, c := newCutterEnv(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cut.refuse.Store(true)
	if _, err := mem.Create(ctx, testPod("ns", "first")); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Create(ctx, testPod("ns", "a")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first", "a"} {
		if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != want {
			t.Fatalf("got %v, want %s", ev.Object, want)
		}
	}
	for _, n := range []string{"b", "c"} {
		if _, err := mem.Create(ctx, testPod("ns", n)); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := mem.Revision(ctx)
	if err := mem.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	cut.refuse.Store(false)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				if !errors.Is(w.Err(), store.ErrCompacted) {
					t.Fatalf("Err = %v, want ErrCompacted", w.Err())
				}
				return
			}
			t.Fatalf("unexpected event %s %s after compaction", ev.Type, ev.Object.GetMetadata().GetName())
		case <-time.After(10 * time.Second):
			t.Fatal("watch did not end")
		}
	}
}

// TestFailover runs two servers over one store: the client skips a dead
// address, and a watch moves to the other server when its server dies.
func TestFailover(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	a := httptest.NewServer(srv.Handler())
	b := httptest.NewServer(srv.Handler())
	t.Cleanup(b.Close)
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{deadURL, a.URL, b.URL}, WatchRetryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Create(ctx, testPod("ns", "p0")); err != nil {
		t.Fatalf("Create with a dead first server: %v", err)
	}
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := c.Create(ctx, testPod("ns", "p1")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != "p1" {
		t.Fatalf("got %s", ev.Object.GetMetadata().GetName())
	}
	// Server a dies: no new connections, and the open ones are cut.
	_ = a.Listener.Close()
	a.CloseClientConnections()
	t.Cleanup(a.Close)
	// A write that may have reached the dead server fails with
	// ErrUnavailable rather than being sent twice; the caller retries and
	// the retry goes to a live server.
	for _, n := range []string{"p2", "p3"} {
		_, err := c.Create(ctx, testPod("ns", n))
		if errors.Is(err, store.ErrUnavailable) {
			_, err = c.Create(ctx, testPod("ns", n))
		}
		if err != nil {
			t.Fatalf("Create after server a died: %v", err)
		}
	}
	for _, n := range []string{"p2", "p3"} {
		if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != n {
			t.Fatalf("got %s, want %s", ev.Object.GetMetadata().GetName(), n)
		}
	}
	if _, err := c.Get(ctx, api.KindPod, "ns", "p3"); err != nil {
		t.Fatal(err)
	}
}

// TestWatchUnavailable: a watch whose servers are all gone ends with
// ErrUnavailable after WatchRetryTimeout.
func TestWatchUnavailable(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	srv, _ := remote.NewServer(remote.ServerConfig{Store: mem})
	hs := httptest.NewServer(srv.Handler())
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}, WatchRetryTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w, err := c.Watch(context.Background(), api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The server dies: no new connections (close the listener first, or
	// the watch reconnects in between), and the open ones are cut.
	_ = hs.Listener.Close()
	hs.CloseClientConnections()
	t.Cleanup(hs.Close)
	select {
	case _, ok := <-w.Events():
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end")
	}
	if !errors.Is(w.Err(), store.ErrUnavailable) {
		t.Fatalf("Err = %v, want ErrUnavailable", w.Err())
	}
}

// TestWatchSurvivesServerTimeouts: the server ends every stream after
// MaxWatchTimeout; the client reconnects each time without losing events.
// Each write happens on a later stream than the one before.
func TestWatchSurvivesServerTimeouts(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, MaxWatchTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	counter := &cutter{next: srv.Handler()} // maxCuts 0: counts streams only
	hs := httptest.NewServer(counter)
	t.Cleanup(hs.Close)
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := mem.Create(ctx, testPod("other", "zero")); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i := range 8 {
		streams := counter.opened.Load()
		name := fmt.Sprintf("p%d", i)
		if _, err := mem.Create(ctx, testPod("ns", name)); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != name {
			t.Fatalf("event %d for %s, want %s", i, ev.Object.GetMetadata().GetName(), name)
		}
		for counter.opened.Load() == streams {
			select {
			case <-ctx.Done():
				t.Fatal("the server never ended the stream")
			case <-time.After(time.Millisecond):
			}
		}
	}
}

// TestUnavailableFailover: a 503 moves reads to the next server at once,
// while a write answered 503 is not resent (it might still apply) but the
// caller's retry goes to the next server.
func TestUnavailableFailover(t *testing.T) {
	ctx := context.Background()
	sick, healthy := memstore.New(), memstore.New()
	t.Cleanup(func() { _ = sick.Close(); _ = healthy.Close() })
	sick.InjectFault(memstore.Fault{Err: store.ErrUnavailable})
	var urls []string
	for _, m := range []*memstore.Store{sick, healthy} {
		srv, err := remote.NewServer(remote.ServerConfig{Store: m})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		urls = append(urls, hs.URL)
	}
	c, err := remote.NewClient(remote.ClientConfig{Servers: urls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := healthy.Create(ctx, testPod("ns", "there")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, api.KindPod, "ns", "there"); err != nil {
		t.Fatalf("Get did not fail over: %v", err)
	}
	// The read moved the client to the healthy server; point it back.
	c2, _ := remote.NewClient(remote.ClientConfig{Servers: urls})
	t.Cleanup(c2.Close)
	if _, err := c2.Create(ctx, testPod("ns", "new")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Create on the sick server = %v, want ErrUnavailable", err)
	}
	if _, err := healthy.Get(ctx, api.KindPod, "ns", "new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failed write was resent: %v", err)
	}
	if _, err := c2.Create(ctx, testPod("ns", "new")); err != nil {
		t.Fatalf("retried Create: %v", err)
	}
	if _, err := healthy.Get(ctx, api.KindPod, "ns", "new"); err != nil {
		t.Fatalf("the retry did not reach the healthy server: %v", err)
	}
}

// TestWatchIdleReconnect: a stream that goes silent (a dead peer that never
// closed the connection) is abandoned after WatchIdleTimeout and the watch
// carries on over a new one.
func TestWatchIdleReconnect(t *testing.T) {
	mem := memstore.New(memstore.WithBookmarkInterval(time.Hour))
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	var hung atomic.Bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" && hung.CompareAndSwap(false, true) {
			// The first watch: answer, then say nothing, ever.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(remote.HeaderWatchRevision, r.URL.Query().Get("resourceVersion"))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}, WatchIdleTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := mem.Create(ctx, testPod("other", "zero")); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "ns", Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := mem.Create(ctx, testPod("ns", "p")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != "p" {
		t.Fatalf("event for %s", ev.Object.GetMetadata().GetName())
	}
	if !hung.Load() {
		t.Fatal("the silent stream was never served")
	}
}
