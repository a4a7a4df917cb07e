package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func testPod(ns, name, node string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "web"}},
		Spec:     &api.PodSpec{NodeName: node, Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func snapshotBytes(t *testing.T, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDeterministicApply applies commands prepared on one store, through
// their wire form, to another, and checks both end in the same state.
func TestDeterministicApply(t *testing.T) {
	ctx := ctxT(t)
	leader, follower := New(), New()
	apply := func(ops ...store.Op) ([]api.Object, error) {
		t.Helper()
		cmd, err := leader.Prepare(ctx, ops...)
		if err != nil {
			return nil, err
		}
		data, err := cmd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := UnmarshalCommand(data, follower.Registry())
		if err != nil {
			t.Fatal(err)
		}
		res, err := leader.Apply(cmd)
		_, ferr := follower.Apply(decoded)
		if (err == nil) != (ferr == nil) || (err != nil && err.Error() != ferr.Error()) {
			t.Fatalf("leader and follower disagree: %v vs %v", err, ferr)
		}
		return res, err
	}
	gen := testPod("ns", "", "n1")
	gen.Metadata.GenerateName = "web-"
	res, err := apply(store.CreateOp(gen), store.CreateOp(testPod("ns", "a", "")))
	if err != nil {
		t.Fatal(err)
	}
	a := res[1].(*api.Pod)
	a.Spec.NodeName = "n2"
	if _, err := apply(store.UpdateOp(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(store.UpdateOp(a)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	fin := testPod("ns", "fin", "")
	fin.Metadata.Finalizers = []string{"x"}
	if _, err := apply(store.CreateOp(fin), store.CreateOp(&api.Secret{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "s"}, StringData: map[string]string{"k": "v"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(store.DeleteOp(api.KindPod, "ns", "fin", store.DeleteOptions{})); err != nil {
		t.Fatal(err)
	}
	st := testPod("ns", "a", "")
	st.Status = &api.PodStatus{Phase: "Running"}
	if _, err := apply(store.UpdateStatusOp(st)); err != nil {
		t.Fatal(err)
	}
	if _, err := follower.Apply(NewCompactCommand(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.Apply(NewCompactCommand(3)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, leader), snapshotBytes(t, follower)) {
		t.Fatal("leader and follower states differ")
	}
	if leader.CompactedRevision() != follower.CompactedRevision() {
		t.Fatal("compacted revisions differ")
	}
}

func TestSnapshotRestore(t *testing.T) {
	ctx := ctxT(t)
	src := New()
	for i := range 50 {
		if _, err := src.Create(ctx, testPod("ns", fmt.Sprintf("p%02d", i), fmt.Sprintf("n%d", i%5))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Delete(ctx, api.KindPod, "ns", "p07", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n0"}}); err != nil {
		t.Fatal(err)
	}
	data := snapshotBytes(t, src)

	dst := New()
	if _, err := dst.Create(ctx, testPod("ns", "stale", "n0")); err != nil {
		t.Fatal(err)
	}
	w, err := dst.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), store.ErrCompacted) {
		t.Fatalf("watch across Restore ended with %v, want ErrCompacted", w.Err())
	}
	srcRev, _ := src.Revision(ctx)
	dstRev, _ := dst.Revision(ctx)
	if srcRev != dstRev {
		t.Fatalf("revision after restore %d, want %d", dstRev, srcRev)
	}
	if !bytes.Equal(data, snapshotBytes(t, dst)) {
		t.Fatal("restored state differs")
	}
	res, err := dst.List(ctx, api.KindPod, store.ListOptions{FieldSelector: "spec.nodeName=n3"})
	if err != nil || len(res.Items) != 10 {
		t.Fatalf("indexed list after restore: %d items, %v", len(res.Items), err)
	}
	if _, err := dst.Get(ctx, api.KindPod, "ns", "stale"); !store.IsNotFound(err) {
		t.Fatalf("object from before Restore: %v", err)
	}
	if _, err := dst.Watch(ctx, api.KindPod, store.WatchOptions{Revision: 1}); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch from before the snapshot: %v", err)
	}
	// The restored store goes on from the snapshot's revision.
	out, err := dst.Create(ctx, testPod("ns", "new", ""))
	if err != nil || out.GetMetadata().GetResourceVersion() != srcRev+1 {
		t.Fatalf("create after restore: %v, %v", out, err)
	}
	if err := dst.Restore(bytes.NewReader([]byte("garbage"))); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Restore of garbage: %v", err)
	}
	if _, err := dst.Get(ctx, api.KindPod, "ns", "new"); err != nil {
		t.Fatalf("failed Restore changed the state: %v", err)
	}
}

func TestFaults(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	boom := errors.New("boom")
	remove := s.InjectFault(Fault{Op: OpCreate, Kind: api.KindPod, Err: fmt.Errorf("injected: %w: %w", store.ErrUnavailable, boom), Count: 2})
	for i := range 2 {
		_, err := s.Create(ctx, testPod("ns", "p", ""))
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, boom) {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if _, err := s.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "cm"}}); err != nil {
		t.Fatalf("fault for pods hit a ConfigMap: %v", err)
	}
	if _, err := s.Create(ctx, testPod("ns", "p", "")); err != nil {
		t.Fatalf("fault fired more than Count times: %v", err)
	}
	remove()

	// Latency honours the context.
	s.InjectFault(Fault{Op: OpGet, Delay: time.Hour})
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := s.Get(short, api.KindPod, "ns", "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed get: %v", err)
	}

	var seen []string
	s.AddHook(func(_ context.Context, op Operation, kind string) error {
		seen = append(seen, string(op)+":"+kind)
		return nil
	})
	_, _ = s.List(ctx, api.KindPod, store.ListOptions{})
	_, _ = s.Txn(ctx, store.CheckOp(api.KindPod, "ns", "p", 0))
	if fmt.Sprint(seen) != "[list:Pod txn:]" {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestSlowWatcherCancelled(t *testing.T) {
	ctx := ctxT(t)
	s := New(WithWatchBuffer(2, 10))
	slow, err := s.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for range slow.Events() {
		n++
	}
	if !errors.Is(slow.Err(), store.ErrTooSlow) {
		t.Fatalf("slow watcher ended with %v after %d events, want ErrTooSlow", slow.Err(), n)
	}
	if n > 12 {
		t.Fatalf("slow watcher got %d events, more than channel plus backlog", n)
	}
}

func TestHistoryLimits(t *testing.T) {
	ctx := ctxT(t)
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	s := New(WithHistory(10, time.Minute), WithClock(clock.Now))
	for i := range 30 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	if c := s.CompactedRevision(); c != initialRevision+20 {
		t.Fatalf("compacted revision after 30 writes with history 10: %d, want %d", c, initialRevision+20)
	}
	if _, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Revision: 5}); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch from revision 5: %v", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := s.Create(ctx, testPod("ns", "late", "")); err != nil {
		t.Fatal(err)
	}
	if c := s.CompactedRevision(); c != initialRevision+30 {
		t.Fatalf("compacted revision after the age limit: %d, want %d", c, initialRevision+30)
	}
	if err := s.Compact(ctx, 1000); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("compact to the future: %v", err)
	}
}

func TestCompactBefore(t *testing.T) {
	ctx := ctxT(t)
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	s := New(WithClock(clock.Now))
	for i := range 5 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), "")); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if err := s.CompactBefore(ctx, time.Unix(1_000_003, 0).UnixNano()); err != nil {
		t.Fatal(err)
	}
	if c := s.CompactedRevision(); c != initialRevision+3 {
		t.Fatalf("compacted revision %d, want %d", c, initialRevision+3)
	}
}

