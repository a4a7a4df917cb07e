// Package wiring builds the built-in controllers over a manager's shared
// informers without adding them to the manager, so that an embedder (such
// as testenv) can run them as a group it stops before the caches they read.
// It does what builder.Build does, minus the final manager.Add.
package wiring

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"

	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/predicate"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
)

// Watch is one more source of requests: changes to objects of Kind,
// mapped to requests by Map, or (Owns) to their controller owner of the
// For kind.
type Watch struct {
	Kind string
	Map  handler.MapFunc
	Owns bool
	// Preds filter the changes that enqueue anything.
	Preds []predicate.Predicate
}

// New returns a controller named name that reconciles objects of forKind
// with r, woken by forKind's changes and by watches.
func New(mgr *manager.Manager, name, forKind string, workers int, r reconcile.Reconciler, watches ...Watch) (*controller.Controller, error) {
	forInfo, err := mgr.Store().Registry().Lookup(forKind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ctrl, err := controller.New(controller.Options{
		Name:       name,
		Reconciler: r,
		Workers:    workers,
		Logger:     mgr.Logger(),
		Metrics:    mgr.Metrics(),
	})
	if err != nil {
		return nil, err
	}
	all := append([]Watch{{Kind: forKind, Map: handler.EnqueueObject()}}, watches...)
	for _, w := range all {
		if w.Owns {
			w.Map = handler.EnqueueOwner(forInfo.Kind, forInfo.Scope)
		}
		inf, err := mgr.Informer(w.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := ctrl.Watch(inf, w.Map, w.Preds...); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return ctrl, nil
}

// NewSingleton returns a controller whose every request is the same one,
// {Name: name}: for reconcilers that act on the whole of a kind at once
// (allocators rebuilt from every object), a burst of changes collapses into
// one reconcile.
func NewSingleton(mgr *manager.Manager, name, kind string, r reconcile.Reconciler) (*controller.Controller, error) {
	ctrl, err := controller.New(controller.Options{
		Name:       name,
		Reconciler: r,
		Workers:    1,
		Logger:     mgr.Logger(),
		Metrics:    mgr.Metrics(),
	})
	if err != nil {
		return nil, err
	}
	inf, err := mgr.Informer(kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	all := []reconcile.Request{{Name: name}}
	if err := ctrl.Watch(inf, func(context.Context, api.Object) []reconcile.Request { return all }); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ctrl, nil
}
