// Command etcd-bench starts etcd in-process (embed.StartEtcd; one or more
// members on loopback ports, each with its own data dir) and drives it with
// the same load as bench/raft drives the Raft store: clients writing
// 256-byte values as fast as they can. It prints figure lines.
//
// It is a separate Go module so that the main module does not require etcd.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	members := flag.Int("members", 3, "etcd members (one process, loopback)")
	clientsList := flag.String("clients", "1000,1", "comma-separated client counts to run, one scenario each")
	duration := flag.Duration("duration", 5*time.Second, "length of each scenario")
	dir := flag.String("dir", "", "data directory (default: a temp dir)")
	name := flag.String("name", "", "figure name prefix (default etcd<members>)")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "etcd-bench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *name == "" {
		*name = fmt.Sprintf("etcd%d", *members)
	}
	etcds, endpoints, err := start(*dir, *members)
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		for _, e := range etcds {
			e.Close()
		}
	}()
	// One client connection per member, as the Raft store bench has one
	// store handle per member.
	var clients []*clientv3.Client
	for _, ep := range endpoints {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	leader := 0
	for i, e := range etcds {
		if e.Server.Leader() == e.Server.MemberID() {
			leader = i
		}
	}
	for _, cs := range strings.Split(*clientsList, ",") {
		var n int
		if _, err := fmt.Sscan(cs, &n); err != nil || n < 1 {
			log.Fatalf("bad client count %q", cs)
		}
		targets := clients
		if n == 1 {
			targets = clients[leader : leader+1]
		}
		r := run(targets, n, *duration, cs)
		label := fmt.Sprintf("%s_%dc", *name, n)
		fmt.Printf("figure: %s_writes_per_s %.0f writes/s\n", label, r.rate)
		fmt.Printf("figure: %s_p50 %.2f ms\n", label, r.p50)
		fmt.Printf("figure: %s_p99 %.2f ms\n", label, r.p99)
		if r.errors > 0 {
			fmt.Printf("figure: %s_errors %d count\n", label, r.errors)
		}
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func start(dir string, n int) ([]*embed.Etcd, []string, error) {
	var peerURLs, clientURLs []url.URL
	var initial []string
	for i := range n {
		p, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		c, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		peerURLs = append(peerURLs, url.URL{Scheme: "http", Host: p})
		clientURLs = append(clientURLs, url.URL{Scheme: "http", Host: c})
		initial = append(initial, fmt.Sprintf("e%d=http://%s", i, p))
	}
	var etcds []*embed.Etcd
	var endpoints []string
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("e%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls = []url.URL{peerURLs[i]}
		cfg.AdvertisePeerUrls = []url.URL{peerURLs[i]}
		cfg.ListenClientUrls = []url.URL{clientURLs[i]}
		cfg.AdvertiseClientUrls = []url.URL{clientURLs[i]}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.ClusterState = embed.ClusterStateFlagNew
		cfg.LogLevel = "fatal"
		cfg.LogOutputs = []string{"stderr"}
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			return nil, nil, err
		}
		etcds = append(etcds, e)
		endpoints = append(endpoints, clientURLs[i].String())
	}
	for _, e := range etcds {
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(60 * time.Second):
			return nil, nil, fmt.Errorf("etcd member %s not ready", e.Config().Name)
		}
	}
	return etcds, endpoints, nil
}

type result struct {
	rate, p50, p99 float64
	errors         int64
}

func run(targets []*clientv3.Client, n int, d time.Duration, tag string) result {
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
			cli := targets[c%len(targets)]
			var mine []time.Duration
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprintf("/bench/c%s-%d-%d", tag, c, i)
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := cli.Put(ctx, key, value)
				cancel()
				if err != nil {
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
