package drain_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/disruption"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/drain"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup runs a control plane with 2 nodes, the disruption controller, and a
// ReplicaSet of 4 ready pods with node-1 cordoned so they all land on
// node-0; node-1 is then uncordoned to receive replacements.
func setup(ctx context.Context, t *testing.T, pdb *api.PodDisruptionBudgetSpec) *testenv.Env {
	t.Helper()
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	if err := disruption.Add(env.Manager, disruption.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := drain.Cordon(ctx, env.Store, "node-1"); err != nil {
		t.Fatal(err)
	}
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.ReplicaSetSpec{
			Replicas: ptr(int32(4)),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	if _, err := env.Store.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := readyOn(ctx, env, "node-0", 4); err != nil {
		t.Fatal(err)
	}
	if err := drain.Uncordon(ctx, env.Store, "node-1"); err != nil {
		t.Fatal(err)
	}
	pdb.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	if _, err := env.Store.Create(ctx, &api.PodDisruptionBudget{Metadata: &api.ObjectMeta{Name: "web-pdb", Namespace: "default"}, Spec: pdb}); err != nil {
		t.Fatal(err)
	}
	return env
}

// readyOn waits until node has n ready, active pods.
func readyOn(ctx context.Context, env *testenv.Env, node string, n int) error {
	return testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		c := 0
		for _, p := range pods {
			if p.GetSpec().GetNodeName() == node && podutil.IsActive(p) && !podutil.IsTerminating(p) && podutil.IsReady(p) {
				c++
			}
		}
		return c == n
	})
}

func TestDrainBlockedByPDB(t *testing.T) {
	ctx := timeout(t)
	env := setup(ctx, t, &api.PodDisruptionBudgetSpec{MinAvailable: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 4}}})
	pdb, err := testenv.UntilObject(ctx, env.Store, "default", "web-pdb", func(p *api.PodDisruptionBudget) bool {
		return p.GetStatus().GetExpectedPods() == 4 && p.GetStatus().GetCurrentHealthy() == 4
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := pdb.GetStatus(); st.GetCurrentHealthy() != 4 || st.GetDesiredHealthy() != 4 || st.GetDisruptionsAllowed() != 0 {
		t.Fatalf("pdb status = %v, want healthy 4 desired 4 allowed 0", st)
	}
	evicted, err := drain.Drain(ctx, env.Store, "node-0", drain.Options{})
	if !errors.Is(err, disruption.ErrBlocked) {
		t.Fatalf("drain: err = %v, want ErrBlocked", err)
	}
	var de *drain.Error
	if !errors.As(err, &de) || len(de.Pods) != 4 || !strings.Contains(err.Error(), `pod disruption budget "web-pdb" (4 healthy, needs 4)`) {
		t.Fatalf("drain error = %v, want all 4 pods blocked by web-pdb", err)
	}
	if len(evicted) != 0 {
		t.Fatalf("evicted %v despite the budget", evicted)
	}
	node, err := store.For[*api.Node](env.Store).Get(ctx, "", "node-0")
	if err != nil {
		t.Fatal(err)
	}
	if !node.GetSpec().GetUnschedulable() {
		t.Error("node-0 not cordoned")
	}
}

// With maxUnavailable 25% (of the ReplicaSet's 4: 1) and Wait, the drain evicts one pod at a time as
// replacements become ready on the other node, and finishes.
func TestDrainWaitsForBudget(t *testing.T) {
	ctx := timeout(t)
	env := setup(ctx, t, &api.PodDisruptionBudgetSpec{MaxUnavailable: &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: "25%"}}})
	evicted, err := drain.Drain(ctx, env.Store, "node-0", drain.Options{Wait: true, RetryInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	// At least the 4 pods; a replacement the scheduler placed before it
	// saw the cordon is evicted too.
	if len(evicted) < 4 {
		t.Fatalf("evicted %v, want the 4 pods", evicted)
	}
	if err := readyOn(ctx, env, "node-1", 4); err != nil {
		t.Fatal(err)
	}
}

func TestDrainRefusesUnmanaged(t *testing.T) {
	ctx := timeout(t)
	env := testenv.Start(t, testenv.Options{Nodes: 1})
	bare := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "bare", Namespace: "default"},
		Spec:     &api.PodSpec{NodeName: "node-0", Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := env.Store.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	// The owner must exist, or the garbage collector takes the pod first.
	ds, err := env.Store.Create(ctx, &api.DaemonSet{
		Metadata: &api.ObjectMeta{Name: "logs", Namespace: "default"},
		Spec: &api.DaemonSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "logs"}},
			Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "logs"}},
				Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	daemon := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "daemon", Namespace: "default", Labels: map[string]string{"app": "logs"}, OwnerReferences: []*api.OwnerReference{
			{ApiVersion: "apps/v1", Kind: api.KindDaemonSet, Name: "logs", Uid: ds.GetMetadata().GetUid(), Controller: true},
		}},
		Spec: &api.PodSpec{NodeName: "node-0", Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := env.Store.Create(ctx, daemon); err != nil {
		t.Fatal(err)
	}
	if _, err := drain.Drain(ctx, env.Store, "node-0", drain.Options{Wait: true}); !errors.Is(err, drain.ErrUnmanaged) {
		t.Fatalf("err = %v, want ErrUnmanaged", err)
	}
	evicted, err := drain.Drain(ctx, env.Store, "node-0", drain.Options{Force: true})
	if err != nil || !slices.Equal(evicted, []string{"default/bare"}) {
		t.Fatalf("forced drain: evicted %v, err %v; want only the bare pod (daemon pods stay)", evicted, err)
	}
	evicted, err = drain.Drain(ctx, env.Store, "node-0", drain.Options{IncludeDaemonSets: true})
	if err != nil || !slices.Equal(evicted, []string{"default/daemon"}) {
		t.Fatalf("drain with daemon sets: evicted %v, err %v", evicted, err)
	}
}

// Concurrent evictions never take a budget below its floor.
func TestEvictConcurrent(t *testing.T) {
	ctx := timeout(t)
	env := testenv.Start(t, testenv.Options{Nodes: 1})
	var names []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		p := &api.Pod{
			Metadata: &api.ObjectMeta{Name: n, Namespace: "default", Labels: map[string]string{"app": "x"}},
			Spec:     &api.PodSpec{NodeName: "node-0", Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
		}
		if _, err := env.Store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := readyOn(ctx, env, "node-0", 5); err != nil {
		t.Fatal(err)
	}
	pdb := &api.PodDisruptionBudget{Metadata: &api.ObjectMeta{Name: "x", Namespace: "default"}, Spec: &api.PodDisruptionBudgetSpec{
		MinAvailable: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 3}},
		Selector:     &api.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
	}}
	if _, err := env.Store.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(names))
	done := make(chan struct{})
	for i, n := range names {
		go func() {
			errs[i] = disruption.Evict(ctx, env.Store, "default", n)
			done <- struct{}{}
		}()
	}
	for range names {
		<-done
	}
	ok, blocked := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, disruption.ErrBlocked):
			blocked++
		default:
			t.Errorf("evict: %v", err)
		}
	}
	if ok != 2 || blocked != 3 {
		t.Fatalf("%d evicted, %d blocked; want 2 and 3", ok, blocked)
	}
}
