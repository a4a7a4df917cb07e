package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// An agent on the in-memory runtime runs a pod bound to its node.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := os.MkdirTemp("", "agent-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)

	s := memstore.New()
	a, err := agent.New(ctx, agent.Config{
		NodeName: "node-1",
		Store:    s,
		Runtime:  fake.New(fake.Config{}),
		RootDir:  root,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()

	pods := store.For[*api.Pod](s)
	w, err := pods.Watch(ctx, store.WatchOptions{Namespace: "default"})
	if err != nil {
		panic(err)
	}
	defer w.Stop()
	if _, err := pods.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.PodSpec{NodeName: "node-1", Containers: []*api.Container{{
			Name: "app", Image: "busybox:1.36", Command: fake.Command(fake.Behavior{Stdout: "serving\n"}),
		}}},
	}); err != nil {
		panic(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-w.Events():
			p := ev.Object.(*api.Pod)
			if p.GetStatus().GetPhase() == agent.PhaseRunning {
				cs := p.Status.ContainerStatuses[0]
				fmt.Println(p.Metadata.Name, p.Status.Phase, cs.Name, "running:", cs.State.Running != nil, "restarts:", cs.RestartCount)
				cancel()
				<-done
				return
			}
		case <-timeout:
			fmt.Println("timed out")
			return
		}
	}
	// Output: web Running app running: true restarts: 0
}
