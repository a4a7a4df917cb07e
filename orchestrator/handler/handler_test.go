package handler

import (
	"context"
	"slices"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
)

func TestEnqueueObject(t *testing.T) {
	obj := &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p"}}
	got := EnqueueObject()(context.Background(), obj)
	if !slices.Equal(got, []reconcile.Request{{Namespace: "ns", Name: "p"}}) {
		t.Fatalf("got %v", got)
	}
}

func TestEnqueueOwner(t *testing.T) {
	owned := func(refs ...*api.OwnerReference) api.Object {
		return &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p", OwnerReferences: refs}}
	}
	rs := &api.OwnerReference{Kind: api.KindReplicaSet, Name: "web", Uid: "u1", Controller: true}
	tests := []struct {
		name  string
		obj   api.Object
		kind  string
		scope api.Scope
		want  []reconcile.Request
	}{
		{"controller owner", owned(rs), api.KindReplicaSet, api.Namespaced, []reconcile.Request{{Namespace: "ns", Name: "web"}}},
		{"other kind", owned(rs), api.KindDeployment, api.Namespaced, nil},
		{"not controller", owned(&api.OwnerReference{Kind: api.KindReplicaSet, Name: "web"}), api.KindReplicaSet, api.Namespaced, nil},
		{"no owners", owned(), api.KindReplicaSet, api.Namespaced, nil},
		{"cluster-scoped owner", owned(&api.OwnerReference{Kind: api.KindNode, Name: "n1", Controller: true}), api.KindNode, api.ClusterScoped, []reconcile.Request{{Name: "n1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EnqueueOwner(tt.kind, tt.scope)(context.Background(), tt.obj)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
