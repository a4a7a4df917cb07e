package replicaset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Options tune the replication controllers. The zero value is the default.
type Options struct {
	// Workers is the number of owners reconciled at once (default 4).
	Workers int
	// BurstReplicas caps the pods created or deleted by one reconcile
	// (default 500).
	BurstReplicas int
	// ExpectationTimeout is how long the controller waits for its cache to
	// show the pods it created or deleted before it trusts the cache anyway
	// (default 1m).
	ExpectationTimeout time.Duration
	// Clock tells the time for availability and expectations (default the
	// wall clock).
	Clock clock.Clock
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.BurstReplicas <= 0 {
		o.BurstReplicas = 500
	}
	if o.ExpectationTimeout <= 0 {
		o.ExpectationTimeout = time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
}

// Add registers the ReplicaSet and the ReplicationController controllers
// with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	if err := AddKind(mgr, api.KindReplicaSet, opts); err != nil {
		return err
	}
	return AddKind(mgr, api.KindReplicationController, opts)
}

// AddKind registers the controller for one kind: api.KindReplicaSet or
// api.KindReplicationController.
func AddKind(mgr *manager.Manager, kind string, opts Options) error {
	c, err := NewKind(mgr, kind, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// NewKind returns the controller for one kind over mgr's shared informers,
// without adding it to mgr.
func NewKind(mgr *manager.Manager, kind string, opts Options) (*controller.Controller, error) {
	opts.defaults()
	var ad adapter
	switch kind {
	case api.KindReplicaSet:
		ad = replicaSetAdapter()
	case api.KindReplicationController:
		ad = replicationControllerAdapter()
	default:
		return nil, fmt.Errorf("replicaset: kind %q is not replicated: %w", kind, store.ErrInvalid)
	}
	info, err := mgr.Store().Registry().Lookup(kind)
	if err != nil {
		return nil, fmt.Errorf("replicaset: %w", err)
	}
	ownerInf, err := mgr.Informer(kind)
	if err != nil {
		return nil, err
	}
	podInf, err := mgr.Informer(api.KindPod)
	if err != nil {
		return nil, err
	}
	// Both controllers (RS and RC) share the index; the second AddIndex
	// finds it there.
	if _, err := podInf.IndexValues(IndexOrphans); errors.Is(err, informer.ErrUnknownIndex) {
		if err := podInf.AddIndex(IndexOrphans, orphanIndex); err != nil {
			return nil, fmt.Errorf("replicaset: %w", err)
		}
	}
	r := &Reconciler{
		kind:       kind,
		apiVersion: info.APIVersion,
		ad:         ad,
		store:      mgr.Store(),
		owners:     ownerInf,
		pods:       informer.ListerFor[*api.Pod](podInf),
		opts:       opts,
		exp:        &expectations{m: map[string]*expectation{}},
	}
	return wiring.New(mgr, api.DefaultResourceName(kind), kind, opts.Workers, r, wiring.Watch{Kind: api.KindPod, Owns: true})
}

// IndexOrphans indexes active pods that have no controller by namespace, so
// that looking for pods to adopt costs O(orphans), not O(pods).
const IndexOrphans = "replicaset-orphans"

func orphanIndex(obj api.Object) []string {
	p := obj.(*api.Pod)
	if api.ControllerOf(p) != nil || !podutil.IsActive(p) {
		return nil
	}
	return []string{p.GetMetadata().GetNamespace()}
}

// ownerView is what the reconciler needs of a ReplicaSet or a
// ReplicationController.
type ownerView struct {
	meta     *api.ObjectMeta
	replicas int32
	selector labels.Selector
	template *api.PodTemplateSpec
	minReady int32
}

// counts is the status the reconciler computes.
type counts struct {
	replicas, fullyLabeled, ready, available int32
	observedGeneration                       int64
	// failure, when not nil, sets (non-empty) or clears (empty) the
	// ReplicaFailure condition; nil keeps it as it is.
	failure *string
	now     time.Time
}

// ConditionReplicaFailure reports that pods could not be created or
// deleted (reason FailedCreate or FailedDelete, with the error).
const ConditionReplicaFailure = "ReplicaFailure"

// failureConditions applies c.failure to conds; it returns the new list
// and whether it differs.
func failureConditions(conds []*api.Condition, c counts) ([]*api.Condition, bool) {
	if c.failure == nil {
		return conds, false
	}
	cur := podutil.Condition(conds, ConditionReplicaFailure)
	if *c.failure == "" {
		if cur == nil {
			return conds, false
		}
		return slices.DeleteFunc(slices.Clone(conds), func(x *api.Condition) bool { return x.GetType() == ConditionReplicaFailure }), true
	}
	if cur != nil && cur.GetMessage() == *c.failure {
		return conds, false
	}
	out := slices.DeleteFunc(slices.Clone(conds), func(x *api.Condition) bool { return x.GetType() == ConditionReplicaFailure })
	return append(out, &api.Condition{
		Type: ConditionReplicaFailure, Status: podutil.StatusTrue, Reason: "FailedManage", Message: *c.failure,
		LastTransitionTime: timestamppb.New(c.now),
	}), true
}

// adapter hides the differences between the two kinds.
type adapter struct {
	view func(obj api.Object) (ownerView, error)
	// withStatus returns a copy of obj with the counts as status, or nil if
	// the stored status already equals them.
	withStatus func(obj api.Object, c counts) api.Object
}

func replicaSetAdapter() adapter {
	return adapter{
		view: func(obj api.Object) (ownerView, error) {
			rs := obj.(*api.ReplicaSet)
			sel, err := labels.FromLabelSelector(rs.GetSpec().GetSelector())
			if err != nil {
				return ownerView{}, err
			}
			return ownerView{
				meta:     rs.GetMetadata(),
				replicas: replicasOf(rs.GetSpec().Replicas),
				selector: sel,
				template: rs.GetSpec().GetTemplate(),
				minReady: rs.GetSpec().GetMinReadySeconds(),
			}, nil
		},
		withStatus: func(obj api.Object, c counts) api.Object {
			rs := obj.(*api.ReplicaSet)
			st := rs.GetStatus()
			conds, condsChanged := failureConditions(st.GetConditions(), c)
			if st.GetReplicas() == c.replicas && st.GetFullyLabeledReplicas() == c.fullyLabeled &&
				st.GetReadyReplicas() == c.ready && st.GetAvailableReplicas() == c.available &&
				st.GetObservedGeneration() == c.observedGeneration && !condsChanged {
				return nil
			}
			out := api.Clone(rs)
			if out.Status == nil {
				out.Status = &api.ReplicaSetStatus{}
			}
			out.Status.Replicas, out.Status.FullyLabeledReplicas = c.replicas, c.fullyLabeled
			out.Status.ReadyReplicas, out.Status.AvailableReplicas = c.ready, c.available
			out.Status.ObservedGeneration = c.observedGeneration
			out.Status.Conditions = conds
			return out
		},
	}
}

func replicationControllerAdapter() adapter {
	return adapter{
		view: func(obj api.Object) (ownerView, error) {
			rc := obj.(*api.ReplicationController)
			set := rc.GetSpec().GetSelector()
			if len(set) == 0 {
				set = rc.GetSpec().GetTemplate().GetMetadata().GetLabels()
			}
			sel := labels.Nothing()
			if len(set) > 0 {
				sel = labels.SelectorFromSet(labels.Set(set))
			}
			return ownerView{
				meta:     rc.GetMetadata(),
				replicas: replicasOf(rc.GetSpec().Replicas),
				selector: sel,
				template: rc.GetSpec().GetTemplate(),
				minReady: rc.GetSpec().GetMinReadySeconds(),
			}, nil
		},
		withStatus: func(obj api.Object, c counts) api.Object {
			rc := obj.(*api.ReplicationController)
			st := rc.GetStatus()
			conds, condsChanged := failureConditions(st.GetConditions(), c)
			if st.GetReplicas() == c.replicas && st.GetFullyLabeledReplicas() == c.fullyLabeled &&
				st.GetReadyReplicas() == c.ready && st.GetAvailableReplicas() == c.available &&
				st.GetObservedGeneration() == c.observedGeneration && !condsChanged {
				return nil
			}
			out := api.Clone(rc)
			if out.Status == nil {
				out.Status = &api.ReplicationControllerStatus{}
			}
			out.Status.Replicas, out.Status.FullyLabeledReplicas = c.replicas, c.fullyLabeled
			out.Status.ReadyReplicas, out.Status.AvailableReplicas = c.ready, c.available
			out.Status.ObservedGeneration = c.observedGeneration
			out.Status.Conditions = conds
			return out
		},
	}
}

// replicasOf is spec.replicas with the default of 1.
func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// Reconciler keeps the pods of one replicated kind at their owners' counts.
type Reconciler struct {
	kind, apiVersion string
	ad               adapter
	store            store.Store
	owners           *informer.Informer
	pods             informer.Lister[*api.Pod]
	opts             Options
	exp              *expectations
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// errSkip aborts a Mutate whose precondition no longer holds.
var errSkip = errors.New("replicaset: precondition no longer holds")

// Reconcile brings one owner's pods to its replica count.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	key := req.String()
	obj, ok := r.owners.Get(req.Namespace, req.Name)
	if !ok {
		r.exp.forget(key)
		return reconcile.Result{}, nil
	}
	v, err := r.ad.view(obj)
	if err != nil {
		return reconcile.Result{}, reconcile.Terminal(fmt.Errorf("%s %s: selector: %w", r.kind, key, err))
	}
	// Expectations first: the pods read below must come from a cache that
	// already shows every create and delete of the previous reconcile
	// (read the other way round, a pod landing in between would be
	// counted as expected but missing from the count, and created twice).
	now := r.opts.Clock.Now()
	satisfied := r.exp.satisfied(key, req.Namespace, r.pods, now)
	owned, err := r.claim(ctx, v)
	if err != nil {
		return reconcile.Result{}, err
	}
	var active []*api.Pod
	var manageErr error
	for _, p := range owned {
		switch {
		case podutil.IsActive(p):
			active = append(active, p)
		case podutil.IsFinished(p):
			// A finished pod of a replicated owner is dead weight: its
			// replacement is counted instead.
			if _, err := r.store.Delete(ctx, api.KindPod, p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(),
				store.DeleteOptions{UID: p.GetMetadata().GetUid()}); err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
				manageErr = errors.Join(manageErr, err)
			}
		}
	}
	var failure *string
	if v.meta.GetDeletionTimestamp() == nil && satisfied {
		msg := ""
		if err := r.manage(ctx, key, v, active); err != nil {
			manageErr = errors.Join(manageErr, err)
			msg = err.Error()
		}
		failure = &msg
	}
	res, err := r.writeStatus(ctx, obj, v, active, now, failure)
	return res, errors.Join(manageErr, err)
}

// claim adopts matching orphans, releases owned pods that stopped matching,
// and returns the pods the owner controls.
func (r *Reconciler) claim(ctx context.Context, v ownerView) ([]*api.Pod, error) {
	uid := v.meta.GetUid()
	ns := v.meta.GetNamespace()
	var owned []*api.Pod
	var errs error
	byOwner, err := r.pods.ByIndex(informer.IndexOwner, uid)
	if err != nil {
		return nil, err
	}
	for _, p := range byOwner {
		if v.selector.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			owned = append(owned, p)
			continue
		}
		if podutil.IsTerminating(p) {
			continue
		}
		if err := r.release(ctx, p, uid); err != nil {
			errs = errors.Join(errs, err)
		}
	}
	if v.meta.GetDeletionTimestamp() != nil || labels.IsNothing(v.selector) || v.selector.Empty() {
		return owned, errs
	}
	orphans, err := r.pods.ByIndex(IndexOrphans, ns)
	if err != nil {
		return owned, errors.Join(errs, err)
	}
	for _, p := range orphans {
		if api.ControllerOf(p) != nil || !podutil.IsActive(p) || !v.selector.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			continue
		}
		adopted, err := r.adopt(ctx, p, v)
		if err != nil {
			errs = errors.Join(errs, err)
			continue
		}
		if adopted != nil {
			owned = append(owned, adopted)
		}
	}
	return owned, errs
}

