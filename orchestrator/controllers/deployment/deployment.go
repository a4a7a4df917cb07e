package deployment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/predicate"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Annotations and labels the controller reads and writes.
const (
	// AnnotationRevision numbers a ReplicaSet (and its Deployment's
	// current) revision.
	AnnotationRevision = "deployment.kubernetes.io/revision"
	// AnnotationRollbackTo asks for a rollback to the revision it holds
	// ("0": the previous revision).
	AnnotationRollbackTo = "deployment.coxswain.io/rollback-to"
	// LabelPodTemplateHash tells the pods of one template from another's.
	LabelPodTemplateHash = "pod-template-hash"
)

// Strategy types and condition vocabulary.
const (
	StrategyRollingUpdate = "RollingUpdate"
	StrategyRecreate      = "Recreate"

	ConditionAvailable   = "Available"
	ConditionProgressing = "Progressing"

	ReasonNewRSAvailable     = "NewReplicaSetAvailable"
	ReasonRSUpdated          = "ReplicaSetUpdated"
	ReasonNewRSCreated       = "NewReplicaSetCreated"
	ReasonDeadlineExceeded   = "ProgressDeadlineExceeded"
	ReasonPaused             = "DeploymentPaused"
	ReasonResumed            = "DeploymentResumed"
	ReasonMinimumAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable = "MinimumReplicasUnavailable"
)

// Options tune the controller.
type Options struct {
	// Workers is the number of Deployments reconciled at once (default 4).
	Workers int
	// Clock tells the time for conditions and deadlines (default the wall
	// clock).
	Clock clock.Clock
}

// Add registers the Deployment controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// New returns the Deployment controller over mgr's shared informers,
// without adding it to mgr.
func New(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	reg := mgr.Store().Registry()
	dInfo, err := reg.Lookup(api.KindDeployment)
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	rsInfo, err := reg.Lookup(api.KindReplicaSet)
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	deployments, err := manager.ListerFor[*api.Deployment](mgr)
	if err != nil {
		return nil, err
	}
	rss, err := manager.ListerFor[*api.ReplicaSet](mgr)
	if err != nil {
		return nil, err
	}
	pods, err := manager.ListerFor[*api.Pod](mgr)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{
		store: mgr.Store(), deployments: deployments, rss: rss, pods: pods,
		clock: opts.Clock, recorder: mgr.Recorder("deployment-controller"),
		apiVersion: dInfo.APIVersion, rsAPIVersion: rsInfo.APIVersion,
	}
	onlyDeletes := predicate.Funcs{
		CreateFunc: func(api.Object) bool { return false },
		UpdateFunc: func(_, _ api.Object) bool { return false },
	}
	return wiring.New(mgr, "deployment", api.KindDeployment, opts.Workers, r,
		wiring.Watch{Kind: api.KindReplicaSet, Owns: true},
		// A Recreate rollout waits for the old pods to be gone, which
		// changes no ReplicaSet status (terminating pods no longer count).
		wiring.Watch{Kind: api.KindPod, Map: r.recreateDeploymentOfPod, Preds: []predicate.Predicate{onlyDeletes}})
}

// recreateDeploymentOfPod maps a pod to the Recreate Deployment that
// controls its ReplicaSet, if any.
func (r *Reconciler) recreateDeploymentOfPod(_ context.Context, obj api.Object) []reconcile.Request {
	ref := api.ControllerOf(obj)
	if ref == nil || ref.GetKind() != api.KindReplicaSet {
		return nil
	}
	ns := obj.GetMetadata().GetNamespace()
	rs, ok := r.rss.Get(ns, ref.GetName())
	if !ok {
		return nil
	}
	dref := api.ControllerOf(rs)
	if dref == nil || dref.GetKind() != api.KindDeployment {
		return nil
	}
	d, ok := r.deployments.Get(ns, dref.GetName())
	if !ok || d.GetSpec().GetStrategy().GetType() != StrategyRecreate {
		return nil
	}
	return []reconcile.Request{{Namespace: ns, Name: dref.GetName()}}
}