// TestPruning checks that compaction drops deleted keys and old versions.
func TestPruning(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	for i := range 10 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := s.Delete(ctx, api.KindPod, "ns", fmt.Sprintf("p%d", i), store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := s.UpdateStatus(ctx, &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p9"}, Status: &api.PodStatus{Phase: "Running"}}); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.RLock()
	before := s.tree.Len()
	s.mu.RUnlock()
	if before != 10 {
		t.Fatalf("tree has %d keys before compaction, want 10 (tombstones kept)", before)
	}
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := s.tree.Len(); n != 5 {
		t.Fatalf("tree has %d keys after compaction, want 5", n)
	}
	s.tree.Ascend(func(r *record) bool {
		if r.head.Load().prev.Load() != nil {
			t.Errorf("%q keeps old versions after compaction", r.key)
		}
		return true
	})
	if s.history.len() != 0 {
		t.Fatalf("history keeps %d events after compacting everything", s.history.len())
	}
}

func TestWatchIndexDelivery(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	const nodes = 20
	watches := make([]store.Watch, nodes)
	for i := range watches {
		w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: fmt.Sprintf("spec.nodeName=n%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		watches[i] = w
	}
	for i := range nodes * 3 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), fmt.Sprintf("n%d", i%nodes))); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range watches {
		for j := range 3 {
			ev := <-w.Events()
			if got, want := ev.Object.(*api.Pod).Spec.NodeName, fmt.Sprintf("n%d", i); got != want {
				t.Fatalf("watch %d event %d for node %s", i, j, got)
			}
		}
		select {
		case ev := <-w.Events():
			t.Fatalf("watch %d got an extra event %v", i, ev)
		default:
		}
	}
	s.hub.mu.Lock()
	count := s.hub.count
	s.hub.mu.Unlock()
	if count != nodes {
		t.Fatalf("hub counts %d watchers, want %d", count, nodes)
	}
}

