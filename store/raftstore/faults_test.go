package raftstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func configMap(name, value string) *api.ConfigMap {
	return &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string]string{"v": value}}
}

// state is what a member holds: every ConfigMap in ns by name, as
// "resourceVersion/value", and the member's revision.
type state struct {
	rev     int64
	objects map[string]string
}

func memberState(ctx context.Context, s *Store) (state, error) {
	if err := s.WaitReady(ctx); err != nil {
		return state{}, err
	}
	l, err := s.List(ctx, api.KindConfigMap, store.ListOptions{Namespace: "ns"})
	if err != nil {
		return state{}, err
	}
	st := state{rev: l.Revision, objects: map[string]string{}}
	for _, o := range l.Items {
		cm := o.(*api.ConfigMap)
		st.objects[cm.Metadata.Name] = fmt.Sprintf("%d/%s", cm.Metadata.ResourceVersion, cm.Data["v"])
	}
	return st, nil
}

// assertConverged waits until every running member holds the same state,
// which contains every acknowledged name, and returns it.
func (c *cluster) assertConverged(t *testing.T, acked []string) state {
	t.Helper()
	var first state
	eventually(t, 30*time.Second, "members converge", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		members := c.running()
		var states []state
		for _, m := range members {
			st, err := memberState(ctx, m)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.ID(), err)
			}
			states = append(states, st)
		}
		for i := 1; i < len(states); i++ {
			if states[i].rev != states[0].rev || !maps.Equal(states[i].objects, states[0].objects) {
				var detail string
				for j, m := range members {
					m.fsm.mu.Lock()
					restores := m.fsm.restores
					m.fsm.mu.Unlock()
					detail += fmt.Sprintf("; %s: revision %d, %d objects, applied index %d, last index %d, %d snapshots restored",
						m.ID(), states[j].rev, len(states[j].objects), m.raft.AppliedIndex(), m.raft.LastIndex(), restores)
				}
				return fmt.Errorf("members differ%s", detail)
			}
		}
		first = states[0]
		return nil
	})
	for _, name := range acked {
		if _, ok := first.objects[name]; !ok {
			t.Fatalf("acknowledged write %s lost", name)
		}
	}
	return first
}

// load is clients writing ConfigMaps with fresh names to every running
// member, recording which writes were acknowledged.
type load struct {
	wg      sync.WaitGroup
	stop    atomic.Bool
	mu      sync.Mutex
	acked   []string
	okCount atomic.Int64
	errs    atomic.Int64
	lastErr atomic.Value
}

