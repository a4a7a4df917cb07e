package replicaset_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/replicaset"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func ptr[T any](v T) *T { return &v }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newRS(name string, replicas int32) *api.ReplicaSet {
	return &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: name},
		Spec: &api.ReplicaSetSpec{
			Replicas: ptr(replicas),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

// waitRunning waits until exactly n active pods with label app=app are
// running and ready, and returns them.
func waitRunning(ctx context.Context, t *testing.T, env *testenv.Env, app string, n int) []*api.Pod {
	t.Helper()
	var got []*api.Pod
	err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app}, func(pods []*api.Pod) bool {
		got = got[:0]
		for _, p := range pods {
			if podutil.IsActive(p) {
				got = append(got, p)
			}
		}
		if len(got) != n {
			return false
		}
		for _, p := range got {
			if !podutil.IsReady(p) {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("waiting for %d running pods of %s (have %d): %v", n, app, len(got), err)
	}
	return got
}

func waitStatus(ctx context.Context, t *testing.T, env *testenv.Env, name string, replicas, ready int32) {
	t.Helper()
	_, err := testenv.UntilObject(ctx, env.Store, "default", name, func(rs *api.ReplicaSet) bool {
		st := rs.GetStatus()
		return st.GetReplicas() == replicas && st.GetReadyReplicas() == ready && st.GetAvailableReplicas() == ready &&
			st.GetObservedGeneration() == rs.GetMetadata().GetGeneration()
	})
	if err != nil {
		t.Fatalf("waiting for status of %s: %v", name, err)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 3})
	rss := store.For[*api.ReplicaSet](env.Store)
	if _, err := rss.Create(ctx, newRS("web", 5)); err != nil {
		t.Fatal(err)
	}
	pods := waitRunning(ctx, t, env, "web", 5)
	for _, p := range pods {
		if p.GetSpec().GetNodeName() == "" || p.GetStatus().GetPodIp() == "" {
			t.Errorf("pod %s not bound or has no IP", p.GetMetadata().GetName())
		}
	}
	waitStatus(ctx, t, env, "web", 5, 5)

	for _, want := range []int32{12, 2, 0, 3, 40} {
		maxActive := watchMaxActive(ctx, t, env, "web")
		if _, err := rss.Mutate(ctx, "default", "web", func(rs *api.ReplicaSet) error {
			rs.Spec.Replicas = ptr(want)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		waitRunning(ctx, t, env, "web", int(want))
		waitStatus(ctx, t, env, "web", want, want)
		// No double creation: never more active pods than the larger of
		// the old and new counts.
		if got := maxActive(); got > 40 || (want == 12 && got > 12) {
			t.Fatalf("scaling to %d: %d active pods seen at once", want, got)
		}
	}
}

// watchMaxActive follows the pods of app and returns a function reporting
// the most active (not terminating, not finished) pods seen at once.
func watchMaxActive(ctx context.Context, t *testing.T, env *testenv.Env, app string) func() int {
	t.Helper()
	list, err := env.Store.List(ctx, api.KindPod, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	w, err := env.Store.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "default", LabelSelector: "app=" + app, Revision: list.Revision})
	if err != nil {
		t.Fatal(err)
	}
	active := map[string]bool{}
	for _, o := range list.Items {
		active[o.GetMetadata().GetName()] = podutil.IsActive(o.(*api.Pod))
	}
	var mu sync.Mutex
	most := 0
	count := func() int {
		n := 0
		for _, a := range active {
			if a {
				n++
			}
		}
		return n
	}
	most = count()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events() {
			p, ok := ev.Object.(*api.Pod)
			if !ok {
				continue
			}
			if ev.Type == store.EventDeleted {
				delete(active, p.GetMetadata().GetName())
			} else {
				active[p.GetMetadata().GetName()] = podutil.IsActive(p)
			}
			mu.Lock()
			most = max(most, count())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

func TestDeadPodsAreReplaced(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	if _, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, newRS("api", 3)); err != nil {
		t.Fatal(err)
	}
	pods := waitRunning(ctx, t, env, "api", 3)
	deleted := pods[0].GetMetadata().GetName()
	if _, err := env.Store.Delete(ctx, api.KindPod, "default", deleted, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	failed := pods[1].GetMetadata().GetName()
	if err := env.FailPod(ctx, "default", failed, 137); err != nil {
		t.Fatal(err)
	}
	again := waitRunning(ctx, t, env, "api", 3)
	for _, p := range again {
		if n := p.GetMetadata().GetName(); n == deleted || n == failed {
			t.Errorf("pod %s is still counted", n)
		}
	}
	// The failed pod is cleaned up.
	if err := testenv.UntilGone(ctx, env.Store, api.KindPod, "default", failed); err != nil {
		t.Fatal(err)
	}
}

func TestAdoptAndRelease(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 1})
	pods := store.For[*api.Pod](env.Store)
	orphan, err := pods.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "orphan", Labels: map[string]string{"app": "db"}},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Let the orphan run first: if the controller's pod cache has not seen
	// it when the ReplicaSet appears, two pods are created, the orphan is
	// adopted late and the surplus removed, least valuable first, which
	// must not be a running, ready, older pod.
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "orphan", podutil.IsReady); err != nil {
		t.Fatal(err)
	}
	rs, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, newRS("db", 2))
	if err != nil {
		t.Fatal(err)
	}
	running := waitRunning(ctx, t, env, "db", 2)
	adopted := false
	for _, p := range running {
		if p.GetMetadata().GetName() == orphan.GetMetadata().GetName() {
			adopted = api.IsControlledBy(p, rs.GetMetadata().GetUid())
		}
	}
	if !adopted {
		t.Fatalf("the orphan was not adopted")
	}
	// Relabel the adopted pod: it is released and replaced.
	if _, err := pods.Mutate(ctx, "default", "orphan", func(p *api.Pod) error {
		p.Metadata.Labels["app"] = "other"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "orphan", func(p *api.Pod) bool {
		return api.ControllerOf(p) == nil
	}); err != nil {
		t.Fatalf("the relabelled pod was not released: %v", err)
	}
	waitRunning(ctx, t, env, "db", 2)
}

