package remote_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// path is one way of reaching the store.
type path struct {
	name string
	json bool
	// remote is false for the in-process baseline.
	remote bool
}

var paths = []path{{name: "inprocess"}, {name: "remote_protobuf", remote: true}, {name: "remote_json", remote: true, json: true}}

// setup returns the memstore and the store.Store the benchmark talks to.
func setup(b *testing.B, p path) (*memstore.Store, store.Store) {
	b.Helper()
	mem := memstore.New()
	b.Cleanup(func() { _ = mem.Close() })
	if !p.remote {
		return mem, mem
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	cfg := remote.ClientConfig{Servers: []string{hs.URL}}
	if p.json {
		cfg.JSON = remote.KubernetesJSON
	}
	c, err := remote.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return mem, c
}

func benchPod(name string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: "bench", Name: name, Labels: map[string]string{"app": "web", "tier": "frontend"}},
		Spec: &api.PodSpec{
			NodeName:   "node-1",
			Containers: []*api.Container{{Name: "web", Image: "registry.example/web:1.2.3", Args: []string{"--port", "8080"}, Env: []*api.EnvVar{{Name: "MODE", Value: "prod"}}}},
		},
	}
}

func BenchmarkGet(b *testing.B) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			mem, s := setup(b, p)
			ctx := context.Background()
			if _, err := mem.Create(ctx, benchPod("web")); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Get(ctx, api.KindPod, "bench", "web"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCreate(b *testing.B) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			_, s := setup(b, p)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				i++
				if _, err := s.Create(ctx, benchPod(fmt.Sprintf("p%d", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWatchDelivery writes in process and measures how long until the
// watcher (in process or remote) has the event: one write, one wait, per op.
func BenchmarkWatchDelivery(b *testing.B) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			mem, s := setup(b, p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Stop()
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				i++
				if _, err := mem.Create(ctx, benchPod(fmt.Sprintf("p%d", i))); err != nil {
					b.Fatal(err)
				}
				for {
					ev, ok := <-w.Events()
					if !ok {
						b.Fatalf("watch closed: %v", w.Err())
					}
					if ev.Type == store.EventAdded {
						break
					}
				}
			}
		})
	}
}

// BenchmarkWatchThroughput writes in process, 100 objects per transaction,
// and measures the time per event until the watcher (in process or remote)
// has them all: the streaming cost per event, not the round trip.
func BenchmarkWatchThroughput(b *testing.B) {
	const batch = 100
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			mem, s := setup(b, p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Stop()
			received := make(chan int, 1)
			go func() {
				n := 0
				for ev := range w.Events() {
					if ev.Type == store.EventAdded {
						n++
						if n == b.N {
							received <- n
							return
						}
					}
				}
				received <- n
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				ops := make([]store.Op, 0, batch)
				for j := i; j < i+batch && j < b.N; j++ {
					ops = append(ops, store.CreateOp(benchPod(fmt.Sprintf("p%d", j))))
				}
				if _, err := mem.Txn(ctx, ops...); err != nil {
					b.Fatal(err)
				}
			}
			if n := <-received; n != b.N {
				b.Fatalf("watch delivered %d of %d events: %v", n, b.N, w.Err())
			}
		})
	}
}
