package raftstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// A register per key: put writes a value, get returns the last one.
type kvInput struct {
	put   bool
	key   string
	value string
}

var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(st, input, output any) (bool, any) {
		in := input.(kvInput)
		if in.put {
			return true, in.value
		}
		return output.(string) == st.(string), st
	},
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.put {
			return fmt.Sprintf("put(%s, %s)", in.key, in.value)
		}
		return fmt.Sprintf("get(%s) -> %v", in.key, output)
	},
}

// history records operations with a monotonic clock.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// TestLinearizableUnderFaults records a concurrent history of puts
// (Update) and linearizable gets on every member while the leader is
// killed and restarted, a follower is partitioned long enough that it
// catches up by snapshot install when healed, and every member is
// restarted from disk, and checks it with porcupine. Writes whose outcome
// is unknown (an error) are recorded as never returning: they may or may
// not have happened.
func TestLinearizableUnderFaults(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold, cfg.SnapshotInterval, cfg.TrailingLogs = 64, 100*time.Millisecond, 16
	})
	keys := []string{"k0", "k1", "k2"}
	ctx := testCtx(t, time.Minute)
	for _, k := range keys {
		if _, err := c.get(c.waitLeader(15*time.Second)).Create(ctx, configMap(k, "")); err != nil {
			t.Fatal(err)
		}
	}
	h := &history{start: time.Now()}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	const clients = 6
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				m := c.get(cl % 3)
				if m == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				key := keys[(cl+i)%len(keys)]
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				if i%2 == 0 {
					value := fmt.Sprintf("c%d-%d", cl, i)
					call := h.now()
					_, err := m.Update(ctx, configMap(key, value))
					ret := h.now()
					if err != nil {
						// Outcome unknown.
						ret = math.MaxInt64
						failed.Add(1)
					} else {
						ok.Add(1)
					}
					h.add(porcupine.Operation{ClientId: cl, Input: kvInput{put: true, key: key, value: value}, Call: call, Return: ret})
				} else {
					call := h.now()
					obj, err := m.Get(ctx, api.KindConfigMap, "ns", key, store.Linearizable())
					ret := h.now()
					if err == nil {
						ok.Add(1)
						h.add(porcupine.Operation{ClientId: cl, Input: kvInput{key: key}, Output: obj.(*api.ConfigMap).Data["v"], Call: call, Return: ret})
					} else if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("get: %v", err)
					}
				}
				cancel()
			}
		}()
	}
	waitOps := func(n int64) {
		target := ok.Load() + n
		eventually(t, 30*time.Second, "operations progress", func() error {
			if ok.Load() < target {
				return fmt.Errorf("%d of %d", ok.Load(), target)
			}
			return nil
		})
	}
	waitOps(100)
	leader := c.waitLeader(15 * time.Second)
	c.stop(leader)
	c.waitLeader(15 * time.Second)
	waitOps(100)
	c.start(leader)
	waitOps(100)
	f := c.follower()
	lag := c.get(f)
	lag.mux.setBlocked(true)
	waitOps(300)
	// Make sure the log the follower missed is gone behind a snapshot.
	eventually(t, 30*time.Second, "snapshot on the leader", func() error {
		return c.get(c.waitLeader(15 * time.Second)).Snapshot(ctx)
	})
	lag.mux.setBlocked(false)
	waitOps(100)
	eventually(t, 30*time.Second, "the partitioned follower installs a snapshot", func() error {
		lag.fsm.mu.Lock()
		defer lag.fsm.mu.Unlock()
		if lag.fsm.restores == 0 {
			return errors.New("no snapshot installed")
		}
		return nil
	})
	for i := range c.cfgs {
		c.stop(i)
	}
	for i := range c.cfgs {
		c.start(i)
	}
	c.waitLeader(15 * time.Second)
	waitOps(100)
	stop.Store(true)
	wg.Wait()

	h.mu.Lock()
	ops := h.ops
	h.mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(kvModel, ops, time.Minute)
	t.Logf("%d operations (%d acknowledged, %d with unknown outcome): %v", len(ops), ok.Load(), failed.Load(), res)
	if res != porcupine.Ok {
		if res == porcupine.Illegal {
			for _, part := range info.PartialLinearizationsOperations() {
				if len(part) > 0 {
					t.Logf("longest partial linearization of a partition: %d ops", len(part[0]))
				}
			}
		}
		t.Fatalf("history is not linearizable: %v", res)
	}
	c.assertConverged(t, nil)
}
