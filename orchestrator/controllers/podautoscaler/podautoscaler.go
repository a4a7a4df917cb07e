package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// Metric source types.
const (
	MetricResource = "Resource"
	MetricPods     = "Pods"
	MetricExternal = "External"
)

// Condition types and reasons written to the HPA's status.
const (
	ConditionAbleToScale    = "AbleToScale"
	ConditionScalingActive  = "ScalingActive"
	ConditionScalingLimited = "ScalingLimited"

	ReasonScaleDownStabilized = "ScaleDownStabilized"
	ReasonScaleRateLimited    = "ScaleRateLimited"
	ReasonReadyForNewScale    = "ReadyForNewScale"
	ReasonSucceededRescale    = "SucceededRescale"
)

// Scale is the scale subresource of a workload: its desired replicas and
// the selector of its pods.
type Scale struct {
	Replicas int32
	Selector labels.Selector
}

// Scaler reads and writes the scale of the workloads an HPA may target.
type Scaler interface {
	// GetScale returns the scale of the object ref names in namespace.
	GetScale(ctx context.Context, namespace string, ref *api.CrossVersionObjectReference) (Scale, error)
	// SetReplicas changes its spec.replicas.
	SetReplicas(ctx context.Context, namespace string, ref *api.CrossVersionObjectReference, replicas int32) error
}

// MetricsSource gives custom metrics to the autoscaler, for the metric
// types Pods and External. Values are in milli-units. Implementations are
// called from several goroutines at once.
type MetricsSource interface {
	// PodMetric returns the named metric of each pod, by pod name; pods
	// with no value are left out.
	PodMetric(ctx context.Context, namespace, metric string, pods []*api.Pod) (map[string]int64, error)
	// ExternalMetric returns the named metric's value for selector.
	ExternalMetric(ctx context.Context, namespace, metric string, selector labels.Selector) (int64, error)
}

// ErrNoMetrics is returned when a metric has no value for any pod.
var ErrNoMetrics = errors.New("no metrics")

// Options tune the autoscaler. The zero value is the default.
type Options struct {
	// Workers is the number of HPAs reconciled at once (default 2).
	Workers int
	// Clock drives the sync period and the stabilization windows (default
	// the wall clock).
	Clock clock.Clock
	// SyncPeriod is how often each HPA is evaluated (default 15s).
	SyncPeriod time.Duration
	// Tolerance is the relative distance from the target within which no
	// scaling happens (default 0.1).
	Tolerance float64
	// DownscaleStabilization is the scale-down window used when an HPA's
	// behavior does not set one (default 5m).
	DownscaleStabilization time.Duration
	// Scaler reads and writes scales (default StoreScaler over the
	// manager's store).
	Scaler Scaler
	// Metrics serves Pods and External metrics (default none: such
	// metrics report ErrNoMetrics).
	Metrics MetricsSource
}

// Add registers the HorizontalPodAutoscaler controller with mgr.
func Add(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.SyncPeriod <= 0 {
		opts.SyncPeriod = 15 * time.Second
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = 0.1
	}
	if opts.DownscaleStabilization <= 0 {
		opts.DownscaleStabilization = 5 * time.Minute
	}
	if opts.Scaler == nil {
		opts.Scaler = StoreScaler{Store: mgr.Store()}
	}
	hpaInf, err := mgr.Informer(api.KindHorizontalPodAutoscaler)
	if err != nil {
		return nil, err
	}
	podInf, err := mgr.Informer(api.KindPod)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{
		store:  mgr.Store(),
		hpas:   informer.ListerFor[*api.HorizontalPodAutoscaler](hpaInf),
		pods:   informer.ListerFor[*api.Pod](podInf),
		opts:   opts,
		recs:   map[string][]recommendation{},
		events: map[string][]scaleEvent{},
	}
	ctrl, err := controller.New(controller.Options{
		Name: "horizontalpodautoscaler", Reconciler: r, Workers: opts.Workers, Clock: opts.Clock,
		Logger: mgr.Logger(), Metrics: mgr.Metrics(),
	})
	if err != nil {
		return nil, fmt.Errorf("podautoscaler: %w", err)
	}
	if err := ctrl.Watch(hpaInf, handler.EnqueueObject()); err != nil {
		return nil, err
	}
	if err := mgr.Add(ctrl); err != nil {
		return nil, err
	}
	return ctrl, nil
}

