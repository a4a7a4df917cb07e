// Command store measures the in-memory store (store/memstore): write
// throughput for Create and Update of a ~1 KiB Pod from 1 and 64
// goroutines, List of 100,000 pods by label and by field selector, watch
// fan-out to 1,000 node-filtered watchers, and memory per idle watcher. It
// prints `figure: NAME VALUE UNIT` lines; run it with `make bench-store`.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

var (
	writes   = flag.Int("writes", 100_000, "writes per throughput measurement")
	listSize = flag.Int("list-pods", 100_000, "pods in the store for the list measurements")
	watchers = flag.Int("watchers", 1_000, "node-filtered watchers for the fan-out measurement")
	fanout   = flag.Int("fanout-writes", 100_000, "pod writes in the fan-out measurement")
	fanRate  = flag.Int("fanout-rate", 200_000, "writes/s of the paced fan-out measurement")
	idle     = flag.Int("idle-watchers", 10_000, "watchers created to measure memory per idle watcher")
	only     = flag.String("only", "", "run only this part: idle, writes, list or fanout")
	cpuProf  = flag.String("cpuprofile", "", "write a CPU profile to this file")
)

func main() {
	flag.Parse()
	ctx := context.Background()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			slog.Error("bench/store", "err", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			slog.Error("bench/store", "err", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx); err != nil {
		slog.Error("bench/store", "err", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func figure(name string, value float64, unit string) {
	fmt.Printf("figure: %s %.4g %s\n", name, value, unit)
}

// benchPod returns a pod of about 1 KiB encoded.
func benchPod(name, node string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			Namespace: "bench", Name: name,
			Labels:      map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8c6b5", "node": node},
			Annotations: map[string]string{"example.com/build": "2026-11-23T17:00:00Z commit 4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"},
			OwnerReferences: []*api.OwnerReference{{
				ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", Uid: "6f1c2b9e-8a47-4d3c-9b1e-2f7a6c5d4e3b", Controller: true, BlockOwnerDeletion: true,
			}},
		},
		Spec: &api.PodSpec{
			NodeName: node,
			Containers: []*api.Container{{
				Name: "web", Image: "registry.example.com/team/web-frontend:v1.27.3",
				Command: []string{"/usr/local/bin/web", "--listen=:8080", "--metrics=:9090", "--log-level=info"},
				Ports:   []*api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}, {Name: "metrics", ContainerPort: 9090, Protocol: "TCP"}},
				Env: []*api.EnvVar{
					{Name: "DATABASE_URL", Value: "postgres://web@db.bench.svc.cluster.local:5432/web?sslmode=disable"},
					{Name: "CACHE_URL", Value: "redis://cache.bench.svc.cluster.local:6379/0"},
					{Name: "FEATURE_FLAGS", Value: "new-checkout,fast-search,dark-mode,beta-api"},
					{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability.svc:4317"},
				},
				Resources: &api.ResourceRequirements{
					Requests: map[string]string{"cpu": "250m", "memory": "256Mi"},
					Limits:   map[string]string{"cpu": "1", "memory": "512Mi"},
				},
				ImagePullPolicy: "IfNotPresent",
			}},
			RestartPolicy: "Always",
		},
	}
}

func run(ctx context.Context) error {
	// The machine's load says how much of its CPU these figures got.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		var l1 float64
		if _, err := fmt.Sscan(string(b), &l1); err == nil {
			figure("host_loadavg_1m", l1, "load")
		}
	}
	figure("host_cpus", float64(runtime.NumCPU()), "cpus")
	figure("pod_encoded_size", float64(proto.Size(benchPod("web-000000", "node-0000"))), "bytes")
	parts := []struct {
		name string
		fn   func(context.Context) error
	}{{"idle", idleWatcherMemory}, {"writes", writeThroughput}, {"list", listLatency}, {"fanout", watchFanout}}
	for _, p := range parts {
		if *only != "" && *only != p.name {
			continue
		}
		if err := p.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// cpuTime returns the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeModes are the ways a caller can write: the plain call copies the
// object in and the result out; store.Consume skips the copy in (the
// caller hands the object over); with store.SharedResult too, the write
// makes no copy at all (the result is the stored object, read-only). The
// remote API server writes the third way.
var writeModes = []struct {
	suffix string
	opts   []store.WriteOption
}{
	{"", nil},
	{"_consume", []store.WriteOption{store.Consume()}},
	{"_zerocopy", []store.WriteOption{store.Consume(), store.SharedResult()}},
}

// writeThroughput measures Create and Update of ~1 KiB pods, in each
// write mode, from 1 and 64 goroutines. Every write gets an object of its
// own, built before the clock starts (a consumed object cannot be written
// twice).
func writeThroughput(ctx context.Context) error {
	for _, goroutines := range []int{1, 64} {
		for _, mode := range writeModes {
			if err := writeRun(ctx, goroutines, mode.suffix, mode.opts); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeRun(ctx context.Context, goroutines int, suffix string, opts []store.WriteOption) error {
	s := memstore.New()
	defer s.Close()
	n := *writes
	pods := make([]*api.Pod, n)
	for i := range pods {
		pods[i] = benchPod(fmt.Sprintf("web-%06d", i), fmt.Sprintf("node-%04d", i%1000))
	}
	runtime.GC()
	cpu0 := cpuTime()
	d, err := parallel(goroutines, n, func(i int) error {
		_, err := s.Create(ctx, pods[i], opts...)
		return err
	})
	if err != nil {
		return err
	}
	figure(fmt.Sprintf("create_writes_per_sec_%dg%s", goroutines, suffix), float64(n)/d.Seconds(), "writes/s")
	figure(fmt.Sprintf("create_writes_per_cpu_sec_%dg%s", goroutines, suffix), float64(n)/(cpuTime()-cpu0).Seconds(), "writes/s")

	// Update every pod (unconditionally: resourceVersion 0) to a new image.
	for i := range pods {
		pods[i] = benchPod(fmt.Sprintf("web-%06d", i), fmt.Sprintf("node-%04d", i%1000))
		pods[i].Spec.Containers[0].Image = "registry.example.com/team/web-frontend:v1.27.4"
	}
	runtime.GC()
	cpu0 = cpuTime()
	d, err = parallel(goroutines, n, func(i int) error {
		_, err := s.Update(ctx, pods[i], opts...)
		return err
	})
	if err != nil {
		return err
	}
	figure(fmt.Sprintf("update_writes_per_sec_%dg%s", goroutines, suffix), float64(n)/d.Seconds(), "writes/s")
	figure(fmt.Sprintf("update_writes_per_cpu_sec_%dg%s", goroutines, suffix), float64(n)/(cpuTime()-cpu0).Seconds(), "writes/s")
	return nil
}

// parallel runs fn(0..n-1) over g goroutines and returns the wall time.
func parallel(g, n int, fn func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// listLatency measures List over 100,000 pods on 1,000 nodes.
func listLatency(ctx context.Context) error {
	s := memstore.New()
	defer s.Close()
	n := *listSize
	for i := range n {
		p := benchPod(fmt.Sprintf("web-%06d", i), fmt.Sprintf("node-%04d", i%1000))
		p.Metadata.Labels["shard"] = fmt.Sprintf("s%03d", i%1000)
		if _, err := s.Create(ctx, p); err != nil {
			return err
		}
	}
	// Compact so lists see one version per key, as in a long-running store.
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		return err
	}
	cases := []struct {
		name string
		opts store.ListOptions
		want int
	}{
		{"list_100k_by_label", store.ListOptions{LabelSelector: "shard=s007"}, n / 1000},
		{"list_100k_by_field_nodename", store.ListOptions{FieldSelector: "spec.nodeName=node-0007"}, n / 1000},
		{"list_100k_by_field_unindexed", store.ListOptions{FieldSelector: "metadata.labels.shard=s007"}, n / 1000},
	}
	for _, c := range cases {
		var lat []time.Duration
		for range 20 {
			start := time.Now()
			res, err := s.List(ctx, api.KindPod, c.opts)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
			if len(res.Items) != c.want {
				return fmt.Errorf("%s: %d items, want %d", c.name, len(res.Items), c.want)
			}
		}
		slices.Sort(lat)
		figure(c.name+"_p50", ms(lat[len(lat)/2]), "ms")
		figure(c.name+"_max", ms(lat[len(lat)-1]), "ms")
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// watchFanout measures delivery to node-filtered watchers: with one writer
// writing as fast as it can, plainly and copying nothing (which runs at
// several times the rate, so it loads the dispatcher more); and with the
// writer paced at -fanout-rate writes/s (copying nothing), the latency at a
// given rate.
func watchFanout(ctx context.Context) error {
	for _, run := range []struct {
		suffix string
		opts   []store.WriteOption
		rate   int
	}{
		{writeModes[0].suffix, writeModes[0].opts, 0},
		{writeModes[2].suffix, writeModes[2].opts, 0},
		{fmt.Sprintf("_paced_%dk", *fanRate/1000), writeModes[2].opts, *fanRate},
	} {
		if err := fanoutRun(ctx, run.suffix, run.opts, run.rate); err != nil {
			return err
		}
	}
	return nil
}

// fanoutRun writes pods spread over nodes, each node watched by one
// watcher filtered with spec.nodeName, and measures delivery. With rate >
// 0 the writer keeps to rate writes/s (sleeping whenever it is more than a
// millisecond ahead of schedule, so writes come in bursts of up to a
// millisecond's worth); latency counts from each write's start.
func fanoutRun(ctx context.Context, suffix string, opts []store.WriteOption, rate int) error {
	s := memstore.New()
	defer s.Close()
	nw, n := *watchers, *fanout
	pods := make([]*api.Pod, n)
	for i := range pods {
		pods[i] = benchPod(fmt.Sprintf("web-%06d", i), fmt.Sprintf("node-%04d", i%nw))
	}
	sent := make([]atomic.Int64, n) // start time of each write, unix nanos
	lat := make([][]time.Duration, nw)
	var received atomic.Int64
	var wg sync.WaitGroup
	var lastRecv atomic.Int64
	for w := range nw {
		wt, err := s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: fmt.Sprintf("spec.nodeName=node-%04d", w)})
		if err != nil {
			return err
		}
		want := n / nw
		if w < n%nw {
			want++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer wt.Stop()
			lat[w] = make([]time.Duration, 0, want)
			for ev := range wt.Events() {
				if ev.Type != store.EventAdded {
					continue
				}
				now := time.Now().UnixNano()
				idx, _ := strconv.Atoi(ev.Object.GetMetadata().GetName()[len("web-"):])
				lat[w] = append(lat[w], time.Duration(now-sent[idx].Load()))
				received.Add(1)
				lastRecv.Store(now)
				if len(lat[w]) == want {
					return
				}
			}
		}()
	}
	runtime.GC()
	start := time.Now()
	for i, p := range pods {
		now := time.Now()
		if rate > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			if ahead := due.Sub(now); ahead > time.Millisecond {
				time.Sleep(ahead)
				now = time.Now()
			}
		}
		sent[i].Store(now.UnixNano())
		if _, err := s.Create(ctx, p, opts...); err != nil {
			return err
		}
	}
	writeDur := time.Since(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("fan-out: %d of %d events delivered", received.Load(), n)
	}
	total := time.Duration(lastRecv.Load() - start.UnixNano())
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	figure("fanout_1k_watchers_write_rate"+suffix, float64(n)/writeDur.Seconds(), "writes/s")
	figure("fanout_1k_watchers_events_per_sec"+suffix, float64(len(all))/total.Seconds(), "events/s")
	figure("fanout_1k_watchers_latency_p50"+suffix, ms(all[len(all)/2]), "ms")
	figure("fanout_1k_watchers_latency_p99"+suffix, ms(all[len(all)*99/100]), "ms")
	figure("fanout_1k_watchers_latency_max"+suffix, ms(all[len(all)-1]), "ms")
	return nil
}

// idleWatcherMemory measures heap growth per watcher that receives nothing.
func idleWatcherMemory(ctx context.Context) error {
	s := memstore.New()
	defer s.Close()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	g0 := runtime.NumGoroutine()
	ws := make([]store.Watch, *idle)
	for i := range ws {
		w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{FieldSelector: fmt.Sprintf("spec.nodeName=node-%05d", i)})
		if err != nil {
			return err
		}
		ws[i] = w
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	g1 := runtime.NumGoroutine()
	per := float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / float64(len(ws))
	figure("idle_watcher_memory", per, "bytes")
	figure("idle_watcher_goroutines", float64(g1-g0)/float64(len(ws)), "goroutines")
	for _, w := range ws {
		w.Stop()
	}
	runtime.KeepAlive(ws)
	return nil
}