func TestCommandErrors(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	if _, err := s.Prepare(ctx); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty command: %v", err)
	}
	if _, err := s.Prepare(ctx, store.CreateOp(testPod("ns", "a", "")), store.UpdateOp(testPod("ns", "a", ""))); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("two writes of one key: %v", err)
	}
	if _, err := UnmarshalCommand([]byte{0xff}, s.Registry()); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("garbage command: %v", err)
	}
	if _, err := s.UpdateStatus(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("UpdateStatus of a kind without status: %v", err)
	}
	_ = s.Close()
	if _, err := s.Get(ctx, api.KindPod, "ns", "a"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get after Close: %v", err)
	}
}

func TestApplyResultsAreCopies(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	cmd, err := s.Prepare(ctx, store.CreateOp(testPod("ns", "a", "")))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Apply(cmd)
	if err != nil {
		t.Fatal(err)
	}
	res[0].(*api.Pod).Spec.NodeName = "mutated"
	got, _ := s.Get(ctx, api.KindPod, "ns", "a")
	if proto.Equal(got, res[0]) {
		t.Fatal("Apply result shares state with the store")
	}
}

// TestNoGoroutineLeak checks that the dispatcher and drain goroutines end
// once every watch has ended.
func TestNoGoroutineLeak(t *testing.T) {
	ctx := ctxT(t)
	base := runtime.NumGoroutine()
	s := New(WithWatchBuffer(1, 1000))
	var ws []store.Watch
	for i := range 10 {
		w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: fmt.Sprintf("spec.nodeName=n%d", i%2)})
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	for i := range 20 {
		if _, err := s.Create(ctx, testPod("ns", fmt.Sprintf("p%d", i), fmt.Sprintf("n%d", i%2))); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ws {
		w.Stop()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestGoFieldName(t *testing.T) {
	s := New()
	for _, k := range api.BuiltinKinds() {
		ki, err := s.kind(k.Kind)
		if err != nil {
			t.Fatal(err)
		}
		if ki.statusField == nil {
			continue
		}
		if ki.statusGoName != "Status" {
			t.Errorf("%s: status Go field %q, want Status", k.Kind, ki.statusGoName)
		}
	}
}

func TestUpdateIgnoresGivenStatus(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	p := testPod("ns", "p", "n1")
	p.Status = &api.PodStatus{Phase: "Running"}
	created, err := s.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}
	in := testPod("ns", "p", "n1")
	in.Spec.Containers[0].Image = "busybox:2"
	in.Status = &api.PodStatus{Phase: "Failed", Message: "from the update"}
	got, err := s.Update(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.(*api.Pod).GetStatus().GetPhase() != "Running" || got.(*api.Pod).GetSpec().GetContainers()[0].GetImage() != "busybox:2" {
		t.Fatalf("update result: %v", got)
	}
	if in.GetStatus().GetPhase() != "Failed" {
		t.Fatal("update changed its input")
	}
}

func TestApplyDiscard(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	cmd, err := s.Prepare(ctx, store.CreateOp(testPod("ns", "p", "n1")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyDiscard(cmd); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, api.KindPod, "ns", "p")
	if err != nil {
		t.Fatal(err)
	}
	if got.GetMetadata().GetResourceVersion() != initialRevision+1 || got.GetMetadata().GetUid() == "" {
		t.Fatalf("stored pod: %v", got)
	}
	again, err := s.Prepare(ctx, store.CreateOp(testPod("ns", "p", "n1")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyDiscard(again); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
}
