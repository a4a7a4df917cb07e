package namespace_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/namespace"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

func TestDeletingANamespaceDeletesItsContents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	if _, err := env.Store.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "", "team", func(ns *api.Namespace) bool {
		return slices.Contains(ns.GetMetadata().GetFinalizers(), namespace.FinalizerNamespace) && ns.GetStatus().GetPhase() == namespace.PhaseActive
	}); err != nil {
		t.Fatal(err)
	}
	objs := []api.Object{
		&api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "team", Name: "cfg"}, Data: map[string]string{"a": "b"}},
		&api.Secret{Metadata: &api.ObjectMeta{Namespace: "team", Name: "s"}},
		&api.Service{Metadata: &api.ObjectMeta{Namespace: "team", Name: "svc"}, Spec: &api.ServiceSpec{Selector: map[string]string{"app": "x"}}},
		&api.Deployment{
			Metadata: &api.ObjectMeta{Namespace: "team", Name: "x"},
			Spec: &api.DeploymentSpec{
				Replicas: ptr(int32(3)),
				Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
				Template: &api.PodTemplateSpec{
					Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "x"}},
					Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
				},
			},
		},
		// A ConfigMap in another namespace must survive.
		&api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "keep"}},
	}
	for _, o := range objs {
		if _, err := env.Store.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "team"}, func(pods []*api.Pod) bool { return len(pods) == 3 }); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Delete(ctx, api.KindNamespace, "", "team", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindNamespace, "", "team"); err != nil {
		t.Fatal(err)
	}
	for _, ki := range env.Store.Registry().Kinds() {
		if ki.Scope != api.Namespaced {
			continue
		}
		// Eventually empty: an object written into the namespace after it
		// was emptied (an Event about a deleted pod) is swept up too.
		left := 0
		if err := testenv.Until(ctx, env.Store, ki.Kind, store.ListOptions{Namespace: "team"}, func(objs []api.Object) bool {
			left = len(objs)
			return left == 0
		}); err != nil {
			t.Errorf("%d %s left in the deleted namespace: %v", left, ki.Kind, err)
		}
	}
	if _, err := store.For[*api.ConfigMap](env.Store).Get(ctx, "default", "keep"); err != nil {
		t.Fatalf("an object of another namespace went: %v", err)
	}
}
