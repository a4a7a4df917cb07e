package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// FinalizerNamespace holds a deleted Namespace until its contents are gone.
const FinalizerNamespace = "coxswain.io/namespace"

// Namespace phases.
const (
	PhaseActive      = "Active"
	PhaseTerminating = "Terminating"
)

// Options tune the controller.
type Options struct {
	// Workers is the number of Namespaces reconciled at once (default 2).
	Workers int
	// RecheckInterval is how often a terminating Namespace is checked
	// again while objects remain, besides the wake-ups from their changes
	// (default 1s).
	RecheckInterval time.Duration
}

// Add registers the Namespace controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// New returns the Namespace controller over mgr's shared informers,
// without adding it to mgr.
func New(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.RecheckInterval <= 0 {
		opts.RecheckInterval = time.Second
	}
	namespaces, err := manager.ListerFor[*api.Namespace](mgr)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{store: mgr.Store(), namespaces: namespaces, opts: opts, finalized: map[string]time.Time{}}
	var watches []wiring.Watch
	for _, ki := range mgr.Store().Registry().Kinds() {
		if ki.Scope != api.Namespaced {
			continue
		}
		r.kinds = append(r.kinds, ki.Kind)
		watches = append(watches, wiring.Watch{Kind: ki.Kind, Map: r.terminatingNamespaceOf})
	}
	slices.Sort(r.kinds)
	return wiring.New(mgr, "namespace", api.KindNamespace, opts.Workers, r, watches...)
}

// Reconciler runs the Namespace lifecycle.
type Reconciler struct {
	store      store.Store
	namespaces informer.Lister[*api.Namespace]
	kinds      []string
	opts       Options

	// finalized remembers the Namespaces this controller let go, and when,
	// so that an object written into one just after it was emptied (an
	// Event about a deleted pod, say) is deleted too. Nothing else checks
	// that a Namespace exists before a create.
	mu        sync.Mutex
	finalized map[string]time.Time
}

// forgetAfter bounds how long a finalized Namespace is remembered.
const forgetAfter = 10 * time.Minute

func (r *Reconciler) wasFinalized(ns string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.finalized[ns]
	if ok && time.Since(at) > forgetAfter {
		delete(r.finalized, ns)
		return false
	}
	return ok
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// terminatingNamespaceOf wakes obj's Namespace if it is being deleted.
func (r *Reconciler) terminatingNamespaceOf(_ context.Context, obj api.Object) []reconcile.Request {
	ns := obj.GetMetadata().GetNamespace()
	if ns == "" {
		return nil
	}
	n, ok := r.namespaces.Get("", ns)
	if ok && podutil.IsTerminating(n) || !ok && r.wasFinalized(ns) {
		return []reconcile.Request{{Name: ns}}
	}
	return nil
}

// Reconcile adds the finalizer to a live Namespace, or empties and
// releases a terminating one.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns, ok := r.namespaces.Get("", req.Name)
	if !ok {
		return reconcile.Result{}, r.sweep(ctx, req.Name)
	}
	typed := store.For[*api.Namespace](r.store)
	if !podutil.IsTerminating(ns) {
		if !slices.Contains(ns.GetMetadata().GetFinalizers(), FinalizerNamespace) {
			if _, err := typed.Mutate(ctx, "", req.Name, func(n *api.Namespace) error {
				if podutil.IsTerminating(n) || slices.Contains(n.Metadata.Finalizers, FinalizerNamespace) {
					return errSkip
				}
				n.Metadata.Finalizers = append(n.Metadata.Finalizers, FinalizerNamespace)
				return nil
			}); err != nil && !errors.Is(err, errSkip) && !store.IsNotFound(err) {
				return reconcile.Result{}, err
			}
		}
		return reconcile.Result{}, r.setPhase(ctx, ns, PhaseActive)
	}
	if !slices.Contains(ns.GetMetadata().GetFinalizers(), FinalizerNamespace) {
		return reconcile.Result{}, nil
	}
	if err := r.setPhase(ctx, ns, PhaseTerminating); err != nil {
		return reconcile.Result{}, err
	}
	remaining, err := r.deleteContents(ctx, req.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	if remaining > 0 {
		return reconcile.Result{RequeueAfter: r.opts.RecheckInterval}, nil
	}
	r.mu.Lock()
	r.finalized[req.Name] = time.Now()
	r.mu.Unlock()
	_, err = typed.Mutate(ctx, "", req.Name, func(n *api.Namespace) error {
		n.Metadata.Finalizers = slices.DeleteFunc(n.Metadata.Finalizers, func(f string) bool { return f == FinalizerNamespace })
		return nil
	})
	if store.IsNotFound(err) {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, err
}

// sweep deletes what was written into a Namespace this controller let go,
// once the store confirms the Namespace is gone.
func (r *Reconciler) sweep(ctx context.Context, name string) error {
	if !r.wasFinalized(name) {
		return nil
	}
	_, err := r.store.Get(ctx, api.KindNamespace, "", name)
	switch {
	case err == nil:
		r.mu.Lock()
		delete(r.finalized, name) // created again: its objects are wanted
		r.mu.Unlock()
		return nil
	case !store.IsNotFound(err):
		return err
	}
	_, err = r.deleteContents(ctx, name)
	return err
}

var errSkip = errors.New("namespace: nothing to do")

func (r *Reconciler) setPhase(ctx context.Context, ns *api.Namespace, phase string) error {
	if ns.GetStatus().GetPhase() == phase {
		return nil
	}
	out := api.Clone(ns)
	if out.Status == nil {
		out.Status = &api.NamespaceStatus{}
	}
	out.Status.Phase = phase
	_, err := r.store.UpdateStatus(ctx, out)
	if store.IsConflict(err) || store.IsNotFound(err) {
		return nil // the newer version will be reconciled
	}
	return err
}

// deleteContents deletes every object in namespace and returns how many
// were still there (being deleted or not) when it looked. It reads from the
// store, not a cache, so that nothing created just before is missed.
func (r *Reconciler) deleteContents(ctx context.Context, namespace string) (int, error) {
	remaining := 0
	var errs error
	for _, kind := range r.kinds {
		list, err := r.store.List(ctx, kind, store.ListOptions{Namespace: namespace})
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("list %s: %w", kind, err))
			continue
		}
		remaining += len(list.Items)
		for _, obj := range list.Items {
			m := obj.GetMetadata()
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			_, err := r.store.Delete(ctx, kind, namespace, m.GetName(), store.DeleteOptions{UID: m.GetUid()})
			if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
				errs = errors.Join(errs, fmt.Errorf("delete %s %s/%s: %w", kind, namespace, m.GetName(), err))
			}
		}
	}
	return remaining, errs
}
