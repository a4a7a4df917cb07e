package raftstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// testConfig is a member's config for tests: Raft's default timings (a
// loaded CI machine makes shorter leases step down spuriously), logs
// discarded.
func testConfig(t *testing.T, id string) Config {
	return Config{
		ID:                 id,
		Dir:                t.TempDir(),
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// openSingle opens a single-member store on disk. A lone member has no
// one to lose contact with, so short timings only make it elect itself
// sooner.
func openSingle(t *testing.T) *Store {
	t.Helper()
	cfg := testConfig(t, "solo")
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	s, err := Open(testCtx(t, 30*time.Second), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// freeAddrs returns n loopback addresses with free ports.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return out
}

// cluster is n members over TCP on loopback.
type cluster struct {
	t    *testing.T
	cfgs []Config

	mu      sync.Mutex
	members []*Store // nil while stopped
}

// get returns member i, or nil while it is stopped.
func (c *cluster) get(i int) *Store {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[i]
}

// running returns the running members.
func (c *cluster) running() []*Store {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Store
	for _, m := range c.members {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func newCluster(t *testing.T, n int, mod func(*Config)) *cluster {
	t.Helper()
	addrs := freeAddrs(t, n)
	c := &cluster{t: t}
	var peers []Peer
	for i := range n {
		peers = append(peers, Peer{ID: fmt.Sprintf("m%d", i), Addr: addrs[i]})
	}
	for i := range n {
		cfg := testConfig(t, peers[i].ID)
		cfg.Addr = addrs[i]
		cfg.Bootstrap = true
		cfg.Peers = peers
		if mod != nil {
			mod(&cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
	}
	c.members = make([]*Store, n)
	for i := range n {
		c.start(i)
	}
	t.Cleanup(c.stopAll)
	c.waitLeader(15 * time.Second)
	return c
}

func (c *cluster) start(i int) {
	c.t.Helper()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		// The port may still be held by the previous incarnation briefly.
		var m *Store
		if m, err = Open(testCtx(c.t, 30*time.Second), c.cfgs[i]); err == nil {
			c.mu.Lock()
			c.members[i] = m
			c.mu.Unlock()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("Open member %d: %v", i, err)
}

func (c *cluster) stop(i int) {
	c.mu.Lock()
	m := c.members[i]
	c.members[i] = nil
	c.mu.Unlock()
	if m != nil {
		_ = m.Close()
	}
}

func (c *cluster) stopAll() {
	for i := range c.members {
		c.stop(i)
	}
}

// waitLeader waits until the running, connected members agree on a leader and returns
// its index.
func (c *cluster) waitLeader(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		leader := -1
		agree := true
		members := c.snapshotMembers()
		for i, m := range members {
			if m == nil {
				continue
			}
			if m.IsLeader() {
				leader = i
			}
		}
		if leader >= 0 {
			for _, m := range members {
				if m == nil || (m.mux != nil && m.mux.blocked.Load()) {
					continue // stopped or partitioned
				}
				if id, _ := m.Leader(); id != c.cfgs[leader].ID {
					agree = false
				}
			}
			if agree {
				return leader
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("no leader within %v", timeout)
	return -1
}

func (c *cluster) snapshotMembers() []*Store {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Store(nil), c.members...)
}

// follower returns the index of a running member that does not lead.
func (c *cluster) follower() int {
	c.t.Helper()
	l := c.waitLeader(15 * time.Second)
	for i, m := range c.snapshotMembers() {
		if m != nil && i != l {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}