func (r *Reconciler) adopt(ctx context.Context, p *api.Pod, v ownerView) (*api.Pod, error) {
	pods := store.For[*api.Pod](r.store)
	out, err := pods.Mutate(ctx, p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), func(p *api.Pod) error {
		if api.ControllerOf(p) != nil || podutil.IsTerminating(p) || !v.selector.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			return errSkip
		}
		m := api.Meta(p)
		m.OwnerReferences = append(m.OwnerReferences, podutil.ControllerRef(r.apiVersion, r.kind, v.meta))
		return nil
	})
	if errors.Is(err, errSkip) || store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adopt pod %s: %w", p.GetMetadata().GetName(), err)
	}
	return out, nil
}

func (r *Reconciler) release(ctx context.Context, p *api.Pod, uid string) error {
	pods := store.For[*api.Pod](r.store)
	_, err := pods.Mutate(ctx, p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), func(p *api.Pod) error {
		m := api.Meta(p)
		n := len(m.OwnerReferences)
		m.OwnerReferences = slices.DeleteFunc(m.OwnerReferences, func(ref *api.OwnerReference) bool { return ref.GetUid() == uid })
		if len(m.OwnerReferences) == n {
			return errSkip
		}
		return nil
	})
	if errors.Is(err, errSkip) || store.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release pod %s: %w", p.GetMetadata().GetName(), err)
	}
	return nil
}

