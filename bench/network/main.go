// Command network measures how fast the service proxy programs iptables:
// a full sync of 1,000 and 10,000 services of 2 endpoints each, and the
// latency from an Endpoints change in the store to the rules being in place
// with 10,000 services programmed. Each run uses a fresh network namespace.
// It needs root and prints `figure: NAME VALUE UNIT` lines.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/proxy"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func main() {
	changes := flag.Int("changes", 100, "endpoint changes timed in the incremental run")
	flag.Parse()
	dir, err := os.MkdirTemp("", "cx-bench-network-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	for _, n := range []int{1000, 10000} {
		d, restart, lines, err := fullSync(ctx, dir, n)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("# full sync of %d services: %d restore lines\n", n, lines)
		fmt.Printf("figure: proxy_full_sync_%dk_services %.3f s\n", n/1000, d.Seconds())
		fmt.Printf("figure: proxy_restart_full_sync_%dk_services %.3f s\n", n/1000, restart.Seconds())
	}
	lat, err := incremental(ctx, dir, 10000, *changes)
	if err != nil {
		log.Fatal(err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	sort.Slice(restoreTimes, func(i, j int) bool { return restoreTimes[i] < restoreTimes[j] })
	if len(restoreTimes) > 0 {
		fmt.Printf("# of which diff + iptables-restore: p50 %.1f ms, p99 %.1f ms\n",
			float64(restoreTimes[len(restoreTimes)/2])/1e6, float64(restoreTimes[len(restoreTimes)*99/100])/1e6)
	}
	fmt.Printf("figure: proxy_incremental_10k_services_p50 %.1f ms\n", pct(0.50))
	fmt.Printf("figure: proxy_incremental_10k_services_p99 %.1f ms\n", pct(0.99))
	fmt.Printf("figure: proxy_incremental_10k_services_max %.1f ms\n", float64(lat[len(lat)-1])/float64(time.Millisecond))
}

func objects(n int) ([]*api.Service, []*api.Endpoints) {
	svcs := make([]*api.Service, n)
	eps := make([]*api.Endpoints, n)
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		svcs[i] = &api.Service{
			Metadata: &api.ObjectMeta{Namespace: "bench", Name: name},
			Spec: &api.ServiceSpec{
				ClusterIp: fmt.Sprintf("10.%d.%d.%d", 96+i>>16, i>>8&255, i&255),
				Type:      "ClusterIP",
				Ports:     []*api.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}},
			},
		}
		eps[i] = endpoints(name, i, 0)
	}
	return svcs, eps
}

func endpoints(name string, i, gen int) *api.Endpoints {
	return &api.Endpoints{
		Metadata: &api.ObjectMeta{Namespace: "bench", Name: name},
		Subsets: []*api.EndpointSubset{{
			Addresses: []*api.EndpointAddress{
				{Ip: fmt.Sprintf("10.244.%d.%d", i>>8&255, i&255)},
				{Ip: fmt.Sprintf("10.245.%d.%d", gen&255, i&255)},
			},
			Ports: []*api.EndpointPort{{Name: "http", Port: 8080, Protocol: "TCP"}},
		}},
	}
}

// fullSync times a full sync of n services into a fresh namespace, and then
// a second full sync by a new Syncer over the programmed table (a proxy
// restart, which must take over the rules in place).
func fullSync(ctx context.Context, dir string, n int) (first, restart time.Duration, lines int, err error) {
	nsPath, err := network.NewNetNS(dir, fmt.Sprintf("full-%d", n))
	if err != nil {
		return 0, 0, 0, err
	}
	defer network.DeleteNetNS(nsPath)
	svcs, eps := objects(n)
	s := proxy.NewSyncer(proxy.SyncerConfig{NetNS: nsPath})
	start := time.Now()
	rs := proxy.BuildRules(svcs, eps, proxy.Options{ClusterCIDR: "10.244.0.0/15"})
	res, err := s.Sync(ctx, rs)
	first = time.Since(start)
	if err != nil {
		return 0, 0, 0, err
	}
	s2 := proxy.NewSyncer(proxy.SyncerConfig{NetNS: nsPath})
	start = time.Now()
	rs = proxy.BuildRules(svcs, eps, proxy.Options{ClusterCIDR: "10.244.0.0/15"})
	if _, err := s2.Sync(ctx, rs); err != nil {
		return 0, 0, 0, err
	}
	return first, time.Since(start), res.Lines, nil
}

// restoreTimes are the durations of incremental syncs (diff and
// iptables-restore), written only by the proxier's sync goroutine.
var restoreTimes []time.Duration

func incremental(ctx context.Context, dir string, n, changes int) ([]time.Duration, error) {
	nsPath, err := network.NewNetNS(dir, "incremental")
	if err != nil {
		return nil, err
	}
	defer network.DeleteNetNS(nsPath)
	st := memstore.New()
	svcs, eps := objects(n)
	for i := range svcs {
		if _, err := st.Create(ctx, svcs[i]); err != nil {
			return nil, err
		}
		if _, err := st.Create(ctx, eps[i]); err != nil {
			return nil, err
		}
	}
	synced := make(chan int64, 1024)
	p, err := proxy.New(proxy.Config{
		Store: st, NetNS: nsPath, Rules: proxy.Options{ClusterCIDR: "10.244.0.0/15"},
		OnSync: func(res proxy.SyncResult, rev int64, err error) {
			if err != nil {
				log.Printf("sync: %v", err)
				return
			}
			if !res.Full && res.Chains > 0 {
				restoreTimes = append(restoreTimes, res.Duration)
			}
			synced <- rev
		},
	})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Start(pctx) }()
	defer func() { cancel(); <-done }()

	cur, _ := st.Revision(ctx)
	wait := func(rev int64) error {
		timeout := time.After(2 * time.Minute)
		for {
			select {
			case r := <-synced:
				if r >= rev {
					return nil
				}
			case <-timeout:
				return fmt.Errorf("rules for revision %d not in place after 2m", rev)
			}
		}
	}
	start := time.Now()
	if err := wait(cur); err != nil {
		return nil, err
	}
	fmt.Printf("figure: proxy_store_to_rules_initial_10k_services %.3f s\n", time.Since(start).Seconds())

	lat := make([]time.Duration, 0, changes)
	var last *api.Endpoints
	for c := range changes {
		i := (c * 7919) % n
		e := endpoints(fmt.Sprintf("svc-%05d", i), i, c+1)
		t0 := time.Now()
		out, err := st.Update(ctx, e)
		if err != nil {
			return nil, err
		}
		if err := wait(out.GetMetadata().GetResourceVersion()); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
		last = e
	}
	// Check in the kernel that the last change is really there.
	sp := proxy.ServicePortName{Namespace: "bench", Name: last.GetMetadata().GetName(), Port: "http", Protocol: "TCP"}
	chain := proxy.EndpointChain(sp, 1) // the 10.245 address sorts second
	var rules []byte
	err = network.Do(nsPath, func() error {
		var err error
		rules, err = exec.Command("iptables", "-t", "nat", "-S", chain).Output()
		return err
	})
	if err != nil || !strings.Contains(string(rules), last.Subsets[0].Addresses[1].GetIp()+":8080") {
		return nil, fmt.Errorf("last change not in the kernel (chain %s): %v %s", chain, err, rules)
	}
	return lat, nil
}