// Reconciler rolls Deployments.
type Reconciler struct {
	store                    store.Store
	deployments              informer.Lister[*api.Deployment]
	rss                      informer.Lister[*api.ReplicaSet]
	pods                     informer.Lister[*api.Pod]
	clock                    clock.Clock
	recorder                 *events.Recorder
	apiVersion, rsAPIVersion string
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Reconcile moves one Deployment a step towards its desired state.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	d, ok := r.deployments.Get(req.Namespace, req.Name)
	if !ok || podutil.IsTerminating(d) {
		return reconcile.Result{}, nil
	}
	sel, err := labels.FromLabelSelector(d.GetSpec().GetSelector())
	if err != nil || sel.Empty() || labels.IsNothing(sel) {
		return reconcile.Result{}, reconcile.Terminal(fmt.Errorf("deployment %s: invalid or empty selector: %v", req, err))
	}
	if rev, ok := d.GetMetadata().GetAnnotations()[AnnotationRollbackTo]; ok {
		return reconcile.Result{}, r.rollback(ctx, d, rev)
	}
	all, err := r.claim(ctx, d, sel)
	if err != nil {
		return reconcile.Result{}, err
	}
	newRS, old := r.split(d, all)
	if d.GetSpec().GetPaused() {
		return r.syncStatus(ctx, d, newRS, old, false)
	}
	if newRS == nil || isOlderThanAny(newRS, old) {
		created, err := r.ensureNewRS(ctx, d, newRS, old)
		if err != nil || created == nil {
			return reconcile.Result{Requeue: created == nil && err == nil}, err
		}
		newRS = created
	}
	if newRS.GetSpec().GetMinReadySeconds() != d.GetSpec().GetMinReadySeconds() {
		// minReadySeconds is not part of the template: follow it in place.
		out := api.Clone(newRS)
		out.Spec.MinReadySeconds = d.GetSpec().GetMinReadySeconds()
		updated, err := r.store.Update(ctx, out)
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("update minReadySeconds of %s: %w", newRS.GetMetadata().GetName(), err)
		}
		newRS = updated.(*api.ReplicaSet)
	}
	var changed bool
	switch d.GetSpec().GetStrategy().GetType() {
	case StrategyRecreate:
		changed, err = r.recreate(ctx, d, newRS, old)
	default:
		changed, err = r.rollingUpdate(ctx, d, newRS, old)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.cleanup(ctx, d, old); err != nil {
		return reconcile.Result{}, err
	}
	return r.syncStatus(ctx, d, newRS, old, changed)
}

// claim returns the ReplicaSets d controls, adopting matching orphans and
// releasing the ones that stopped matching.
func (r *Reconciler) claim(ctx context.Context, d *api.Deployment, sel labels.Selector) ([]*api.ReplicaSet, error) {
	uid := d.GetMetadata().GetUid()
	owned, err := r.rss.ByIndex(informer.IndexOwner, uid)
	if err != nil {
		return nil, err
	}
	var out []*api.ReplicaSet
	typed := store.For[*api.ReplicaSet](r.store)
	for _, rs := range owned {
		if sel.Matches(labels.Set(rs.GetMetadata().GetLabels())) {
			out = append(out, rs)
			continue
		}
		_, err := typed.Mutate(ctx, rs.GetMetadata().GetNamespace(), rs.GetMetadata().GetName(), func(rs *api.ReplicaSet) error {
			rs.Metadata.OwnerReferences = slices.DeleteFunc(rs.Metadata.OwnerReferences, func(ref *api.OwnerReference) bool { return ref.GetUid() == uid })
			return nil
		})
		if err != nil && !store.IsNotFound(err) {
			return nil, fmt.Errorf("release %s: %w", rs.GetMetadata().GetName(), err)
		}
	}
	for _, rs := range r.rss.Select(d.GetMetadata().GetNamespace(), sel) {
		if api.ControllerOf(rs) != nil || podutil.IsTerminating(rs) {
			continue
		}
		adopted, err := typed.Mutate(ctx, rs.GetMetadata().GetNamespace(), rs.GetMetadata().GetName(), func(rs *api.ReplicaSet) error {
			if api.ControllerOf(rs) != nil {
				return errSkip
			}
			rs.Metadata.OwnerReferences = append(rs.Metadata.OwnerReferences, podutil.ControllerRef(r.apiVersion, api.KindDeployment, d.GetMetadata()))
			return nil
		})
		if errors.Is(err, errSkip) || store.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("adopt %s: %w", rs.GetMetadata().GetName(), err)
		}
		out = append(out, adopted)
	}
	return out, nil
}

