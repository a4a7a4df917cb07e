package daemonset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/scheduler/plugins"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// LabelTemplateHash holds the hash of the pod template a pod was made from.
const LabelTemplateHash = "controller-revision-hash"

// Update strategies.
const (
	StrategyRollingUpdate = "RollingUpdate"
	StrategyOnDelete      = "OnDelete"
)

// Options tune the DaemonSet controller. The zero value is the default.
type Options struct {
	// Workers is the number of DaemonSets reconciled at once (default 2).
	Workers int
	// Clock tells the time for availability (minReadySeconds) and
	// expectations (default the wall clock).
	Clock clock.Clock
	// ExpectationTimeout is how long the controller waits for its cache to
	// show the pods it created before trusting the cache anyway (default 1m).
	ExpectationTimeout time.Duration
}

// Add registers the DaemonSet controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.ExpectationTimeout <= 0 {
		opts.ExpectationTimeout = time.Minute
	}
	dsInf, err := mgr.Informer(api.KindDaemonSet)
	if err != nil {
		return err
	}
	podInf, err := mgr.Informer(api.KindPod)
	if err != nil {
		return err
	}
	nodeInf, err := mgr.Informer(api.KindNode)
	if err != nil {
		return err
	}
	r := &Reconciler{
		store:   mgr.Store(),
		sets:    informer.ListerFor[*api.DaemonSet](dsInf),
		pods:    informer.ListerFor[*api.Pod](podInf),
		nodes:   informer.ListerFor[*api.Node](nodeInf),
		opts:    opts,
		pending: map[string]*pendingCreates{},
	}
	// Any node change may change where every DaemonSet should run.
	allSets := func(context.Context, api.Object) []reconcile.Request {
		sets := r.sets.List()
		out := make([]reconcile.Request, len(sets))
		for i, ds := range sets {
			out[i] = handler.RequestFor(ds)
		}
		return out
	}
	return builder.ControllerManagedBy(mgr).
		Named("daemonset").
		For(api.KindDaemonSet).
		Owns(api.KindPod).
		Watches(api.KindNode, allSets).
		WithWorkers(opts.Workers).
		Complete(r)
}

// Reconciler keeps one pod of each DaemonSet on every node it should run on.
type Reconciler struct {
	store store.Store
	sets  informer.Lister[*api.DaemonSet]
	pods  informer.Lister[*api.Pod]
	nodes informer.Lister[*api.Node]
	opts  Options

	mu      sync.Mutex
	pending map[string]*pendingCreates
}