func startLoad(c *cluster, clients int) *load {
	l := &load{}
	for cl := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; !l.stop.Load(); i++ {
				m := c.get(cl % len(c.cfgs))
				if m == nil {
					m = c.get((cl + 1) % len(c.cfgs))
				}
				if m == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				name := fmt.Sprintf("w%d-%d", cl, i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := m.Create(ctx, configMap(name, name))
				cancel()
				if err != nil {
					l.errs.Add(1)
					l.lastErr.Store(err.Error())
					time.Sleep(5 * time.Millisecond)
					continue
				}
				l.okCount.Add(1)
				l.mu.Lock()
				l.acked = append(l.acked, name)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) waitAcks(t *testing.T, n int64) {
	t.Helper()
	target := l.okCount.Load() + n
	eventually(t, 30*time.Second, fmt.Sprintf("%d more acknowledged writes (last error %v)", n, l.lastErr.Load()), func() error {
		if got := l.okCount.Load(); got < target {
			return fmt.Errorf("%d of %d", got, target)
		}
		return nil
	})
}

func (l *load) finish() []string {
	l.stop.Store(true)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

func TestKillLeaderUnderLoad(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := startLoad(c, 8)
	l.waitAcks(t, 200)

	old := c.waitLeader(15 * time.Second)
	killed := time.Now()
	c.stop(old)
	newLeader := c.waitLeader(15 * time.Second)
	took := time.Since(killed)
	// A follower notices the silence within 1-2 heartbeat timeouts and an
	// election takes 1-2 election timeouts.
	bound := 2*c.cfgs[0].HeartbeatTimeout + 2*c.cfgs[0].ElectionTimeout
	t.Logf("leader %s killed; %s leads after %v (bound %v)", c.cfgs[old].ID, c.cfgs[newLeader].ID, took, bound)
	if took > bound {
		t.Errorf("new leader after %v, want within %v", took, bound)
	}
	// Clients carry on.
	l.waitAcks(t, 200)
	c.start(old)
	l.waitAcks(t, 100)
	acked := l.finish()
	st := c.assertConverged(t, acked)
	t.Logf("%d acknowledged writes, %d objects, %d errors", len(acked), len(st.objects), l.errs.Load())
}

func TestPartitionFollowerAndHeal(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := startLoad(c, 6)
	l.waitAcks(t, 100)
	f := c.follower()
	cut := c.get(f)
	cut.mux.setBlocked(true)
	// The majority carries on.
	l.waitAcks(t, 200)
	// The cut-off member cannot commit: a write fails with a clear
	// unavailable error when its context ends, it does not hang.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	_, err := cut.Create(ctx, configMap("isolated", "x"))
	cancel()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write on a partitioned member: error = %v, want ErrUnavailable", err)
	}
	cut.mux.setBlocked(false)
	l.waitAcks(t, 100)
	acked := l.finish()
	st := c.assertConverged(t, acked)
	if _, ok := st.objects["isolated"]; ok {
		// The write's outcome was unknown to its caller; if it happened it
		// happened everywhere (assertConverged), which is allowed.
		t.Logf("the partitioned write was applied after the heal")
	}
}

func TestNoQuorumIsUnavailable(t *testing.T) {
	c := newCluster(t, 3, nil)
	leader := c.waitLeader(15 * time.Second)
	for i := range c.cfgs {
		if i != leader {
			c.get(i).mux.setBlocked(true)
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.get(leader).Create(ctx, configMap("nq", "x"))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write without quorum: error = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("write without quorum took %v, want bounded by its 2s context", d)
	}
	_, err = c.get(leader).Get(ctx, api.KindConfigMap, "ns", "nq", store.Linearizable())
	if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("linearizable read without quorum: error = %v, want unavailable", err)
	}
	for i := range c.cfgs {
		c.get(i).mux.setBlocked(false)
	}
	c.waitLeader(15 * time.Second)
	c.assertConverged(t, nil)
}

func TestRestartAllFromDisk(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := startLoad(c, 6)
	l.waitAcks(t, 300)
	acked := l.finish()
	before := c.assertConverged(t, acked)
	c.stopAll()
	for i := range c.cfgs {
		c.start(i)
	}
	c.waitLeader(15 * time.Second)
	after := c.assertConverged(t, acked)
	if after.rev != before.rev || !maps.Equal(after.objects, before.objects) {
		t.Fatalf("after restart: revision %d with %d objects, before %d with %d", after.rev, len(after.objects), before.rev, len(before.objects))
	}
}

func TestSingleMemberRestart(t *testing.T) {
	cfg := testConfig(t, "solo")
	ctx := testCtx(t, 60*time.Second)
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var last api.Object
	for i := range 50 {
		if last, err = s.Create(ctx, configMap(fmt.Sprintf("c%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 80; i++ {
		if last, err = s.Create(ctx, configMap(fmt.Sprintf("c%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	l, err := s.List(ctx, api.KindConfigMap, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 80 || l.Revision != last.GetMetadata().GetResourceVersion() {
		t.Fatalf("after restart: %d objects at revision %d, want 80 at %d", len(l.Items), l.Revision, last.GetMetadata().GetResourceVersion())
	}
	// History before the snapshot is gone: a watch from there fails with
	// ErrCompacted rather than skipping events.
	if _, err := s.Watch(ctx, api.KindConfigMap, store.WatchOptions{Revision: 1}); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch from before the snapshot: error = %v, want ErrCompacted", err)
	}
}

func TestLaggingMemberCatchesUpBySnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.TrailingLogs = 10
		cfg.SnapshotThreshold = 50
	})
	f := c.follower()
	lag := c.get(f)
	// A watch open on the lagging member ends with ErrCompacted when the
	// snapshot replaces its state: no silent gap.
	w, err := lag.Watch(testCtx(t, time.Minute), api.KindConfigMap, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	lag.mux.setBlocked(true)
	ctx := testCtx(t, time.Minute)
	var acked []string
	for i := range 200 {
		name := fmt.Sprintf("lag%d", i)
		eventually(t, 30*time.Second, "write "+name, func() error {
			leader := c.get(c.waitLeader(15 * time.Second))
			_, err := leader.Create(ctx, configMap(name, name))
			if errors.Is(err, store.ErrAlreadyExists) {
				return nil // an earlier attempt with an unknown outcome made it
			}
			return err
		})
		acked = append(acked, name)
	}
	eventually(t, 30*time.Second, "snapshot on the leader", func() error {
		return c.get(c.waitLeader(15 * time.Second)).Snapshot(ctx)
	})
	lag.mux.setBlocked(false)
	c.assertConverged(t, acked)
	lag.fsm.mu.Lock()
	restores := lag.fsm.restores
	lag.fsm.mu.Unlock()
	if restores == 0 {
		t.Fatal("the lagging member caught up without installing a snapshot")
	}
	for ev := range w.Events() {
		_ = ev // events applied before the snapshot arrive first
	}
	if !errors.Is(w.Err(), store.ErrCompacted) {
		t.Fatalf("watch across a snapshot install ended with %v, want ErrCompacted", w.Err())
	}
}

// TestLogCompactedBySnapshotThreshold checks Raft snapshots on its own once
// SnapshotThreshold entries accumulate and truncates the log behind it.
func TestLogCompactedBySnapshotThreshold(t *testing.T) {
	cfg := testConfig(t, "solo")
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	cfg.SnapshotThreshold, cfg.SnapshotInterval, cfg.TrailingLogs = 20, 50*time.Millisecond, 5
	ctx := testCtx(t, time.Minute)
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for i := range 60 {
		if _, err := s.Create(ctx, configMap(fmt.Sprintf("c%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "log truncated behind a snapshot", func() error {
		first, err := s.bolt.FirstIndex()
		if err != nil {
			return err
		}
		if first <= 1 {
			return fmt.Errorf("first log index %d", first)
		}
		return nil
	})
}

// TestWritesAfterClose checks writes racing Close end with ErrUnavailable
// instead of hanging.
func TestWritesAfterClose(t *testing.T) {
	s := openSingle(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Create(context.Background(), configMap(fmt.Sprintf("c%d", i), "v"))
			errs <- err
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("write racing Close: error = %v, want nil or ErrUnavailable", err)
		}
	}
	if _, err := s.Create(context.Background(), configMap("late", "v")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write after Close: error = %v, want ErrUnavailable", err)
	}
}