// manage creates or deletes pods to reach the replica count.
func (r *Reconciler) manage(ctx context.Context, key string, v ownerView, active []*api.Pod) error {
	diff := len(active) - int(v.replicas)
	switch {
	case diff < 0:
		return r.create(ctx, key, v, min(-diff, r.opts.BurstReplicas))
	case diff > 0:
		return r.delete(ctx, key, active, min(diff, r.opts.BurstReplicas))
	}
	return nil
}

// create makes n pods in slow-start batches of 1, 2, 4, ...
func (r *Reconciler) create(ctx context.Context, key string, v ownerView, n int) error {
	ref := podutil.ControllerRef(r.apiVersion, r.kind, v.meta)
	for batch, done := 1, 0; done < n; batch *= 2 {
		size := min(batch, n-done)
		names := make([]string, size)
		errs := make([]error, size)
		var wg sync.WaitGroup
		for i := range size {
			wg.Go(func() {
				created, err := r.store.Create(ctx, newPod(v, ref))
				if err != nil {
					errs[i] = err
					return
				}
				names[i] = created.GetMetadata().GetName()
			})
		}
		wg.Wait()
		r.exp.expect(key, names, nil, r.opts.Clock.Now().Add(r.opts.ExpectationTimeout))
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("create pods: %w", err)
		}
		done += size
	}
	return nil
}