type pendingCreates struct {
	names    []string
	deadline time.Time
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// daemonTolerations are added to every DaemonSet pod: a daemon runs on
// cordoned and unhealthy nodes too.
var daemonTolerations = []*api.Toleration{
	{Key: "node.kubernetes.io/unschedulable", Operator: "Exists", Effect: "NoSchedule"},
	{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute"},
	{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute"},
	{Key: "node.kubernetes.io/disk-pressure", Operator: "Exists", Effect: "NoSchedule"},
	{Key: "node.kubernetes.io/memory-pressure", Operator: "Exists", Effect: "NoSchedule"},
}

// ShouldRun reports whether a DaemonSet with this pod template runs on
// node: the node matches the template's nodeSelector and required node
// affinity, and the pod tolerates every NoSchedule and NoExecute taint.
func ShouldRun(tmpl *api.PodTemplateSpec, node *api.Node) bool {
	pod := &api.Pod{Metadata: tmpl.GetMetadata(), Spec: tmpl.GetSpec()}
	if !plugins.PodMatchesNodeSelectorAndAffinity(pod, node) {
		return false
	}
	tols := append(slices.Clone(tmpl.GetSpec().GetTolerations()), daemonTolerations...)
	for _, t := range node.GetSpec().GetTaints() {
		if t.GetEffect() != "NoSchedule" && t.GetEffect() != "NoExecute" {
			continue
		}
		if !plugins.TaintTolerated(tols, t) {
			return false
		}
	}
	return true
}

// TemplateHash returns the hash that labels pods made from tmpl.
func TemplateHash(tmpl *api.PodTemplateSpec) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(tmpl)
	h := fnv.New32a()
	_, _ = h.Write(b)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// Reconcile brings one DaemonSet's pods to one per eligible node.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	key := req.String()
	ds, ok := r.sets.Get(req.Namespace, req.Name)
	if !ok {
		r.mu.Lock()
		delete(r.pending, key)
		r.mu.Unlock()
		return reconcile.Result{}, nil
	}
	if ds.GetMetadata().GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	sel, err := labels.FromLabelSelector(ds.GetSpec().GetSelector())
	if err != nil {
		return reconcile.Result{}, reconcile.Terminal(fmt.Errorf("selector: %w", err))
	}
	now := r.opts.Clock.Now()
	hash := TemplateHash(ds.GetSpec().GetTemplate())
	// Check the expectations before reading the pods: a pod that reaches
	// the cache in between is then in the list too.
	synced := r.satisfied(key, req.Namespace, now)
	owned, err := r.pods.ByIndex(informer.IndexOwner, ds.GetMetadata().GetUid())
	if err != nil {
		return reconcile.Result{}, err
	}
	byNode := map[string][]*api.Pod{}
	var errs error
	var toDelete []*api.Pod
	for _, p := range owned {
		if podutil.IsTerminating(p) || !sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			continue
		}
		if podutil.IsFinished(p) {
			toDelete = append(toDelete, p) // replaced on the next pass
			continue
		}
		byNode[p.GetSpec().GetNodeName()] = append(byNode[p.GetSpec().GetNodeName()], p)
	}
	nodes := r.nodes.List()
	slices.SortFunc(nodes, func(a, b *api.Node) int { return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()) })
	var st api.DaemonSetStatus
	st.ObservedGeneration = ds.GetMetadata().GetGeneration()
	var createOn []string
	type running struct {
		pod       *api.Pod
		available bool
	}
	var desired []running // the one pod kept on each eligible node that has one
	surging := int32(0)   // nodes running an old pod beside its new one
	eligible := map[string]bool{}
	for _, n := range nodes {
		name := n.GetMetadata().GetName()
		pods := byNode[name]
		if !ShouldRun(ds.GetSpec().GetTemplate(), n) || n.GetMetadata().GetDeletionTimestamp() != nil {
			st.NumberMisscheduled += int32(len(pods))
			toDelete = append(toDelete, pods...)
			continue
		}
		eligible[name] = true
		st.DesiredNumberScheduled++
		if len(pods) == 0 {
			createOn = append(createOn, name)
			continue
		}
		// Keep the updated, then the oldest, pod; delete the others, except
		// an available old pod while its surged replacement is not
		// available yet.
		slices.SortFunc(pods, func(a, b *api.Pod) int {
			ua, ub := a.GetMetadata().GetLabels()[LabelTemplateHash] == hash, b.GetMetadata().GetLabels()[LabelTemplateHash] == hash
			if ua != ub {
				if ua {
					return -1
				}
				return 1
			}
			return a.GetMetadata().GetCreationTimestamp().AsTime().Compare(b.GetMetadata().GetCreationTimestamp().AsTime())
		})
		keep := pods[0]
		minReady := ds.GetSpec().GetMinReadySeconds()
		avail := podutil.IsAvailable(keep, minReady, now)
		ready := podutil.IsReady(keep)
		for _, p := range pods[1:] {
			isOld := p.GetMetadata().GetLabels()[LabelTemplateHash] != hash
			if isOld && keep.GetMetadata().GetLabels()[LabelTemplateHash] == hash && !avail && podutil.IsAvailable(p, minReady, now) {
				avail, ready = true, true // the old pod serves until the new one is available
				surging++
				continue
			}
			toDelete = append(toDelete, p)
		}
		st.CurrentNumberScheduled++
		if ready {
			st.NumberReady++
		}
		if avail {
			st.NumberAvailable++
		}
		if keep.GetMetadata().GetLabels()[LabelTemplateHash] == hash {
			st.UpdatedNumberScheduled++
		}
		desired = append(desired, running{keep, avail})
	}
	// Pods on nodes that no longer exist.
	for node, pods := range byNode {
		if _, ok := r.nodes.Get("", node); !ok && node != "" {
			st.NumberMisscheduled += int32(len(pods))
			toDelete = append(toDelete, pods...)
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable

	// Rolling update: replace old pods while at most maxUnavailable of the
	// desired pods are unavailable.
	strategy := ds.GetSpec().GetUpdateStrategy()
	if strategy.GetType() != StrategyOnDelete {
		ru := strategy.GetRollingUpdate()
		maxSurge := surgeOf(ru.GetMaxSurge(), st.DesiredNumberScheduled)
		maxUnavail := maxUnavailable(ru.GetMaxUnavailable(), st.DesiredNumberScheduled)
		if maxSurge > 0 && ru.GetMaxUnavailable() == nil {
			maxUnavail = 0 // surge instead of taking pods down
		}
		unavailable := st.NumberUnavailable
		for _, d := range desired {
			if d.pod.GetMetadata().GetLabels()[LabelTemplateHash] == hash {
				continue
			}
			switch {
			case !d.available:
				toDelete = append(toDelete, d.pod) // unavailable already: costs nothing
			case surging < maxSurge:
				// Start the new pod beside the old; the old goes once the
				// new one is available.
				createOn = append(createOn, d.pod.GetSpec().GetNodeName())
				surging++
			case unavailable < maxUnavail:
				toDelete = append(toDelete, d.pod)
				unavailable++
			}
		}
	}
	for _, p := range toDelete {
		m := p.GetMetadata()
		if _, err := r.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()}); err != nil &&
			!store.IsNotFound(err) && !store.IsConflict(err) {
			errs = errors.Join(errs, fmt.Errorf("delete pod %s: %w", m.GetName(), err))
		}
	}
	if synced {
		for _, node := range createOn {
			created, err := r.store.Create(ctx, newPod(ds, node, hash))
			if err != nil {
				errs = errors.Join(errs, fmt.Errorf("create pod on %s: %w", node, err))
				continue
			}
			r.expect(key, created.GetMetadata().GetName(), now.Add(r.opts.ExpectationTimeout))
		}
	}
	var res reconcile.Result
	if mr := ds.GetSpec().GetMinReadySeconds(); mr > 0 && st.NumberReady > st.NumberAvailable {
		res.RequeueAfter = time.Duration(mr) * time.Second
	}
	if !proto.Equal(&st, orEmpty(ds.GetStatus())) {
		out := api.Clone(ds)
		st.Conditions = ds.GetStatus().GetConditions()
		out.Status = &st
		if _, err := r.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
			errs = errors.Join(errs, fmt.Errorf("update status: %w", err))
		}
	}
	return res, errs
}

