package builder

import (
	"errors"
	"fmt"
	"strings"

	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/predicate"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
)

type watchSpec struct {
	kind  string
	mapFn handler.MapFunc // nil: set by Build (For or Owns)
	owns  bool
	preds []predicate.Predicate
}

// Builder collects a controller's configuration. Methods record their
// arguments; errors surface from Build or Complete.
type Builder struct {
	mgr      *manager.Manager
	name     string
	forSpec  *watchSpec
	watches  []watchSpec
	preds    []predicate.Predicate
	workers  int
	rl       workqueue.RateLimiter[reconcile.Request]
	skipLead bool
	errs     []error
}

// ControllerManagedBy starts a builder for a controller run by mgr.
func ControllerManagedBy(mgr *manager.Manager) *Builder { return &Builder{mgr: mgr} }

// Named sets the controller's name (default: the For kind in lower case).
func (b *Builder) Named(name string) *Builder {
	b.name = name
	return b
}

// For sets the kind the controller reconciles: changes to its objects
// enqueue a request for the object itself. Call it exactly once.
func (b *Builder) For(kind string, preds ...predicate.Predicate) *Builder {
	if b.forSpec != nil {
		b.errs = append(b.errs, fmt.Errorf("For called twice (%s, then %s)", b.forSpec.kind, kind))
		return b
	}
	b.forSpec = &watchSpec{kind: kind, preds: preds}
	return b
}

// Owns makes changes to objects of kind wake their controller owner, when
// that owner is of the For kind.
func (b *Builder) Owns(kind string, preds ...predicate.Predicate) *Builder {
	b.watches = append(b.watches, watchSpec{kind: kind, owns: true, preds: preds})
	return b
}

// Watches makes changes to objects of kind enqueue the requests mapFn
// returns (requests name objects of the For kind).
func (b *Builder) Watches(kind string, mapFn handler.MapFunc, preds ...predicate.Predicate) *Builder {
	if mapFn == nil {
		b.errs = append(b.errs, fmt.Errorf("Watches(%s): nil map function", kind))
		return b
	}
	b.watches = append(b.watches, watchSpec{kind: kind, mapFn: mapFn, preds: preds})
	return b
}

// WithPredicates adds predicates applied to every watched kind.
func (b *Builder) WithPredicates(preds ...predicate.Predicate) *Builder {
	b.preds = append(b.preds, preds...)
	return b
}

// WithWorkers sets the number of concurrent reconciles (default 1).
func (b *Builder) WithWorkers(n int) *Builder {
	b.workers = n
	return b
}

// WithRateLimiter sets the retry backoff.
func (b *Builder) WithRateLimiter(rl workqueue.RateLimiter[reconcile.Request]) *Builder {
	b.rl = rl
	return b
}

// WithoutLeaderElection runs the controller on every replica.
func (b *Builder) WithoutLeaderElection() *Builder {
	b.skipLead = true
	return b
}

// Build creates the controller, wires its watches to the manager's shared
// informers and adds it to the manager.
func (b *Builder) Build(r reconcile.Reconciler) (*controller.Controller, error) {
	if b.mgr == nil {
		b.errs = append(b.errs, errors.New("no manager"))
	}
	if b.forSpec == nil {
		b.errs = append(b.errs, errors.New("For was not called"))
	}
	if r == nil {
		b.errs = append(b.errs, errors.New("nil reconciler"))
	}
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("builder: %w", errors.Join(b.errs...))
	}
	reg := b.mgr.Store().Registry()
	forInfo, err := reg.Lookup(b.forSpec.kind)
	if err != nil {
		return nil, fmt.Errorf("builder: For: %w", err)
	}
	name := b.name
	if name == "" {
		name = strings.ToLower(forInfo.Kind)
	}
	ctrl, err := controller.New(controller.Options{
		Name:               name,
		Reconciler:         r,
		Workers:            b.workers,
		RateLimiter:        b.rl,
		Logger:             b.mgr.Logger(),
		Metrics:            b.mgr.Metrics(),
		SkipLeaderElection: b.skipLead,
	})
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	specs := append([]watchSpec{{kind: forInfo.Kind, mapFn: handler.EnqueueObject(), preds: b.forSpec.preds}}, b.watches...)
	for _, w := range specs {
		if w.owns {
			w.mapFn = handler.EnqueueOwner(forInfo.Kind, forInfo.Scope)
		}
		inf, err := b.mgr.Informer(w.kind)
		if err != nil {
			return nil, fmt.Errorf("builder %s: %w", name, err)
		}
		preds := append(append([]predicate.Predicate(nil), b.preds...), w.preds...)
		if err := ctrl.Watch(inf, w.mapFn, preds...); err != nil {
			return nil, fmt.Errorf("builder %s: %w", name, err)
		}
	}
	if err := b.mgr.Add(ctrl); err != nil {
		return nil, fmt.Errorf("builder %s: %w", name, err)
	}
	return ctrl, nil
}

// Complete is Build without the controller.
func (b *Builder) Complete(r reconcile.Reconciler) error {
	_, err := b.Build(r)
	return err
}