// newPod returns a pod from the owner's template.
func newPod(v ownerView, ref *api.OwnerReference) *api.Pod {
	tm := v.template.GetMetadata()
	p := &api.Pod{
		Metadata: &api.ObjectMeta{
			GenerateName:    v.meta.GetName() + "-",
			Namespace:       v.meta.GetNamespace(),
			Labels:          cloneMap(tm.GetLabels()),
			Annotations:     cloneMap(tm.GetAnnotations()),
			Finalizers:      slices.Clone(tm.GetFinalizers()),
			OwnerReferences: []*api.OwnerReference{ref},
		},
	}
	if spec := v.template.GetSpec(); spec != nil {
		p.Spec = proto.Clone(spec).(*api.PodSpec)
	} else {
		p.Spec = &api.PodSpec{}
	}
	return p
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// delete removes the n least valuable pods.
func (r *Reconciler) delete(ctx context.Context, key string, active []*api.Pod, n int) error {
	victims := slices.Clone(active)
	SortLeastValuableFirst(victims)
	victims = victims[:n]
	names := make([]string, len(victims))
	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, p := range victims {
		wg.Go(func() {
			m := p.GetMetadata()
			_, err := r.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()})
			if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
				errs[i] = err
				return
			}
			names[i] = m.GetName()
		})
	}
	wg.Wait()
	r.exp.expect(key, nil, names, r.opts.Clock.Now().Add(r.opts.ExpectationTimeout))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete pods: %w", err)
	}
	return nil
}

