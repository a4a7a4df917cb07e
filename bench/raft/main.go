// Command raft-bench drives a Raft store cluster (store/raftstore) with the
// load bench/raft/run.sh also applies to etcd (bench/raft/etcd): clients
// writing 256-byte values as fast as they can, and prints figure lines.
//
//	go run ./bench/raft -members 3 -clients 1000 -duration 5s -dir /var/tmp/x
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/raftstore"
)

func main() {
	members := flag.Int("members", 3, "cluster members (one process, TCP on loopback)")
	clientsList := flag.String("clients", "1000,1", "comma-separated client counts to run, one scenario each")
	duration := flag.Duration("duration", 5*time.Second, "length of each scenario")
	dir := flag.String("dir", "", "data directory (default: a temp dir)")
	name := flag.String("name", "", "figure name prefix (default raft<members>)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	maxInflight := flag.Int("max-inflight", 0, "raftstore Config.MaxInflight (0: default)")
	maxBatch := flag.Int("max-batch", 0, "raftstore Config.MaxBatch (0: default)")
	noSync := flag.Bool("nosync", false, "skip fsync of the log (unsafe; shows the cost of everything but the disk)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "raft-bench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *name == "" {
		*name = fmt.Sprintf("raft%d", *members)
	}
	ctx := context.Background()
	stores, err := startCluster(ctx, *dir, *members, func(c *raftstore.Config) { c.MaxInflight, c.MaxBatch, c.NoSync = *maxInflight, *maxBatch, *noSync })
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		for _, s := range stores {
			_ = s.Close()
		}
	}()
	leader := 0
	for i, s := range stores {
		if s.IsLeader() {
			leader = i
		}
	}
	for _, cs := range strings.Split(*clientsList, ",") {
		var n int
		if _, err := fmt.Sscan(cs, &n); err != nil || n < 1 {
			log.Fatalf("bad client count %q", cs)
		}
		// Many clients spread over every member (writes to followers are
		// forwarded); a single client talks to the leader.
		targets := stores
		if n == 1 {
			targets = stores[leader : leader+1]
		}
		before := totalStats(stores)
		r := run(ctx, targets, n, *duration, cs)
		after := totalStats(stores)
		label := fmt.Sprintf("%s_%dc", *name, n)
		fmt.Printf("figure: %s_writes_per_s %.0f writes/s\n", label, r.rate)
		fmt.Printf("figure: %s_p50 %.2f ms\n", label, r.p50)
		fmt.Printf("figure: %s_p99 %.2f ms\n", label, r.p99)
		if e := after.Entries - before.Entries; e > 0 {
			fmt.Printf("figure: %s_writes_per_entry %.1f writes\n", label, float64(after.Commands-before.Commands)/float64(e))
		}
		if r.errors > 0 {
			fmt.Printf("figure: %s_errors %d count\n", label, r.errors)
		}
	}
}

func startCluster(ctx context.Context, dir string, n int, tune func(*raftstore.Config)) ([]*raftstore.Store, error) {
	var peers []raftstore.Peer
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		peers = append(peers, raftstore.Peer{ID: fmt.Sprintf("m%d", i), Addr: ln.Addr().String()})
		_ = ln.Close()
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores := make([]*raftstore.Store, n)
	for i := range n {
		cfg := raftstore.Config{ID: peers[i].ID, Dir: filepath.Join(dir, peers[i].ID), Logger: quiet}
		if n > 1 {
			cfg.Addr, cfg.Bootstrap, cfg.Peers = peers[i].Addr, true, peers
		}
		tune(&cfg)
		s, err := raftstore.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		stores[i] = s
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, s := range stores {
		if err := s.WaitReady(wctx); err != nil {
			return nil, err
		}
	}
	return stores, nil
}

func totalStats(stores []*raftstore.Store) raftstore.Stats {
	var st raftstore.Stats
	for _, s := range stores {
		x := s.Stats()
		st.Entries += x.Entries
		st.Commands += x.Commands
	}
	return st
}

type result struct {
	rate, p50, p99 float64
	errors         int64
}

// run has n clients write 256-byte values (one ConfigMap each write, fresh
// names) for d and measures throughput and latency.
func run(ctx context.Context, targets []*raftstore.Store, n int, d time.Duration, tag string) result {
	value := strings.Repeat("x", 256)
	var (
		wg    sync.WaitGroup
		stop  atomic.Bool
		errs  atomic.Int64
		mu    sync.Mutex
		lats  []time.Duration
		start = time.Now()
	)
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := targets[c%len(targets)]
			var mine []time.Duration
			for i := 0; !stop.Load(); i++ {
				cm := &api.ConfigMap{
					Metadata: &api.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("c%s-%d-%d", tag, c, i)},
					Data:     map[string]string{"v": value},
				}
				t0 := time.Now()
				if _, err := s.Create(ctx, cm); err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000
	}
	return result{rate: float64(len(lats)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errs.Load()}
}
