package disruption

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// ErrBlocked matches (with errors.Is) every eviction refused because a
// PodDisruptionBudget allows no more disruptions.
var ErrBlocked = errors.New("eviction blocked by a pod disruption budget")

// BlockedError is an eviction refused by a budget.
type BlockedError struct {
	// Namespace and Pod name the pod that could not be evicted.
	Namespace, Pod string
	// Budget is the name of the PodDisruptionBudget that refused it.
	Budget string
	// Healthy and Desired are the budget's healthy pods and the floor.
	Healthy, Desired int32
}

// Error names the pod and the budget and says why.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("cannot evict pod %s/%s: it would violate pod disruption budget %q (%d healthy, needs %d)",
		e.Namespace, e.Pod, e.Budget, e.Healthy, e.Desired)
}

// Is makes the error match ErrBlocked.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Counts is a budget's computed state.
type Counts struct {
	Expected, Healthy, Desired, Allowed int32
}

// ScaleFunc returns the desired replica count of a pod's controller, or
// false if the controller has no scale the budget can use (its pods are
// then counted one by one).
type ScaleFunc func(namespace string, controller *api.OwnerReference) (int32, bool)

// StoreScale reads the scale of ReplicaSets and ReplicationControllers
// from s.
func StoreScale(ctx context.Context, s store.Store) ScaleFunc {
	return func(ns string, ref *api.OwnerReference) (int32, bool) {
		switch ref.GetKind() {
		case api.KindReplicaSet:
			rs, err := store.For[*api.ReplicaSet](s).Get(ctx, ns, ref.GetName())
			if err != nil || rs.GetMetadata().GetUid() != ref.GetUid() {
				return 0, false
			}
			if rs.GetSpec().Replicas == nil {
				return 1, true
			}
			return rs.GetSpec().GetReplicas(), true
		case api.KindReplicationController:
			rc, err := store.For[*api.ReplicationController](s).Get(ctx, ns, ref.GetName())
			if err != nil || rc.GetMetadata().GetUid() != ref.GetUid() {
				return 0, false
			}
			if rc.GetSpec().Replicas == nil {
				return 1, true
			}
			return rc.GetSpec().GetReplicas(), true
		}
		return 0, false
	}
}

// Compute evaluates a budget over the pods of its namespace (pods it does
// not select are ignored; terminating and finished pods are not healthy).
// expectedPods is the sum of the scales of the selected pods' controllers
// (from scale, which may be nil) plus the selected active pods that have
// no such controller, so a budget in percent does not shrink as its pods
// are evicted.
func Compute(pdb *api.PodDisruptionBudget, pods []*api.Pod, scale ScaleFunc) (Counts, error) {
	sel, err := labels.FromLabelSelector(pdb.GetSpec().GetSelector())
	if err != nil {
		return Counts{}, fmt.Errorf("pdb %s: selector: %w: %w", pdb.GetMetadata().GetName(), store.ErrInvalid, err)
	}
	var c Counts
	counted := map[string]bool{} // controller uids already counted
	for _, p := range pods {
		if p.GetMetadata().GetNamespace() != pdb.GetMetadata().GetNamespace() ||
			!sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			continue
		}
		if ref := api.ControllerOf(p); ref != nil && scale != nil {
			if done, ok := counted[ref.GetUid()]; ok {
				if !done {
					c.Expected += boolInt(podutil.IsActive(p))
				}
			} else if n, ok := scale(p.GetMetadata().GetNamespace(), ref); ok {
				counted[ref.GetUid()] = true
				c.Expected += n
			} else {
				counted[ref.GetUid()] = false
				c.Expected += boolInt(podutil.IsActive(p))
			}
		} else {
			c.Expected += boolInt(podutil.IsActive(p))
		}
		if podutil.IsActive(p) && podutil.IsReady(p) {
			c.Healthy++
		}
	}
	spec := pdb.GetSpec()
	switch {
	case spec.GetMinAvailable() != nil:
		v, err := scaled(spec.GetMinAvailable(), c.Expected)
		if err != nil {
			return Counts{}, err
		}
		c.Desired = v
	case spec.GetMaxUnavailable() != nil:
		v, err := scaled(spec.GetMaxUnavailable(), c.Expected)
		if err != nil {
			return Counts{}, err
		}
		c.Desired = max(c.Expected-v, 0)
	default:
		// Neither set: no disruption may take a pod below what runs now.
		c.Desired = c.Expected
	}
	c.Allowed = max(c.Healthy-c.Desired, 0)
	return c, nil
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// scaled resolves an int or a percentage of total, rounding up.
func scaled(v *api.IntOrString, total int32) (int32, error) {
	s, isStr := v.GetValue().(*api.IntOrString_StrVal)
	if !isStr {
		return v.GetIntVal(), nil
	}
	pct, err := strconv.Atoi(strings.TrimSuffix(s.StrVal, "%"))
	if err != nil || !strings.HasSuffix(s.StrVal, "%") {
		return 0, fmt.Errorf("%q is not a percentage: %w", s.StrVal, store.ErrInvalid)
	}
	return int32((int64(pct)*int64(total) + 99) / 100), nil
}

