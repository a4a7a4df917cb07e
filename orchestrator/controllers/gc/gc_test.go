package gc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startRS creates a ReplicaSet of n pods and waits until they run.
func startRS(ctx context.Context, t *testing.T, env *testenv.Env, name string, n int32) *api.ReplicaSet {
	t.Helper()
	rs, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: name},
		Spec: &api.ReplicaSetSpec{
			Replicas: ptr(n),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=" + name}, func(pods []*api.Pod) bool {
		return len(pods) == int(n) && !slices.ContainsFunc(pods, func(p *api.Pod) bool { return !podutil.IsReady(p) })
	}); err != nil {
		t.Fatal(err)
	}
	return rs
}

func podsOf(ctx context.Context, t *testing.T, env *testenv.Env, app string) []*api.Pod {
	t.Helper()
	pods, _, err := store.For[*api.Pod](env.Store).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func TestBackgroundDeletion(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	startRS(ctx, t, env, "bg", 3)
	if _, err := env.Store.Delete(ctx, api.KindReplicaSet, "default", "bg", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=bg"}, func(pods []*api.Pod) bool {
		return len(pods) == 0
	}); err != nil {
		t.Fatalf("dependents of a deleted owner were not collected: %v", err)
	}
}

func TestForegroundDeletion(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	startRS(ctx, t, env, "fg", 3)
	// Hold one pod's deletion with a finalizer of our own, so the owner's
	// wait is observable.
	held := podsOf(ctx, t, env, "fg")[0].GetMetadata().GetName()
	if _, err := store.For[*api.Pod](env.Store).Mutate(ctx, "default", held, func(p *api.Pod) error {
		p.Metadata.Finalizers = append(p.Metadata.Finalizers, "example.com/hold")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Delete(ctx, api.KindReplicaSet, "default", "fg", store.DeleteOptions{PropagationPolicy: store.PropagationForeground}); err != nil {
		t.Fatal(err)
	}
	// Every other pod goes; the held one is terminating; the owner waits.
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=fg"}, func(pods []*api.Pod) bool {
		return len(pods) == 1 && pods[0].GetMetadata().GetName() == held && podutil.IsTerminating(pods[0])
	}); err != nil {
		t.Fatal(err)
	}
	rs, err := store.For[*api.ReplicaSet](env.Store).Get(ctx, "default", "fg")
	if err != nil {
		t.Fatalf("the owner went before its blocking dependent: %v", err)
	}
	if !slices.Contains(rs.GetMetadata().GetFinalizers(), store.FinalizerForeground) {
		t.Fatalf("owner finalizers = %v", rs.GetMetadata().GetFinalizers())
	}
	// Release the held pod: then the owner goes.
	if _, err := store.For[*api.Pod](env.Store).Mutate(ctx, "default", held, func(p *api.Pod) error {
		p.Metadata.Finalizers = slices.DeleteFunc(p.Metadata.Finalizers, func(f string) bool { return f == "example.com/hold" })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindReplicaSet, "default", "fg"); err != nil {
		t.Fatal(err)
	}
}

func TestOrphanDeletion(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	startRS(ctx, t, env, "orph", 2)
	if _, err := env.Store.Delete(ctx, api.KindReplicaSet, "default", "orph", store.DeleteOptions{PropagationPolicy: store.PropagationOrphan}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindReplicaSet, "default", "orph"); err != nil {
		t.Fatal(err)
	}
	pods := podsOf(ctx, t, env, "orph")
	if len(pods) != 2 {
		t.Fatalf("%d pods left, want the 2 orphans", len(pods))
	}
	for _, p := range pods {
		if len(p.GetMetadata().GetOwnerReferences()) != 0 || podutil.IsTerminating(p) {
			t.Errorf("pod %s: owners %v, terminating %v", p.GetMetadata().GetName(), p.GetMetadata().GetOwnerReferences(), podutil.IsTerminating(p))
		}
	}
}

// A dependent with two owners loses only the reference to the one that
// goes, and is deleted with the second.
func TestSeveralOwners(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{})
	cms := store.For[*api.ConfigMap](env.Store)
	a, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(o *api.ConfigMap) *api.OwnerReference {
		return &api.OwnerReference{ApiVersion: "v1", Kind: api.KindConfigMap, Name: o.GetMetadata().GetName(), Uid: o.GetMetadata().GetUid()}
	}
	if _, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{
		Namespace: "default", Name: "dep", OwnerReferences: []*api.OwnerReference{ref(a), ref(b)},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Delete(ctx, "default", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "dep", func(cm *api.ConfigMap) bool {
		refs := cm.GetMetadata().GetOwnerReferences()
		return len(refs) == 1 && refs[0].GetName() == "b"
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Delete(ctx, "default", "b", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindConfigMap, "default", "dep"); err != nil {
		t.Fatal(err)
	}
}

// A dependent whose owner never existed (a dangling reference) is
// collected; a cluster-scoped owner is looked up without a namespace.
func TestDanglingAndClusterScopedOwners(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 1})
	cms := store.For[*api.ConfigMap](env.Store)
	node, err := store.For[*api.Node](env.Store).Get(ctx, "", "node-0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "of-node",
		OwnerReferences: []*api.OwnerReference{{ApiVersion: "v1", Kind: api.KindNode, Name: "node-0", Uid: node.GetMetadata().GetUid()}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "dangling",
		OwnerReferences: []*api.OwnerReference{{ApiVersion: "v1", Kind: api.KindConfigMap, Name: "never", Uid: "no-such-uid"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindConfigMap, "default", "dangling"); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "default", "of-node"); err != nil {
		t.Fatalf("a dependent of a live cluster-scoped owner was collected: %v", err)
	}
}