var errSkip = errors.New("deployment: precondition no longer holds")

// split finds the ReplicaSet whose template is d's; the others are old,
// sorted oldest revision first.
func (r *Reconciler) split(d *api.Deployment, all []*api.ReplicaSet) (*api.ReplicaSet, []*api.ReplicaSet) {
	var newRS *api.ReplicaSet
	var old []*api.ReplicaSet
	for _, rs := range all {
		if newRS == nil && equalTemplates(rs.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	slices.SortFunc(old, func(a, b *api.ReplicaSet) int {
		if c := cmp.Compare(revision(a), revision(b)); c != 0 {
			return c
		}
		return a.GetMetadata().GetCreationTimestamp().AsTime().Compare(b.GetMetadata().GetCreationTimestamp().AsTime())
	})
	return newRS, old
}

// equalTemplates compares a ReplicaSet's template with a Deployment's,
// ignoring the pod-template-hash label.
func equalTemplates(rsT, dT *api.PodTemplateSpec) bool {
	a, b := stripHash(rsT), stripHash(dT)
	return proto.Equal(a, b)
}

func stripHash(t *api.PodTemplateSpec) *api.PodTemplateSpec {
	if _, ok := t.GetMetadata().GetLabels()[LabelPodTemplateHash]; !ok {
		return t
	}
	c := proto.Clone(t).(*api.PodTemplateSpec)
	delete(c.Metadata.Labels, LabelPodTemplateHash)
	if len(c.Metadata.Labels) == 0 {
		c.Metadata.Labels = nil
	}
	return c
}

// TemplateHash is the pod-template-hash of a template (with a collision
// count folded in, as status.collisionCount grows).
func TemplateHash(t *api.PodTemplateSpec, collisionCount int32) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(stripHash(t))
	h := fnv.New32a()
	_, _ = h.Write(b)
	if collisionCount > 0 {
		_, _ = h.Write([]byte(strconv.Itoa(int(collisionCount))))
	}
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func revision(rs *api.ReplicaSet) int {
	n, _ := strconv.Atoi(rs.GetMetadata().GetAnnotations()[AnnotationRevision])
	return n
}

func maxRevision(rss []*api.ReplicaSet) int {
	m := 0
	for _, rs := range rss {
		m = max(m, revision(rs))
	}
	return m
}

// isOlderThanAny reports whether rs's revision is not above every old one
// (an old template came back, as after a rollback).
func isOlderThanAny(rs *api.ReplicaSet, old []*api.ReplicaSet) bool {
	return revision(rs) <= maxRevision(old)
}

func replicas(d *api.Deployment) int32 {
	if d.GetSpec().Replicas == nil {
		return 1
	}
	return *d.GetSpec().Replicas
}

func rsReplicas(rs *api.ReplicaSet) int32 {
	if rs == nil || rs.GetSpec().Replicas == nil {
		return 0
	}
	return *rs.GetSpec().Replicas
}

// ensureNewRS creates the ReplicaSet of d's template, or renumbers the
// existing one to the newest revision. It returns nil (and no error) when
// the caller should retry after a hash collision.
func (r *Reconciler) ensureNewRS(ctx context.Context, d *api.Deployment, existing *api.ReplicaSet, old []*api.ReplicaSet) (*api.ReplicaSet, error) {
	rev := strconv.Itoa(maxRevision(old) + 1)
	typed := store.For[*api.ReplicaSet](r.store)
	if existing != nil {
		return typed.Mutate(ctx, existing.GetMetadata().GetNamespace(), existing.GetMetadata().GetName(), func(rs *api.ReplicaSet) error {
			api.Meta(rs)
			if rs.Metadata.Annotations == nil {
				rs.Metadata.Annotations = map[string]string{}
			}
			rs.Metadata.Annotations[AnnotationRevision] = rev
			return nil
		})
	}
	hash := TemplateHash(d.GetSpec().GetTemplate(), d.GetStatus().GetCollisionCount())
	tmpl := proto.Clone(d.GetSpec().GetTemplate()).(*api.PodTemplateSpec)
	if tmpl.Metadata == nil {
		tmpl.Metadata = &api.ObjectMeta{}
	}
	if tmpl.Metadata.Labels == nil {
		tmpl.Metadata.Labels = map[string]string{}
	}
	tmpl.Metadata.Labels[LabelPodTemplateHash] = hash
	sel := proto.Clone(d.GetSpec().GetSelector()).(*api.LabelSelector)
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[LabelPodTemplateHash] = hash
	rsLabels := map[string]string{}
	for k, v := range tmpl.Metadata.Labels {
		rsLabels[k] = v
	}
	var initial int32 // the strategy scales it up, within its bounds
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{
			Namespace:       d.GetMetadata().GetNamespace(),
			Name:            d.GetMetadata().GetName() + "-" + hash,
			Labels:          rsLabels,
			Annotations:     map[string]string{AnnotationRevision: rev},
			OwnerReferences: []*api.OwnerReference{podutil.ControllerRef(r.apiVersion, api.KindDeployment, d.GetMetadata())},
		},
		Spec: &api.ReplicaSetSpec{
			Replicas:        &initial,
			MinReadySeconds: d.GetSpec().GetMinReadySeconds(),
			Selector:        sel,
			Template:        tmpl,
		},
	}
	created, err := typed.Create(ctx, rs)
	if err == nil {
		r.event(ctx, d, "Normal", "ScalingReplicaSet", "Created replica set %s (revision %s)", rs.Metadata.Name, rev)
		return created, nil
	}
	if !store.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create replica set: %w", err)
	}
	// Most often the name is taken by the ReplicaSet this controller made
	// a moment ago, which the cache has not shown yet: use it.
	if got, err := typed.Get(ctx, rs.Metadata.Namespace, rs.Metadata.Name); err == nil &&
		api.IsControlledBy(got, d.GetMetadata().GetUid()) && equalTemplates(got.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
		return got, nil
	}
	// The name is taken by a ReplicaSet that is not ours or has another
	// template: a hash collision. Count it so the next hash differs.
	_, err = store.For[*api.Deployment](r.store).MutateStatus(ctx, d.GetMetadata().GetNamespace(), d.GetMetadata().GetName(), func(d *api.Deployment) error {
		if d.Status == nil {
			d.Status = &api.DeploymentStatus{}
		}
		d.Status.CollisionCount++
		return nil
	})
	return nil, err
}

