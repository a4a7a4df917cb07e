package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/raftstore"
	"github.com/coxswain-io/coxswain/store/remote"
	"github.com/coxswain-io/coxswain/store/storetest"
)

// TestConformanceRaftstore runs the conformance suite through the client
// against a server over a single-member raftstore on disk.
func TestConformanceRaftstore(t *testing.T) {
	if testing.Short() {
		t.Skip("raftstore conformance through HTTP is slow; run without -short")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rs, err := raftstore.Open(ctx, raftstore.Config{
			ID:              "solo",
			Dir:             t.TempDir(),
			NoSync:          true,
			MemstoreOptions: []memstore.Option{memstore.WithBookmarkInterval(20 * time.Millisecond)},
			Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatalf("raftstore.Open: %v", err)
		}
		t.Cleanup(func() { _ = rs.Close() })
		srv, err := remote.NewServer(remote.ServerConfig{Store: rs})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		c, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	})
}

// TestRaftClusterFailover serves each member of a three-member raftstore
// cluster and gives the client all three addresses: when the leader dies,
// writes go on through the others and the watch resumes on another member
// with no gap and no duplicate.
func TestRaftClusterFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var peers []raftstore.Peer
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, raftstore.Peer{ID: fmt.Sprintf("m%d", i), Addr: ln.Addr().String()})
		_ = ln.Close()
	}
	members := make([]*raftstore.Store, 3)
	servers := make([]*httptest.Server, 3)
	for i, p := range peers {
		rs, err := raftstore.Open(ctx, raftstore.Config{
			ID: p.ID, Dir: t.TempDir(), Addr: p.Addr, Bootstrap: true, Peers: peers, NoSync: true,
			HeartbeatTimeout: 500 * time.Millisecond, ElectionTimeout: 500 * time.Millisecond, LeaderLeaseTimeout: 250 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatalf("open %s: %v", p.ID, err)
		}
		members[i] = rs
		t.Cleanup(func() { _ = rs.Close() })
		srv, err := remote.NewServer(remote.ServerConfig{Store: rs})
		if err != nil {
			t.Fatal(err)
		}
		servers[i] = httptest.NewServer(srv.Handler())
		t.Cleanup(servers[i].Close)
	}
	for _, m := range members {
		if err := m.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	leader := -1
	for i, m := range members {
		if m.IsLeader() {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no leader")
	}
	// The leader's server first, so that killing it forces a failover.
	urls := []string{servers[leader].URL}
	for i, s := range servers {
		if i != leader {
			urls = append(urls, s.URL)
		}
	}
	c, err := remote.NewClient(remote.ClientConfig{Servers: urls, WatchRetryTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	// A real cluster writes its first revisions at bootstrap; a watch cannot
	// resume inside revision 1 (see the package docs), so start past it.
	if _, err := c.Create(ctx, testPod("other", "bootstrap")); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := c.Create(ctx, testPod("ns", "before")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != "before" {
		t.Fatalf("event for %s", ev.Object.GetMetadata().GetName())
	}

	// The leader dies: its API server and its Raft member.
	_ = servers[leader].Listener.Close()
	servers[leader].CloseClientConnections()
	_ = members[leader].Close()

	// Writes fail with ErrUnavailable until a new leader is elected; a
	// controller would retry, and so does this loop.
	for _, name := range []string{"after-1", "after-2"} {
		for {
			_, err := c.Create(ctx, testPod("ns", name))
			if err == nil || errors.Is(err, store.ErrAlreadyExists) {
				break
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("create %s after the leader died: %v", name, err)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("create %s: no new leader: %v", name, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	for _, want := range []string{"after-1", "after-2"} {
		ev := nextEvent(t, w)
		if ev.Type != store.EventAdded || ev.Object.GetMetadata().GetName() != want {
			t.Fatalf("event %s %s, want ADDED %s", ev.Type, ev.Object.GetMetadata().GetName(), want)
		}
	}
}