// Evict deletes a pod unless a PodDisruptionBudget forbids it, in which
// case it returns a *BlockedError. The budgets that allowed it are charged
// in the same transaction as the delete; on a concurrent change it
// recomputes and tries again.
func Evict(ctx context.Context, s store.Store, namespace, name string) error {
	for attempt := 0; attempt < 16; attempt++ {
		err := evictOnce(ctx, s, namespace, name)
		if !store.IsConflict(err) {
			return err
		}
	}
	return fmt.Errorf("evict %s/%s: %w", namespace, name, store.ErrConflict)
}

func evictOnce(ctx context.Context, s store.Store, namespace, name string) error {
	pod, err := store.For[*api.Pod](s).Get(ctx, namespace, name)
	if err != nil {
		return fmt.Errorf("evict: %w", err)
	}
	if podutil.IsTerminating(pod) {
		return nil
	}
	del := store.DeleteOp(api.KindPod, namespace, name, store.DeleteOptions{UID: pod.GetMetadata().GetUid()})
	if !podutil.IsActive(pod) {
		_, err := s.Txn(ctx, del)
		return err
	}
	pdbs, _, err := store.For[*api.PodDisruptionBudget](s).List(ctx, store.ListOptions{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("evict: %w", err)
	}
	var matching []*api.PodDisruptionBudget
	for _, pdb := range pdbs {
		sel, err := labels.FromLabelSelector(pdb.GetSpec().GetSelector())
		if err == nil && sel.Matches(labels.Set(pod.GetMetadata().GetLabels())) {
			matching = append(matching, pdb)
		}
	}
	ops := []store.Op{}
	if len(matching) > 0 {
		pods, _, err := store.For[*api.Pod](s).List(ctx, store.ListOptions{Namespace: namespace})
		if err != nil {
			return fmt.Errorf("evict: %w", err)
		}
		for _, pdb := range matching {
			c, err := Compute(pdb, pods, StoreScale(ctx, s))
			if err != nil {
				return err
			}
			if !podutil.IsReady(pod) {
				// Not healthy: removing it takes nothing from the budget,
				// but guard against a concurrent change all the same.
				ops = append(ops, store.CheckOp(api.KindPodDisruptionBudget, namespace, pdb.GetMetadata().GetName(), pdb.GetMetadata().GetResourceVersion()))
				continue
			}
			if c.Allowed <= 0 {
				return &BlockedError{Namespace: namespace, Pod: name, Budget: pdb.GetMetadata().GetName(), Healthy: c.Healthy, Desired: c.Desired}
			}
			out := api.Clone(pdb)
			out.Status = statusOf(pdb, Counts{Expected: c.Expected, Healthy: c.Healthy - 1, Desired: c.Desired, Allowed: c.Allowed - 1})
			ops = append(ops, store.UpdateStatusOp(out))
		}
	}
	ops = append(ops, del)
	if _, err := s.Txn(ctx, ops...); err != nil {
		if store.IsNotFound(err) {
			return nil
		}
		return err
	}
	return nil
}

func statusOf(pdb *api.PodDisruptionBudget, c Counts) *api.PodDisruptionBudgetStatus {
	st := &api.PodDisruptionBudgetStatus{}
	if pdb.GetStatus() != nil {
		st = proto.Clone(pdb.GetStatus()).(*api.PodDisruptionBudgetStatus)
	}
	st.ObservedGeneration = pdb.GetMetadata().GetGeneration()
	st.ExpectedPods, st.CurrentHealthy, st.DesiredHealthy, st.DisruptionsAllowed = c.Expected, c.Healthy, c.Desired, c.Allowed
	status, reason := podutil.StatusTrue, "SufficientPods"
	if c.Allowed == 0 {
		status, reason = podutil.StatusFalse, "InsufficientPods"
	}
	cond := podutil.Condition(st.Conditions, "DisruptionAllowed")
	if cond == nil {
		cond = &api.Condition{Type: "DisruptionAllowed"}
		st.Conditions = append(st.Conditions, cond)
	}
	cond.Status, cond.Reason = status, reason
	return st
}

// Options tune the controller.
type Options struct {
	// Workers is the number of budgets reconciled at once (default 2).
	Workers int
}

// Add registers the PodDisruptionBudget status controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	pdbInf, err := mgr.Informer(api.KindPodDisruptionBudget)
	if err != nil {
		return err
	}
	podInf, err := mgr.Informer(api.KindPod)
	if err != nil {
		return err
	}
	r := &Reconciler{
		store: mgr.Store(),
		pdbs:  informer.ListerFor[*api.PodDisruptionBudget](pdbInf),
		pods:  informer.ListerFor[*api.Pod](podInf),
	}
	// A pod change wakes every budget of its namespace that selects it.
	podToPDBs := func(_ context.Context, obj api.Object) []reconcile.Request {
		var out []reconcile.Request
		for _, pdb := range r.pdbs.List() {
			if pdb.GetMetadata().GetNamespace() != obj.GetMetadata().GetNamespace() {
				continue
			}
			sel, err := labels.FromLabelSelector(pdb.GetSpec().GetSelector())
			if err == nil && sel.Matches(labels.Set(obj.GetMetadata().GetLabels())) {
				out = append(out, handler.RequestFor(pdb))
			}
		}
		return out
	}
	// A scale change of a controller changes expectedPods of the budgets
	// of its namespace.
	inNamespace := func(_ context.Context, obj api.Object) []reconcile.Request {
		var out []reconcile.Request
		for _, pdb := range r.pdbs.List() {
			if pdb.GetMetadata().GetNamespace() == obj.GetMetadata().GetNamespace() {
				out = append(out, handler.RequestFor(pdb))
			}
		}
		return out
	}
	return builder.ControllerManagedBy(mgr).
		Named("disruption").
		For(api.KindPodDisruptionBudget).
		Watches(api.KindPod, podToPDBs).
		Watches(api.KindReplicaSet, inNamespace).
		Watches(api.KindReplicationController, inNamespace).
		WithWorkers(opts.Workers).
		Complete(r)
}

// Reconciler writes PodDisruptionBudgets' status.
type Reconciler struct {
	store store.Store
	pdbs  informer.Lister[*api.PodDisruptionBudget]
	pods  informer.Lister[*api.Pod]
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Reconcile recomputes one budget's status.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pdb, ok := r.pdbs.Get(req.Namespace, req.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	pods, err := r.pods.ByIndex(informer.IndexNamespace, req.Namespace)
	if err != nil {
		return reconcile.Result{}, err
	}
	c, err := Compute(pdb, pods, StoreScale(ctx, r.store))
	if err != nil {
		return reconcile.Result{}, reconcile.Terminal(err)
	}
	st := statusOf(pdb, c)
	if proto.Equal(st, pdb.GetStatus()) {
		return reconcile.Result{}, nil
	}
	out := api.Clone(pdb)
	out.Status = st
	if _, err := r.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("update status: %w", err)
	}
	return reconcile.Result{}, nil
}
