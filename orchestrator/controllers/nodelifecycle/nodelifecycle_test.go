package nodelifecycle_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/nodelifecycle"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

// drive steps the fake clock by one second per real millisecond and
// renews the live nodes' heartbeats after each step, until the test ends.
// It stands in for the passage of time; nothing depends on its pace.
func drive(ctx context.Context, t *testing.T, env *testenv.Env, fake *clock.Fake) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fake.Step(time.Second)
			env.Heartbeat(ctx)
		}
	}()
}

func readyStatus(n *api.Node) string {
	return podutil.Condition(n.GetStatus().GetConditions(), podutil.ConditionReady).GetStatus()
}

func tainted(n *api.Node) bool {
	return slices.ContainsFunc(n.GetSpec().GetTaints(), func(t *api.Taint) bool { return t.GetKey() == nodelifecycle.TaintUnreachable })
}

func TestNodeLossReplacesPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{
		Nodes:                  3,
		Clock:                  fake,
		HeartbeatInterval:      time.Hour, // the driver heartbeats
		NodeMonitorPeriod:      time.Second,
		NodeMonitorGracePeriod: 40 * time.Second,
		PodEvictionTimeout:     30 * time.Second,
	})
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "app"},
		Spec: &api.ReplicaSetSpec{
			Replicas: ptr(int32(6)),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "app"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "app"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	if _, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	var lost string
	var lostPods []string
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		if len(pods) != 6 || slices.ContainsFunc(pods, func(p *api.Pod) bool { return !podutil.IsReady(p) }) {
			return false
		}
		lost, lostPods = pods[0].GetSpec().GetNodeName(), nil
		for _, p := range pods {
			if p.GetSpec().GetNodeName() == lost {
				lostPods = append(lostPods, p.GetMetadata().GetName())
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.StopNode(lost); err != nil {
		t.Fatal(err)
	}
	drive(ctx, t, env, fake)

	if _, err := testenv.UntilObject(ctx, env.Store, "", lost, func(n *api.Node) bool {
		return readyStatus(n) == podutil.StatusUnknown && tainted(n)
	}); err != nil {
		t.Fatalf("the silent node was not marked NotReady: %v", err)
	}
	// Its pods are evicted and replaced on the other nodes.
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		running := 0
		for _, p := range pods {
			if podutil.IsActive(p) && podutil.IsReady(p) {
				if p.GetSpec().GetNodeName() == lost {
					return false
				}
				running++
			}
		}
		return running == 6
	}); err != nil {
		t.Fatalf("pods of the lost node were not replaced: %v", err)
	}
	nodes, _, err := store.For[*api.Node](env.Store).List(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.GetMetadata().GetName() != lost && (readyStatus(n) != podutil.StatusTrue || tainted(n)) {
			t.Errorf("healthy node %s: Ready=%s tainted=%v", n.GetMetadata().GetName(), readyStatus(n), tainted(n))
		}
	}

	// The node comes back: Ready again, untainted, and its evicted pods
	// finish terminating.
	if err := env.StartNode(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "", lost, func(n *api.Node) bool {
		return readyStatus(n) == podutil.StatusTrue && !tainted(n)
	}); err != nil {
		t.Fatalf("the node did not recover: %v", err)
	}
	for _, name := range lostPods {
		if err := testenv.UntilGone(ctx, env.Store, api.KindPod, "default", name); err != nil {
			t.Fatalf("evicted pod %s: %v", name, err)
		}
	}
}

func TestPodsOfDeletedNodesAreReleased(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Nodes: 1, Clock: fake, HeartbeatInterval: time.Hour, NodeMonitorPeriod: time.Second})
	if _, err := store.For[*api.Pod](env.Store).Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "p"},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "p", podutil.IsReady); err != nil {
		t.Fatal(err)
	}
	if err := env.StopNode("node-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Delete(ctx, api.KindNode, "", "node-0", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	drive(ctx, t, env, fake)
	if err := testenv.UntilGone(ctx, env.Store, api.KindPod, "default", "p"); err != nil {
		t.Fatalf("the pod of a deleted node hangs: %v", err)
	}
}
