package handler

import (
	"context"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
)

// MapFunc returns the requests a change to obj should enqueue. obj is a
// shared informer cache object and must not be modified. It must not block.
type MapFunc func(ctx context.Context, obj api.Object) []reconcile.Request

// RequestFor returns the request naming obj.
func RequestFor(obj api.Object) reconcile.Request {
	m := obj.GetMetadata()
	return reconcile.Request{Namespace: m.GetNamespace(), Name: m.GetName()}
}

// EnqueueObject maps an object to a request for itself.
func EnqueueObject() MapFunc {
	return func(_ context.Context, obj api.Object) []reconcile.Request {
		return []reconcile.Request{RequestFor(obj)}
	}
}

// EnqueueOwner maps an object to its controller owner when that owner is of
// ownerKind. A namespaced owner lives in the object's namespace; a
// cluster-scoped one has no namespace.
func EnqueueOwner(ownerKind string, ownerScope api.Scope) MapFunc {
	return func(_ context.Context, obj api.Object) []reconcile.Request {
		ref := api.ControllerOf(obj)
		if ref == nil || ref.GetKind() != ownerKind || ref.GetName() == "" {
			return nil
		}
		ns := obj.GetMetadata().GetNamespace()
		if ownerScope == api.ClusterScoped {
			ns = ""
		}
		return []reconcile.Request{{Namespace: ns, Name: ref.GetName()}}
	}
}
