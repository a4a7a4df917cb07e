package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// BenchmarkPodStartupFakeRuntime measures the agent's own cost from a pod
// created in the store to its Running status, on the in-memory runtime
// (no container start cost): store event, queue, sync, status write.
func BenchmarkPodStartupFakeRuntime(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memstore.New()
	a, err := agent.New(ctx, agent.Config{
		NodeName: "node-1", Store: s, Runtime: fake.New(fake.Config{}), RootDir: b.TempDir(),
		StatsInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	defer func() { cancel(); <-done }()
	w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		name := fmt.Sprintf("p%d", i)
		if _, err := s.Create(ctx, &api.Pod{
			Metadata: &api.ObjectMeta{Name: name, Namespace: "bench", Finalizers: []string{agent.FinalizerNodeAgent}},
			Spec: &api.PodSpec{NodeName: "node-1", Containers: []*api.Container{{
				Name: "c", Image: "busybox:1", ImagePullPolicy: "IfNotPresent", Command: fake.Command(fake.Behavior{})}}},
		}); err != nil {
			b.Fatal(err)
		}
		for running := false; !running; {
			ev := <-w.Events()
			p := ev.Object.(*api.Pod)
			running = p.Metadata.Name == name && p.GetStatus().GetPhase() == agent.PhaseRunning
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/pod")
}