// activePods returns the active pods rs controls.
func (r *Reconciler) activePods(rs *api.ReplicaSet) []*api.Pod {
	pods, _ := r.pods.ByIndex(informer.IndexOwner, rs.GetMetadata().GetUid())
	return slices.DeleteFunc(pods, func(p *api.Pod) bool { return !podutil.IsActive(p) })
}

// available is the number of rs's pods that are available and will stay:
// capped at spec.replicas, since a scale-down removes unavailable pods
// first. Pod counts are taken once per ReplicaSet and reconcile (avail).
func (r *Reconciler) available(rs *api.ReplicaSet, now time.Time, avail map[string]int32) int32 {
	if rs == nil {
		return 0
	}
	uid := rs.GetMetadata().GetUid()
	n, ok := avail[uid]
	if !ok {
		for _, p := range r.activePods(rs) {
			if podutil.IsAvailable(p, rs.GetSpec().GetMinReadySeconds(), now) {
				n++
			}
		}
		avail[uid] = n
	}
	return min(n, rsReplicas(rs))
}

// scale sets rs's spec.replicas.
func (r *Reconciler) scale(ctx context.Context, d *api.Deployment, rs *api.ReplicaSet, n int32) (*api.ReplicaSet, error) {
	if rsReplicas(rs) == n {
		return rs, nil
	}
	from := rsReplicas(rs)
	out := api.Clone(rs)
	out.Spec.Replicas = &n
	updated, err := r.store.Update(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("scale %s to %d: %w", rs.GetMetadata().GetName(), n, err)
	}
	verb := "up"
	if n < from {
		verb = "down"
	}
	r.event(ctx, d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", verb, rs.GetMetadata().GetName(), from, n)
	return updated.(*api.ReplicaSet), nil
}

// resolve turns maxSurge and maxUnavailable into counts.
func resolve(d *api.Deployment) (surge, unavailable int32) {
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	n := replicas(d)
	surge = scaled(ru.GetMaxSurge(), n, true, 25)
	unavailable = scaled(ru.GetMaxUnavailable(), n, false, 25)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, min(unavailable, n)
}

// scaled resolves an IntOrString against total; percentages round up for
// surge and down for unavailability. Nil uses defPercent.
func scaled(v *api.IntOrString, total int32, roundUp bool, defPercent int) int32 {
	pct := defPercent
	switch x := v.GetValue().(type) {
	case *api.IntOrString_IntVal:
		return max(x.IntVal, 0)
	case *api.IntOrString_StrVal:
		p, err := strconv.Atoi(strings.TrimSuffix(x.StrVal, "%"))
		if err != nil {
			if n, err2 := strconv.Atoi(x.StrVal); err2 == nil {
				return int32(max(n, 0))
			}
			p = defPercent
		}
		pct = p
	}
	f := float64(total) * float64(pct) / 100
	if roundUp {
		return int32(math.Ceil(f))
	}
	return int32(math.Floor(f))
}

// rollingUpdate takes one step of a rolling update. It reports whether it
// changed any ReplicaSet.
func (r *Reconciler) rollingUpdate(ctx context.Context, d *api.Deployment, newRS *api.ReplicaSet, old []*api.ReplicaSet) (bool, error) {
	want := replicas(d)
	surge, maxUnavailable := resolve(d)
	changed := false
	// Grow (or shrink) the new ReplicaSet within the surge.
	var total int32
	for _, rs := range old {
		total += rsReplicas(rs)
	}
	total += rsReplicas(newRS)
	target := rsReplicas(newRS)
	switch {
	case target > want:
		target = want
	case target < want:
		room := want + surge - total
		if room > 0 {
			target = min(want, target+room)
		}
	}
	if target != rsReplicas(newRS) {
		rs, err := r.scale(ctx, d, newRS, target)
		if err != nil {
			return changed, err
		}
		newRS, changed = rs, true
	}
	if len(old) == 0 {
		return changed, nil
	}
	// Shrink old ReplicaSets while availability stays above the minimum.
	now := r.clock.Now()
	avail := map[string]int32{}
	minAvailable := want - maxUnavailable
	total = rsReplicas(newRS)
	for _, rs := range old {
		total += rsReplicas(rs)
	}
	newUnavailable := rsReplicas(newRS) - r.available(newRS, now, avail)
	maxScaleDown := total - minAvailable - newUnavailable
	if maxScaleDown <= 0 {
		return changed, nil
	}
	// First the old pods that are not available anyway.
	var cleaned int32
	for i, rs := range old {
		if cleaned >= maxScaleDown {
			break
		}
		unhealthy := rsReplicas(rs) - r.available(rs, now, avail)
		if unhealthy <= 0 {
			continue
		}
		n := min(unhealthy, maxScaleDown-cleaned)
		out, err := r.scale(ctx, d, rs, rsReplicas(rs)-n)
		if err != nil {
			return changed, err
		}
		old[i], changed = out, true
		cleaned += n
	}
	// Then available old pods, as far as the minimum allows.
	available := r.available(newRS, now, avail)
	for _, rs := range old {
		available += r.available(rs, now, avail)
	}
	if available <= minAvailable {
		return changed, nil
	}
	budget := available - minAvailable
	for i, rs := range old {
		if budget <= 0 {
			break
		}
		n := min(rsReplicas(rs), budget)
		if n == 0 {
			continue
		}
		out, err := r.scale(ctx, d, rs, rsReplicas(rs)-n)
		if err != nil {
			return changed, err
		}
		old[i], changed = out, true
		budget -= n
	}
	return changed, nil
}

// recreate scales every old ReplicaSet to zero, then, once their pods are
// gone, the new one up.
func (r *Reconciler) recreate(ctx context.Context, d *api.Deployment, newRS *api.ReplicaSet, old []*api.ReplicaSet) (bool, error) {
	changed := false
	for i, rs := range old {
		if rsReplicas(rs) == 0 {
			continue
		}
		out, err := r.scale(ctx, d, rs, 0)
		if err != nil {
			return changed, err
		}
		old[i], changed = out, true
	}
	for _, rs := range old {
		pods, _ := r.pods.ByIndex(informer.IndexOwner, rs.GetMetadata().GetUid())
		if len(pods) > 0 {
			return changed, nil // woken again as the old pods go (ReplicaSet status)
		}
	}
	if rsReplicas(newRS) != replicas(d) {
		if _, err := r.scale(ctx, d, newRS, replicas(d)); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// cleanup deletes old ReplicaSets with no pods beyond the history limit.
func (r *Reconciler) cleanup(ctx context.Context, d *api.Deployment, old []*api.ReplicaSet) error {
	limit := int32(10)
	if d.GetSpec().RevisionHistoryLimit != nil {
		limit = *d.GetSpec().RevisionHistoryLimit
	}
	var idle []*api.ReplicaSet
	for _, rs := range old {
		if rsReplicas(rs) == 0 && rs.GetStatus().GetReplicas() == 0 && !podutil.IsTerminating(rs) && len(r.activePods(rs)) == 0 {
			idle = append(idle, rs)
		}
	}
	excess := len(idle) - int(limit)
	for i := 0; i < excess; i++ {
		rs := idle[i] // oldest revision first
		_, err := r.store.Delete(ctx, api.KindReplicaSet, rs.GetMetadata().GetNamespace(), rs.GetMetadata().GetName(),
			store.DeleteOptions{UID: rs.GetMetadata().GetUid(), ResourceVersion: rs.GetMetadata().GetResourceVersion()})
		if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
			return fmt.Errorf("delete old replica set %s: %w", rs.GetMetadata().GetName(), err)
		}
	}
	return nil
}

// rollback copies the template of revision rev into d's spec.
func (r *Reconciler) rollback(ctx context.Context, d *api.Deployment, rev string) error {
	sel, _ := labels.FromLabelSelector(d.GetSpec().GetSelector())
	all, err := r.claim(ctx, d, sel)
	if err != nil {
		return err
	}
	target, err := strconv.Atoi(rev)
	if err != nil || target < 0 {
		target = -1
	}
	if target == 0 {
		// The previous revision: the highest below the current one.
		cur := 0
		newRS, _ := r.split(d, all)
		if newRS != nil {
			cur = revision(newRS)
		}
		for _, rs := range all {
			if n := revision(rs); n < cur && n > target {
				target = n
			}
		}
		if target == 0 {
			target = -1
		}
	}
	var tmpl *api.PodTemplateSpec
	for _, rs := range all {
		if revision(rs) == target {
			tmpl = stripHash(rs.GetSpec().GetTemplate())
		}
	}
	if tmpl == nil {
		r.event(ctx, d, "Warning", "RollbackRevisionNotFound", "Unable to find revision %s to roll back to", rev)
	} else {
		r.event(ctx, d, "Normal", "RollbackDone", "Rolled back to revision %d", target)
	}
	_, err = store.For[*api.Deployment](r.store).Mutate(ctx, d.GetMetadata().GetNamespace(), d.GetMetadata().GetName(), func(d *api.Deployment) error {
		delete(d.Metadata.Annotations, AnnotationRollbackTo)
		if tmpl != nil {
			d.Spec.Template = proto.Clone(tmpl).(*api.PodTemplateSpec)
		}
		return nil
	})
	if store.IsNotFound(err) {
		return nil
	}
	return err
}

// syncStatus writes the Deployment's counts and conditions.
func (r *Reconciler) syncStatus(ctx context.Context, d *api.Deployment, newRS *api.ReplicaSet, old []*api.ReplicaSet, progressed bool) (reconcile.Result, error) {
	now := r.clock.Now()
	want := replicas(d)
	st := &api.DeploymentStatus{
		ObservedGeneration: d.GetMetadata().GetGeneration(),
		CollisionCount:     d.GetStatus().GetCollisionCount(),
	}
	for _, rs := range append(slices.Clone(old), newRS) {
		if rs == nil {
			continue
		}
		st.Replicas += rs.GetStatus().GetReplicas()
		st.ReadyReplicas += rs.GetStatus().GetReadyReplicas()
		st.AvailableReplicas += rs.GetStatus().GetAvailableReplicas()
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.GetStatus().GetReplicas()
	}
	st.UnavailableReplicas = max(want-st.AvailableReplicas, 0)
	_, maxUnavailable := resolve(d)

	prev := d.GetStatus()
	conds := cloneConditions(prev.GetConditions())
	if st.AvailableReplicas >= want-maxUnavailable {
		conds = setCondition(conds, ConditionAvailable, podutil.StatusTrue, ReasonMinimumAvailable, "Deployment has minimum availability.", now)
	} else {
		conds = setCondition(conds, ConditionAvailable, podutil.StatusFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability.", now)
	}
	var res reconcile.Result
	complete := newRS != nil && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want &&
		rsReplicas(newRS) == want && newRS.GetStatus().GetObservedGeneration() >= newRS.GetMetadata().GetGeneration()
	deadline := time.Duration(600) * time.Second
	if d.GetSpec().ProgressDeadlineSeconds != nil {
		deadline = time.Duration(*d.GetSpec().ProgressDeadlineSeconds) * time.Second
	}
	progressing := podutil.Condition(conds, ConditionProgressing)
	switch {
	case d.GetSpec().GetPaused():
		conds = setCondition(conds, ConditionProgressing, podutil.StatusUnknown, ReasonPaused, "Deployment is paused", now)
	case complete:
		name := newRS.GetMetadata().GetName()
		conds = setCondition(conds, ConditionProgressing, podutil.StatusTrue, ReasonNewRSAvailable,
			fmt.Sprintf("ReplicaSet %q has successfully progressed.", name), now)
	case progressed || progressing == nil || progressing.GetReason() == ReasonPaused || progressing.GetReason() == ReasonNewRSAvailable ||
		statusMoved(prev, st):
		conds = setCondition(conds, ConditionProgressing, podutil.StatusTrue, ReasonRSUpdated, "Deployment is progressing.", now)
		conds = touch(conds, ConditionProgressing, now)
		res.RequeueAfter = deadline
	case progressing.GetReason() == ReasonRSUpdated:
		since := progressing.GetLastUpdateTime().AsTime()
		if left := since.Add(deadline).Sub(now); left > 0 {
			res.RequeueAfter = left
		} else {
			conds = setCondition(conds, ConditionProgressing, podutil.StatusFalse, ReasonDeadlineExceeded,
				fmt.Sprintf("Deployment has not progressed for %s.", deadline), now)
		}
	}
	st.Conditions = conds
	if proto.Equal(prev, st) {
		return res, nil
	}
	out := api.Clone(d)
	out.Status = st
	if _, err := r.store.UpdateStatus(ctx, out); err != nil {
		if store.IsConflict(err) || store.IsNotFound(err) {
			return reconcile.Result{}, nil // a newer version is on its way
		}
		return res, fmt.Errorf("update status: %w", err)
	}
	return res, nil
}

// statusMoved reports whether the counts advanced since the last status.
func statusMoved(prev, st *api.DeploymentStatus) bool {
	return prev.GetUpdatedReplicas() != st.GetUpdatedReplicas() || prev.GetAvailableReplicas() != st.GetAvailableReplicas() ||
		prev.GetReadyReplicas() != st.GetReadyReplicas() || prev.GetReplicas() != st.GetReplicas()
}

func cloneConditions(in []*api.Condition) []*api.Condition {
	out := make([]*api.Condition, len(in))
	for i, c := range in {
		out[i] = proto.Clone(c).(*api.Condition)
	}
	return out
}

// setCondition sets a condition; the transition time changes only with the
// status, the update time whenever anything changes.
func setCondition(conds []*api.Condition, typ, status, reason, msg string, now time.Time) []*api.Condition {
	c := podutil.Condition(conds, typ)
	if c == nil {
		c = &api.Condition{Type: typ}
		conds = append(conds, c)
	}
	if c.Status != status {
		c.LastTransitionTime = timestamppb.New(now)
	}
	if c.Status != status || c.Reason != reason || c.Message != msg {
		c.LastUpdateTime = timestamppb.New(now)
	}
	c.Status, c.Reason, c.Message = status, reason, msg
	return conds
}

// touch records progress on a condition.
func touch(conds []*api.Condition, typ string, now time.Time) []*api.Condition {
	if c := podutil.Condition(conds, typ); c != nil {
		c.LastUpdateTime = timestamppb.New(now)
	}
	return conds
}

func (r *Reconciler) event(ctx context.Context, d *api.Deployment, typ, reason, format string, args ...any) {
	_, _ = r.recorder.Eventf(ctx, d, typ, reason, format, args...)
}