// Reconciler evaluates HorizontalPodAutoscalers.
type Reconciler struct {
	store store.Store
	hpas  informer.Lister[*api.HorizontalPodAutoscaler]
	pods  informer.Lister[*api.Pod]
	opts  Options

	mu     sync.Mutex
	recs   map[string][]recommendation // by HPA key, oldest first
	events map[string][]scaleEvent     // by HPA key, oldest first
}

type scaleEvent struct {
	at     time.Time
	change int32 // replicas added (negative: removed)
}

type recommendation struct {
	at       time.Time
	replicas int32
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Reconcile evaluates one HPA and scales its target.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	key := req.String()
	hpa, ok := r.hpas.Get(req.Namespace, req.Name)
	if !ok {
		r.mu.Lock()
		delete(r.recs, key)
		delete(r.events, key)
		r.mu.Unlock()
		return reconcile.Result{}, nil
	}
	res := reconcile.Result{RequeueAfter: r.opts.SyncPeriod}
	now := r.opts.Clock.Now()
	st := &api.HorizontalPodAutoscalerStatus{}
	if hpa.GetStatus() != nil {
		st = proto.Clone(hpa.GetStatus()).(*api.HorizontalPodAutoscalerStatus)
	}
	st.ObservedGeneration = hpa.GetMetadata().GetGeneration()
	ts := timestamppb.New(now)
	ref := hpa.GetSpec().GetScaleTargetRef()
	scale, err := r.opts.Scaler.GetScale(ctx, req.Namespace, ref)
	if err != nil {
		setCondition(st, ConditionAbleToScale, false, "FailedGetScale", err.Error(), ts)
		return res, errors.Join(fmt.Errorf("get scale of %s %s: %w", ref.GetKind(), ref.GetName(), err), r.writeStatus(ctx, hpa, st))
	}
	st.CurrentReplicas = scale.Replicas
	minR := int32(1)
	if hpa.GetSpec().MinReplicas != nil {
		minR = hpa.GetSpec().GetMinReplicas()
	}
	maxR := max(hpa.GetSpec().GetMaxReplicas(), minR)

	if scale.Replicas == 0 && minR > 0 {
		// Scaled to zero by hand: autoscaling is off until it is scaled up.
		setCondition(st, ConditionScalingActive, false, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero", ts)
		st.DesiredReplicas = 0
		return res, r.writeStatus(ctx, hpa, st)
	}
	pods := r.pods.Select(req.Namespace, scale.Selector)
	proposal, metrics, err := r.propose(ctx, hpa, scale.Replicas, pods)
	if err != nil {
		setCondition(st, ConditionScalingActive, false, "FailedGetMetrics", err.Error(), ts)
		return res, errors.Join(err, r.writeStatus(ctx, hpa, st))
	}
	setCondition(st, ConditionScalingActive, true, "ValidMetricFound", "the HPA was able to compute the replica count", ts)
	st.CurrentMetrics = metrics
	st.CurrentCpuUtilizationPercentage = nil
	for _, m := range metrics {
		if m.GetType() == MetricResource && m.GetName() == resource.CPU && m.AverageUtilization != nil {
			st.CurrentCpuUtilizationPercentage = proto.Int32(m.GetAverageUtilization())
		}
	}

	limited := min(max(proposal, minR), maxR)
	setCondition(st, ConditionScalingLimited, limited != proposal, "TooFewOrTooManyReplicas",
		fmt.Sprintf("the desired replica count %d is outside [%d, %d]", proposal, minR, maxR), ts)
	stabilized := r.stabilize(key, hpa, scale.Replicas, limited, now)
	desired := r.rateLimit(key, hpa, scale.Replicas, stabilized, now)
	switch {
	case stabilized > limited:
		setCondition(st, ConditionAbleToScale, true, ReasonScaleDownStabilized,
			fmt.Sprintf("recent recommendations were higher than the current one (%d), applying the highest recent recommendation", limited), ts)
	case desired != stabilized:
		setCondition(st, ConditionAbleToScale, true, ReasonScaleRateLimited,
			fmt.Sprintf("the scaling policies allow %d replicas now, not %d", desired, stabilized), ts)
	default:
		setCondition(st, ConditionAbleToScale, true, ReasonReadyForNewScale, "recommended size matches current size", ts)
	}
	st.DesiredReplicas = desired
	var errs error
	if desired != scale.Replicas {
		if err := r.opts.Scaler.SetReplicas(ctx, req.Namespace, ref, desired); err != nil {
			setCondition(st, ConditionAbleToScale, false, "FailedUpdateScale", err.Error(), ts)
			errs = fmt.Errorf("scale %s %s to %d: %w", ref.GetKind(), ref.GetName(), desired, err)
		} else {
			st.LastScaleTime = ts
			r.recordScale(key, desired-scale.Replicas, now)
			setCondition(st, ConditionAbleToScale, true, ReasonSucceededRescale,
				fmt.Sprintf("the HPA scaled the target from %d to %d", scale.Replicas, desired), ts)
		}
	}
	return res, errors.Join(errs, r.writeStatus(ctx, hpa, st))
}

func (r *Reconciler) writeStatus(ctx context.Context, hpa *api.HorizontalPodAutoscaler, st *api.HorizontalPodAutoscalerStatus) error {
	if proto.Equal(st, hpa.GetStatus()) {
		return nil
	}
	out := api.Clone(hpa)
	out.Status = st
	if _, err := r.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// metricSpecs returns the HPA's metrics, with targetCPUUtilizationPercentage
// (or a default of 80%) as a CPU Resource metric when none is listed.
func metricSpecs(hpa *api.HorizontalPodAutoscaler) []*api.MetricSpec {
	if ms := hpa.GetSpec().GetMetrics(); len(ms) > 0 {
		return ms
	}
	target := int32(80)
	if t := hpa.GetSpec().TargetCpuUtilizationPercentage; t != nil {
		target = *t
	}
	return []*api.MetricSpec{{Type: MetricResource, Resource: &api.ResourceMetricSource{
		Name: resource.CPU, Target: &api.MetricTarget{Type: "Utilization", AverageUtilization: &target},
	}}}
}

// propose computes the replica count each metric asks for and returns the
// largest, with the metrics' current values.
func (r *Reconciler) propose(ctx context.Context, hpa *api.HorizontalPodAutoscaler, current int32, pods []*api.Pod) (int32, []*api.MetricStatus, error) {
	var running []*api.Pod
	for _, p := range pods {
		if podutil.IsActive(p) && p.GetStatus().GetPhase() == podutil.PhaseRunning {
			running = append(running, p)
		}
	}
	proposal := int32(-1)
	var statuses []*api.MetricStatus
	var errs error
	for _, m := range metricSpecs(hpa) {
		n, ms, err := r.proposeOne(ctx, hpa.GetMetadata().GetNamespace(), m, current, running)
		if err != nil {
			errs = errors.Join(errs, err)
			continue
		}
		statuses = append(statuses, ms)
		proposal = max(proposal, n)
	}
	if proposal < 0 {
		return 0, nil, fmt.Errorf("no metric could be computed: %w", errs)
	}
	return proposal, statuses, nil
}

func (r *Reconciler) proposeOne(ctx context.Context, ns string, m *api.MetricSpec, current int32, pods []*api.Pod) (int32, *api.MetricStatus, error) {
	switch m.GetType() {
	case MetricResource:
		name := m.GetResource().GetName()
		target := m.GetResource().GetTarget()
		var usage, request int64
		counted := 0
		for _, p := range pods {
			u, ok := p.GetStatus().GetUsage()[name]
			if !ok {
				continue
			}
			uq, err := resource.ParseQuantity(u)
			if err != nil {
				continue
			}
			req, _, err := podRequests(p, name)
			if err != nil {
				return 0, nil, err
			}
			usage += uq.MilliValue()
			request += req
			counted++
		}
		if counted == 0 {
			return 0, nil, fmt.Errorf("resource %s: %w for the target's pods", name, ErrNoMetrics)
		}
		avg := usage / int64(counted)
		ms := &api.MetricStatus{Type: MetricResource, Name: name, AverageValue: resource.NewMilliQuantity(avg).String()}
		if target.AverageUtilization != nil {
			if request == 0 {
				return 0, nil, fmt.Errorf("resource %s: pods have no request to compute utilization against: %w", name, store.ErrInvalid)
			}
			util := float64(usage) * 100 / float64(request)
			ms.AverageUtilization = proto.Int32(int32(math.Round(util)))
			return r.byRatio(util/float64(*target.AverageUtilization), current, counted), ms, nil
		}
		tq, err := resource.ParseQuantity(target.GetAverageValue())
		if err != nil || tq.MilliValue() <= 0 {
			return 0, nil, fmt.Errorf("resource %s: target averageValue %q: %w", name, target.GetAverageValue(), store.ErrInvalid)
		}
		return r.byRatio(float64(avg)/float64(tq.MilliValue()), current, counted), ms, nil
	case MetricPods:
		name := m.GetPods().GetMetric().GetName()
		if r.opts.Metrics == nil {
			return 0, nil, fmt.Errorf("pods metric %s: no metrics source: %w", name, ErrNoMetrics)
		}
		vals, err := r.opts.Metrics.PodMetric(ctx, ns, name, pods)
		if err != nil {
			return 0, nil, fmt.Errorf("pods metric %s: %w", name, err)
		}
		if len(vals) == 0 {
			return 0, nil, fmt.Errorf("pods metric %s: %w", name, ErrNoMetrics)
		}
		var sum int64
		for _, v := range vals {
			sum += v
		}
		tq, err := resource.ParseQuantity(m.GetPods().GetTarget().GetAverageValue())
		if err != nil || tq.MilliValue() <= 0 {
			return 0, nil, fmt.Errorf("pods metric %s: target averageValue: %w", name, store.ErrInvalid)
		}
		avg := sum / int64(len(vals))
		ms := &api.MetricStatus{Type: MetricPods, Name: name, AverageValue: resource.NewMilliQuantity(avg).String()}
		return r.byRatio(float64(avg)/float64(tq.MilliValue()), current, len(vals)), ms, nil
	case MetricExternal:
		name := m.GetExternal().GetMetric().GetName()
		if r.opts.Metrics == nil {
			return 0, nil, fmt.Errorf("external metric %s: no metrics source: %w", name, ErrNoMetrics)
		}
		sel, err := labels.FromLabelSelector(m.GetExternal().GetMetric().GetSelector())
		if err != nil || m.GetExternal().GetMetric().GetSelector() == nil {
			sel = labels.Everything()
		}
		v, err := r.opts.Metrics.ExternalMetric(ctx, ns, name, sel)
		if err != nil {
			return 0, nil, fmt.Errorf("external metric %s: %w", name, err)
		}
		ms := &api.MetricStatus{Type: MetricExternal, Name: name, Value: resource.NewMilliQuantity(v).String()}
		target := m.GetExternal().GetTarget()
		if target.GetAverageValue() != "" {
			tq, err := resource.ParseQuantity(target.GetAverageValue())
			if err != nil || tq.MilliValue() <= 0 {
				return 0, nil, fmt.Errorf("external metric %s: target averageValue: %w", name, store.ErrInvalid)
			}
			return int32(math.Ceil(float64(v) / float64(tq.MilliValue()))), ms, nil
		}
		tq, err := resource.ParseQuantity(target.GetValue())
		if err != nil || tq.MilliValue() <= 0 {
			return 0, nil, fmt.Errorf("external metric %s: target value: %w", name, store.ErrInvalid)
		}
		return r.byRatio(float64(v)/float64(tq.MilliValue()), current, int(current)), ms, nil
	}
	return 0, nil, fmt.Errorf("metric type %q: %w", m.GetType(), store.ErrInvalid)
}

// byRatio is the replica count for a usage ratio (current/target) over n
// measured pods; within the tolerance it keeps the current count.
func (r *Reconciler) byRatio(ratio float64, current int32, n int) int32 {
	if math.Abs(ratio-1) <= r.opts.Tolerance {
		return current
	}
	return int32(math.Ceil(ratio * float64(n)))
}

// stabilize records the recommendation and returns the replica count to
// apply: scale-down takes the highest recommendation within the
// scale-down window, scale-up the lowest within the scale-up window
// (default 0: at once).
func (r *Reconciler) stabilize(key string, hpa *api.HorizontalPodAutoscaler, current, rec int32, now time.Time) int32 {
	down := r.opts.DownscaleStabilization
	if rules := hpa.GetSpec().GetBehavior().GetScaleDown(); rules != nil && rules.StabilizationWindowSeconds != nil {
		down = time.Duration(rules.GetStabilizationWindowSeconds()) * time.Second
	}
	var up time.Duration
	if rules := hpa.GetSpec().GetBehavior().GetScaleUp(); rules != nil && rules.StabilizationWindowSeconds != nil {
		up = time.Duration(rules.GetStabilizationWindowSeconds()) * time.Second
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	recs := append(r.recs[key], recommendation{at: now, replicas: rec})
	keep := max(down, up)
	recs = slices.DeleteFunc(recs, func(x recommendation) bool { return now.Sub(x.at) > keep })
	r.recs[key] = recs
	upMin, downMax := rec, rec
	for _, x := range recs {
		age := now.Sub(x.at)
		if age <= up {
			upMin = min(upMin, x.replicas)
		}
		if age <= down {
			downMax = max(downMax, x.replicas)
		}
	}
	switch {
	case rec > current:
		return max(min(upMin, rec), current)
	case rec < current:
		return min(downMax, current)
	}
	return current
}

// Default scaling policies, as in Kubernetes: up by 4 pods or 100% per
// 15s (whichever is more), down by 100% per 15s.
var (
	defaultScaleUp = &api.HPAScalingRules{Policies: []*api.HPAScalingPolicy{
		{Type: "Pods", Value: 4, PeriodSeconds: 15}, {Type: "Percent", Value: 100, PeriodSeconds: 15},
	}}
	defaultScaleDown = &api.HPAScalingRules{Policies: []*api.HPAScalingPolicy{
		{Type: "Percent", Value: 100, PeriodSeconds: 15},
	}}
)

// rateLimit bounds a change from current to want by the behavior's
// policies: each allows a number of pods (Pods) or a percentage of the
// replicas at the start of its period (Percent) to be added or removed per
// periodSeconds, counting the changes already made in that period.
// selectPolicy Max (default) takes the policy allowing the most change,
// Min the least, Disabled none.
func (r *Reconciler) rateLimit(key string, hpa *api.HorizontalPodAutoscaler, current, want int32, now time.Time) int32 {
	if want == current {
		return want
	}
	up := want > current
	rules := hpa.GetSpec().GetBehavior().GetScaleDown()
	if up {
		rules = hpa.GetSpec().GetBehavior().GetScaleUp()
	}
	if rules == nil || len(rules.GetPolicies()) == 0 && rules.GetSelectPolicy() != "Disabled" {
		if up {
			rules = defaultScaleUp
		} else {
			rules = defaultScaleDown
		}
	}
	if rules.GetSelectPolicy() == "Disabled" {
		return current
	}
	r.mu.Lock()
	events := slices.Clone(r.events[key])
	r.mu.Unlock()
	var bound int32
	for i, p := range rules.GetPolicies() {
		period := time.Duration(p.GetPeriodSeconds()) * time.Second
		var changed int32 // in this direction, within the period
		for _, e := range events {
			if now.Sub(e.at) <= period && (e.change > 0) == up {
				changed += e.change
			}
		}
		start := current - changed
		var limit int32
		switch {
		case up && p.GetType() == "Percent":
			limit = int32(math.Ceil(float64(start) * (1 + float64(p.GetValue())/100)))
		case up:
			limit = start + p.GetValue()
		case p.GetType() == "Percent":
			limit = int32(math.Floor(float64(start) * (1 - float64(p.GetValue())/100)))
		default:
			limit = start - p.GetValue()
		}
		// Max: the policy allowing the most change; Min: the least.
		most := rules.GetSelectPolicy() != "Min"
		switch {
		case i == 0:
			bound = limit
		case up == most:
			bound = max(bound, limit)
		default:
			bound = min(bound, limit)
		}
	}
	if up {
		return max(min(want, bound), current)
	}
	return min(max(want, bound), current)
}

// recordScale remembers a change for the rate policies (kept 30 minutes,
// the longest period Kubernetes allows).
func (r *Reconciler) recordScale(key string, change int32, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := append(r.events[key], scaleEvent{at: now, change: change})
	r.events[key] = slices.DeleteFunc(ev, func(e scaleEvent) bool { return now.Sub(e.at) > 30*time.Minute })
}

// podRequests returns the pod's request of resource name, in milli-units,
// summed over its containers.
func podRequests(p *api.Pod, name string) (int64, bool, error) {
	var sum int64
	found := false
	for _, c := range p.GetSpec().GetContainers() {
		v, ok := c.GetResources().GetRequests()[name]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, false, fmt.Errorf("pod %s container %s: %w: %w", p.GetMetadata().GetName(), c.GetName(), store.ErrInvalid, err)
		}
		sum += q.MilliValue()
		found = true
	}
	return sum, found, nil
}

func setCondition(st *api.HorizontalPodAutoscalerStatus, typ string, ok bool, reason, msg string, ts *timestamppb.Timestamp) {
	status := podutil.StatusFalse
	if ok {
		status = podutil.StatusTrue
	}
	c := podutil.Condition(st.Conditions, typ)
	if c == nil {
		c = &api.Condition{Type: typ}
		st.Conditions = append(st.Conditions, c)
	}
	if c.Status != status {
		c.LastTransitionTime = ts
	}
	c.Status, c.Reason, c.Message = status, reason, msg
}

// StoreScaler is the Scaler over a store for Deployments, ReplicaSets and
// ReplicationControllers: their spec.replicas and selector.
type StoreScaler struct {
	Store store.Store
}

var _ Scaler = StoreScaler{}

// GetScale reads the target's replicas and selector.
func (s StoreScaler) GetScale(ctx context.Context, ns string, ref *api.CrossVersionObjectReference) (Scale, error) {
	switch ref.GetKind() {
	case api.KindDeployment:
		d, err := store.For[*api.Deployment](s.Store).Get(ctx, ns, ref.GetName())
		if err != nil {
			return Scale{}, err
		}
		sel, err := labels.FromLabelSelector(d.GetSpec().GetSelector())
		return Scale{Replicas: replicas(d.GetSpec().Replicas), Selector: sel}, err
	case api.KindReplicaSet:
		rs, err := store.For[*api.ReplicaSet](s.Store).Get(ctx, ns, ref.GetName())
		if err != nil {
			return Scale{}, err
		}
		sel, err := labels.FromLabelSelector(rs.GetSpec().GetSelector())
		return Scale{Replicas: replicas(rs.GetSpec().Replicas), Selector: sel}, err
	case api.KindReplicationController:
		rc, err := store.For[*api.ReplicationController](s.Store).Get(ctx, ns, ref.GetName())
		if err != nil {
			return Scale{}, err
		}
		set := rc.GetSpec().GetSelector()
		if len(set) == 0 {
			set = rc.GetSpec().GetTemplate().GetMetadata().GetLabels()
		}
		return Scale{Replicas: replicas(rc.GetSpec().Replicas), Selector: labels.SelectorFromSet(labels.Set(set))}, nil
	}
	return Scale{}, fmt.Errorf("kind %q has no scale: %w", ref.GetKind(), store.ErrInvalid)
}

// SetReplicas writes the target's spec.replicas.
func (s StoreScaler) SetReplicas(ctx context.Context, ns string, ref *api.CrossVersionObjectReference, n int32) error {
	var err error
	switch ref.GetKind() {
	case api.KindDeployment:
		_, err = store.For[*api.Deployment](s.Store).Mutate(ctx, ns, ref.GetName(), func(d *api.Deployment) error {
			d.Spec.Replicas = proto.Int32(n)
			return nil
		})
	case api.KindReplicaSet:
		_, err = store.For[*api.ReplicaSet](s.Store).Mutate(ctx, ns, ref.GetName(), func(rs *api.ReplicaSet) error {
			rs.Spec.Replicas = proto.Int32(n)
			return nil
		})
	case api.KindReplicationController:
		_, err = store.For[*api.ReplicationController](s.Store).Mutate(ctx, ns, ref.GetName(), func(rc *api.ReplicationController) error {
			rc.Spec.Replicas = proto.Int32(n)
			return nil
		})
	default:
		err = fmt.Errorf("kind %q has no scale: %w", ref.GetKind(), store.ErrInvalid)
	}
	return err
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
