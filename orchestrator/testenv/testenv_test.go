package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNodesAreRegistered(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 4})
	nodes, _, err := store.For[*api.Node](env.Store).List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 4 {
		t.Fatalf("%d nodes, want 4", len(nodes))
	}
	for i, n := range nodes {
		if readyCond := podutil.Condition(n.GetStatus().GetConditions(), podutil.ConditionReady); readyCond.GetStatus() != podutil.StatusTrue {
			t.Errorf("node %s not Ready", n.GetMetadata().GetName())
		}
		if n.GetStatus().GetAllocatable()["pods"] != "110" {
			t.Errorf("node %d allocatable = %v", i, n.GetStatus().GetAllocatable())
		}
		if _, err := store.For[*api.Lease](env.Store).Get(ctx, testenv.NodeLeaseNamespace, n.GetMetadata().GetName()); err != nil {
			t.Errorf("node %s has no heartbeat lease: %v", n.GetMetadata().GetName(), err)
		}
	}
	if got := env.NodeNames(); len(got) != 4 || got[0] != "node-0" {
		t.Fatalf("NodeNames = %v", got)
	}
}

func TestPodLifecycle(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	pods := store.For[*api.Pod](env.Store)
	if _, err := pods.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "p"},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := testenv.UntilObject(ctx, env.Store, "default", "p", podutil.IsReady)
	if err != nil {
		t.Fatal(err)
	}
	if p.GetStatus().GetPhase() != podutil.PhaseRunning || p.GetSpec().GetNodeName() == "" || p.GetStatus().GetPodIp() == "" || p.GetStatus().GetHostIp() == "" {
		t.Fatalf("status = %v on node %q", p.GetStatus(), p.GetSpec().GetNodeName())
	}
	if cs := p.GetStatus().GetContainerStatuses(); len(cs) != 1 || cs[0].GetState().GetRunning() == nil {
		t.Fatalf("container statuses = %v", cs)
	}

	if err := env.SetPodReady(ctx, "default", "p", false); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "p", func(p *api.Pod) bool { return !podutil.IsReady(p) }); err != nil {
		t.Fatal(err)
	}
	if err := env.FailPod(ctx, "default", "p", 3); err != nil {
		t.Fatal(err)
	}
	p, err = testenv.UntilObject(ctx, env.Store, "default", "p", func(p *api.Pod) bool { return p.GetStatus().GetPhase() == podutil.PhaseFailed })
	if err != nil {
		t.Fatal(err)
	}
	if code := p.GetStatus().GetContainerStatuses()[0].GetState().GetTerminated().GetExitCode(); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	// Deleting a bound pod goes through the node agent's finalizer.
	if _, err := pods.Delete(ctx, "default", "p", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindPod, "default", "p"); err != nil {
		t.Fatal(err)
	}
}

func TestSelectedControllersAndCustomAgent(t *testing.T) {
	ctx := testCtx(t)
	started := make(chan string, 2)
	env := testenv.Start(t, testenv.Options{
		Nodes:       2,
		Controllers: []string{testenv.ControllerReplicaSet},
		Agent: func(node string) (manager.Runnable, error) {
			return manager.RunnableFunc(func(ctx context.Context) error {
				started <- node
				<-ctx.Done()
				return nil
			}), nil
		},
	})
	got := map[string]bool{}
	for range 2 {
		select {
		case n := <-started:
			got[n] = true
		case <-ctx.Done():
			t.Fatal("agents did not start")
		}
	}
	if !got["node-0"] || !got["node-1"] {
		t.Fatalf("agents started for %v", got)
	}
	if err := env.StopNode("node-0"); err != nil {
		t.Fatalf("StopNode: %v", err)
	}
	if err := env.StopNode("nope"); !store.IsNotFound(err) {
		t.Fatalf("StopNode of an unknown node: %v", err)
	}
}

func TestUnknownController(t *testing.T) {
	_, err := testenv.New(context.Background(), testenv.Options{Controllers: []string{"no-such"}})
	if err == nil {
		t.Fatal("want an error")
	}
}

func TestUntilHonoursContext(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := testenv.Until(ctx, env.Store, api.KindPod, store.ListOptions{}, func([]api.Object) bool { return false })
	if err == nil {
		t.Fatal("Until returned nil for a condition that never holds")
	}
}

// BenchmarkStartup measures New to a running control plane with 3 nodes
// (caches loaded), and its stop.
func BenchmarkStartup(b *testing.B) {
	for _, nodes := range []int{3, 100} {
		b.Run(itoa(nodes)+"nodes", func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				env, err := testenv.New(ctx, testenv.Options{Nodes: nodes})
				if err != nil {
					b.Fatal(err)
				}
				env.Stop()
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