func orEmpty(st *api.DaemonSetStatus) *api.DaemonSetStatus {
	if st == nil {
		return &api.DaemonSetStatus{}
	}
	out := proto.Clone(st).(*api.DaemonSetStatus)
	out.Conditions = nil
	return out
}

// maxUnavailable resolves the rolling update's maxUnavailable (default 1;
// a percentage of the desired count rounds down, but at least 1).
func maxUnavailable(v *api.IntOrString, desired int32) int32 {
	if v == nil {
		return 1
	}
	if s, ok := v.GetValue().(*api.IntOrString_StrVal); ok {
		pct, err := strconv.Atoi(strings.TrimSuffix(s.StrVal, "%"))
		if err != nil {
			return 1
		}
		return max(int32(int64(pct)*int64(desired)/100), 1)
	}
	return max(v.GetIntVal(), 0)
}

// surgeOf resolves the rolling update's maxSurge (default 0; a percentage
// of the desired count rounds up).
func surgeOf(v *api.IntOrString, desired int32) int32 {
	if v == nil {
		return 0
	}
	if s, ok := v.GetValue().(*api.IntOrString_StrVal); ok {
		pct, err := strconv.Atoi(strings.TrimSuffix(s.StrVal, "%"))
		if err != nil {
			return 0
		}
		return int32((int64(pct)*int64(desired) + 99) / 100)
	}
	return max(v.GetIntVal(), 0)
}

// newPod returns the DaemonSet's pod for node, bound to it.
func newPod(ds *api.DaemonSet, node, hash string) *api.Pod {
	m := ds.GetMetadata()
	tmpl := ds.GetSpec().GetTemplate()
	lbls := map[string]string{}
	for k, v := range tmpl.GetMetadata().GetLabels() {
		lbls[k] = v
	}
	lbls[LabelTemplateHash] = hash
	var ann map[string]string
	if a := tmpl.GetMetadata().GetAnnotations(); len(a) > 0 {
		ann = make(map[string]string, len(a))
		for k, v := range a {
			ann[k] = v
		}
	}
	spec := &api.PodSpec{}
	if tmpl.GetSpec() != nil {
		spec = proto.Clone(tmpl.GetSpec()).(*api.PodSpec)
	}
	spec.NodeName = node
	for _, t := range daemonTolerations {
		if !slices.ContainsFunc(spec.Tolerations, func(x *api.Toleration) bool { return proto.Equal(x, t) }) {
			spec.Tolerations = append(spec.Tolerations, proto.Clone(t).(*api.Toleration))
		}
	}
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			GenerateName:    m.GetName() + "-",
			Namespace:       m.GetNamespace(),
			Labels:          lbls,
			Annotations:     ann,
			Finalizers:      []string{scheduler.FinalizerNodeAgent},
			OwnerReferences: []*api.OwnerReference{podutil.ControllerRef("apps/v1", api.KindDaemonSet, m)},
		},
		Spec: spec,
	}
}

func (r *Reconciler) expect(key, name string, deadline time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.pending[key]
	if x == nil {
		x = &pendingCreates{}
		r.pending[key] = x
	}
	x.names = append(x.names, name)
	x.deadline = deadline
}

// satisfied reports whether the cache shows every pod created for key.
func (r *Reconciler) satisfied(key, ns string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.pending[key]
	if x == nil {
		return true
	}
	x.names = slices.DeleteFunc(x.names, func(name string) bool {
		_, ok := r.pods.Get(ns, name)
		return ok
	})
	if len(x.names) == 0 || now.After(x.deadline) {
		delete(r.pending, key)
		return true
	}
	return false
}