func TestReplicationController(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	rc := &api.ReplicationController{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "legacy"},
		Spec: &api.ReplicationControllerSpec{
			Replicas: ptr(int32(4)),
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "legacy"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	if _, err := store.For[*api.ReplicationController](env.Store).Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	waitRunning(ctx, t, env, "legacy", 4)
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "legacy", func(rc *api.ReplicationController) bool {
		return rc.GetStatus().GetReadyReplicas() == 4
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSortLeastValuableFirst(t *testing.T) {
	at := func(sec int64) *timestamppb.Timestamp { return timestamppb.New(time.Unix(sec, 0)) }
	pod := func(name, node, phase string, ready bool, created int64) *api.Pod {
		p := &api.Pod{
			Metadata: &api.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Spec:     &api.PodSpec{NodeName: node},
			Status:   &api.PodStatus{Phase: phase},
		}
		if ready {
			p.Status.Conditions = []*api.Condition{{Type: "Ready", Status: "True"}}
		}
		return p
	}
	pods := []*api.Pod{
		pod("ready-old", "n", "Running", true, 1),
		pod("ready-new", "n", "Running", true, 5),
		pod("notready", "n", "Running", false, 1),
		pod("pending", "n", "Pending", false, 1),
		pod("unscheduled", "", "Pending", false, 1),
	}
	replicaset.SortLeastValuableFirst(pods)
	want := []string{"unscheduled", "pending", "notready", "ready-new", "ready-old"}
	for i, p := range pods {
		if p.GetMetadata().GetName() != want[i] {
			t.Fatalf("order[%d] = %s, want %s", i, p.GetMetadata().GetName(), want[i])
		}
	}
}