// SortLeastValuableFirst orders pods for scale-down: unscheduled before
// scheduled, pending before running, not ready before ready, then newest
// before oldest.
func SortLeastValuableFirst(pods []*api.Pod) {
	// Rank each pod once (scheduled, phase, ready in one number), then
	// sort by rank, newest first among equals.
	type ranked struct {
		p     *api.Pod
		rank  int
		secs  int64
		nanos int32
	}
	rs := make([]ranked, len(pods))
	for i, p := range pods {
		rank := 0
		if p.GetSpec().GetNodeName() != "" {
			rank += 100
		}
		switch p.GetStatus().GetPhase() {
		case podutil.PhasePending:
		case podutil.PhaseRunning:
			rank += 20
		default:
			rank += 10
		}
		if podutil.IsReady(p) {
			rank++
		}
		ts := p.GetMetadata().GetCreationTimestamp()
		rs[i] = ranked{p: p, rank: rank, secs: ts.GetSeconds(), nanos: ts.GetNanos()}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(b.secs, a.secs); c != 0 {
			return c
		}
		if c := cmp.Compare(b.nanos, a.nanos); c != 0 {
			return c
		}
		return cmp.Compare(b.p.GetMetadata().GetName(), a.p.GetMetadata().GetName())
	})
	for i := range rs {
		pods[i] = rs[i].p
	}
}

// writeStatus computes and stores the owner's counts. With minReadySeconds
// it asks to be called again when the next ready pod becomes available.
func (r *Reconciler) writeStatus(ctx context.Context, obj api.Object, v ownerView, active []*api.Pod, now time.Time, failure *string) (reconcile.Result, error) {
	c := counts{replicas: int32(len(active)), observedGeneration: v.meta.GetGeneration(), failure: failure, now: now}
	tmplLabels := labels.SelectorFromSet(labels.Set(v.template.GetMetadata().GetLabels()))
	var next time.Time
	for _, p := range active {
		if tmplLabels.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			c.fullyLabeled++
		}
		if !podutil.IsReady(p) {
			continue
		}
		c.ready++
		if podutil.IsAvailable(p, v.minReady, now) {
			c.available++
		} else if at := podutil.AvailableAt(p, v.minReady); !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	var res reconcile.Result
	if !next.IsZero() {
		res.RequeueAfter = max(next.Sub(now), time.Millisecond)
	}
	out := r.ad.withStatus(obj, c)
	if out == nil {
		return res, nil
	}
	if _, err := r.store.UpdateStatus(ctx, out); err != nil {
		if store.IsConflict(err) || store.IsNotFound(err) {
			// A newer version is on its way through the informer and
			// will be reconciled again.
			return res, nil
		}
		return res, fmt.Errorf("update status: %w", err)
	}
	return res, nil
}

// expectations remember, per owner, the pods a reconcile created or deleted
// until the pod cache reflects them.
type expectations struct {
	mu sync.Mutex
	m  map[string]*expectation
}

type expectation struct {
	creates, deletes []string
	deadline         time.Time
}

func (e *expectations) expect(key string, creates, deletes []string, deadline time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		x = &expectation{}
		e.m[key] = x
	}
	for _, n := range creates {
		if n != "" {
			x.creates = append(x.creates, n)
		}
	}
	for _, n := range deletes {
		if n != "" {
			x.deletes = append(x.deletes, n)
		}
	}
	x.deadline = deadline
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	delete(e.m, key)
	e.mu.Unlock()
}

// satisfied drops what the cache already shows and reports whether nothing
// is left (or the expectation expired).
func (e *expectations) satisfied(key, ns string, pods informer.Lister[*api.Pod], now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		return true
	}
	x.creates = slices.DeleteFunc(x.creates, func(name string) bool {
		_, ok := pods.Get(ns, name)
		return ok
	})
	x.deletes = slices.DeleteFunc(x.deletes, func(name string) bool {
		p, ok := pods.Get(ns, name)
		return !ok || podutil.IsTerminating(p)
	})
	if (len(x.creates) == 0 && len(x.deletes) == 0) || now.After(x.deadline) {
		delete(e.m, key)
		return true
	}
	return false
}
