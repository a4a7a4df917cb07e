package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// Labels, annotations and environment the controller puts on a Job's pods.
const (
	// LabelJobName holds the Job's name.
	LabelJobName = "job-name"
	// LabelControllerUID holds the Job's uid.
	LabelControllerUID = "controller-uid"
	// AnnotationCompletionIndex holds an Indexed Job pod's index.
	AnnotationCompletionIndex = "batch.kubernetes.io/job-completion-index"
	// EnvCompletionIndex is the environment variable holding the index.
	EnvCompletionIndex = "JOB_COMPLETION_INDEX"
)

// Completion modes and condition types and reasons.
const (
	CompletionNonIndexed = "NonIndexed"
	CompletionIndexed    = "Indexed"

	ConditionComplete  = "Complete"
	ConditionFailed    = "Failed"
	ConditionSuspended = "Suspended"

	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
)

// Options tune the Job controller. The zero value is the default.
type Options struct {
	// Workers is the number of Jobs reconciled at once (default 4).
	Workers int
	// Clock tells the time for backoff, deadlines and TTLs, and times the
	// controller's requeues (default the wall clock).
	Clock clock.Clock
	// BackoffBase is the delay before the first retry after a failure; it
	// doubles with each further failure (default 10s).
	BackoffBase time.Duration
	// BackoffMax caps the retry delay (default 6m).
	BackoffMax time.Duration
	// ExpectationTimeout is how long the controller waits for its cache to
	// show pods it created before trusting the cache anyway (default 1m).
	ExpectationTimeout time.Duration
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 10 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 6 * time.Minute
	}
	if o.ExpectationTimeout <= 0 {
		o.ExpectationTimeout = time.Minute
	}
}

// Add registers the Job controller with mgr. It returns the controller so
// a caller can enqueue Jobs itself.
func Add(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	opts.defaults()
	jobs, err := mgr.Informer(api.KindJob)
	if err != nil {
		return nil, err
	}
	pods, err := mgr.Informer(api.KindPod)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{
		store:   mgr.Store(),
		jobs:    informer.ListerFor[*api.Job](jobs),
		pods:    informer.ListerFor[*api.Pod](pods),
		opts:    opts,
		pending: map[string]*expectation{},
	}
	ctrl, err := controller.New(controller.Options{
		Name: "job", Reconciler: r, Workers: opts.Workers, Clock: opts.Clock,
		Logger: mgr.Logger(), Metrics: mgr.Metrics(),
	})
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if err := ctrl.Watch(jobs, handler.EnqueueObject()); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(pods, handler.EnqueueOwner(api.KindJob, api.Namespaced)); err != nil {
		return nil, err
	}
	if err := mgr.Add(ctrl); err != nil {
		return nil, err
	}
	return ctrl, nil
}

// Reconciler runs each Job's pods to completion.
type Reconciler struct {
	store store.Store
	jobs  informer.Lister[*api.Job]
	pods  informer.Lister[*api.Pod]
	opts  Options

	mu      sync.Mutex
	pending map[string]*expectation // pods created, not yet in the cache, by job key
}

type expectation struct {
	names    []string
	deadline time.Time
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// view is a Job's spec with defaults applied.
type view struct {
	parallelism  int32
	completions  int32 // -1: work queue (no fixed count)
	backoffLimit int32
	indexed      bool
	suspended    bool
	onFailure    bool
}

func viewOf(j *api.Job) view {
	s := j.GetSpec()
	v := view{parallelism: 1, completions: -1, backoffLimit: 6}
	if s.Parallelism != nil {
		v.parallelism = max(*s.Parallelism, 0)
	}
	switch {
	case s.Completions != nil:
		v.completions = max(*s.Completions, 0)
	case s.Parallelism == nil:
		v.completions = 1
	}
	if s.BackoffLimit != nil {
		v.backoffLimit = max(*s.BackoffLimit, 0)
	}
	v.indexed = s.GetCompletionMode() == CompletionIndexed && v.completions >= 0
	v.suspended = s.GetSuspend()
	v.onFailure = s.GetTemplate().GetSpec().GetRestartPolicy() == "OnFailure"
	return v
}

// Reconcile drives one Job.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	j, ok := r.jobs.Get(req.Namespace, req.Name)
	if !ok {
		r.forget(req.String())
		return reconcile.Result{}, nil
	}
	if podutil.IsTerminating(j) {
		return reconcile.Result{}, nil
	}
	now := r.opts.Clock.Now()
	if finished(j) {
		return r.cleanup(ctx, j, now)
	}
	v := viewOf(j)
	// Check the expectations before reading the pods: a pod that reaches
	// the cache in between is then in the list too.
	synced := r.satisfied(req.String(), req.Namespace, now)
	owned, err := r.pods.ByIndex(informer.IndexOwner, j.GetMetadata().GetUid())
	if err != nil {
		return reconcile.Result{}, err
	}
	var active, succeeded, failed []*api.Pod
	var restarts int32
	for _, p := range owned {
		switch p.GetStatus().GetPhase() {
		case podutil.PhaseSucceeded:
			succeeded = append(succeeded, p)
		case podutil.PhaseFailed:
			failed = append(failed, p)
		default:
			if !podutil.IsTerminating(p) {
				active = append(active, p)
				for _, cs := range p.GetStatus().GetContainerStatuses() {
					restarts += cs.GetRestartCount()
				}
			}
		}
	}
	st := proto.Clone(statusOrEmpty(j)).(*api.JobStatus)
	if st.StartTime == nil && !v.suspended {
		st.StartTime = timestamppb.New(now)
	}
	failures := int32(len(failed)) + restarts
	done := map[int]bool{}
	if v.indexed {
		for _, p := range succeeded {
			if i, ok := indexOf(p); ok && i < int(v.completions) {
				done[i] = true
			}
		}
	}
	nSucceeded := int32(len(succeeded))
	if v.indexed {
		nSucceeded = int32(len(done))
	}

	var res reconcile.Result
	var errs error
	var finish *api.Condition
	deadline := j.GetSpec().ActiveDeadlineSeconds
	switch {
	case failures > v.backoffLimit:
		finish = &api.Condition{Type: ConditionFailed, Reason: ReasonBackoffLimitExceeded,
			Message: fmt.Sprintf("Job has reached the specified backoff limit (%d failures, limit %d)", failures, v.backoffLimit)}
	case deadline != nil && st.StartTime != nil && !v.suspended &&
		!now.Before(st.StartTime.AsTime().Add(time.Duration(*deadline)*time.Second)):
		finish = &api.Condition{Type: ConditionFailed, Reason: ReasonDeadlineExceeded,
			Message: fmt.Sprintf("Job was active longer than specified deadline (%ds)", *deadline)}
	case v.completions >= 0 && nSucceeded >= v.completions:
		finish = &api.Condition{Type: ConditionComplete}
	case v.completions < 0 && nSucceeded > 0 && len(active) == 0:
		finish = &api.Condition{Type: ConditionComplete}
	}
	switch {
	case finish != nil:
		// Record the end first: once the pods are gone, so is the
		// evidence (their restarts). The finished Job's next pass stops
		// what still runs (see cleanup).
	case v.suspended:
		errs = r.deleteAll(ctx, active)
		active = nil
	case synced:
		var after time.Duration
		active, after, err = r.manage(ctx, j, v, active, done, int32(len(succeeded)), failed, failures, now)
		errs = errors.Join(errs, err)
		if after > 0 {
			res.RequeueAfter = after
		}
	}
	if deadline != nil && finish == nil && st.StartTime != nil && !v.suspended {
		left := st.StartTime.AsTime().Add(time.Duration(*deadline) * time.Second).Sub(now)
		if res.RequeueAfter == 0 || left < res.RequeueAfter {
			res.RequeueAfter = max(left, time.Millisecond)
		}
	}

	st.Active = int32(len(active))
	st.Succeeded = nSucceeded
	st.Failed = failures
	st.Ready = 0
	for _, p := range active {
		if podutil.IsReady(p) {
			st.Ready++
		}
	}
	if v.indexed {
		st.CompletedIndexes = formatIndexes(done)
	}
	ts := timestamppb.New(now)
	setCondition(st, ConditionSuspended, v.suspended, "JobSuspended", "", ts)
	if finish != nil {
		finish.Status = podutil.StatusTrue
		finish.LastTransitionTime, finish.LastProbeTime = ts, ts
		st.Conditions = append(st.Conditions, finish)
		if finish.Type == ConditionComplete {
			st.CompletionTime = ts
		}
	}
	if !proto.Equal(st, statusOrEmpty(j)) {
		out := api.Clone(j)
		out.Status = st
		written, err := r.store.UpdateStatus(ctx, out)
		switch {
		case err == nil && finish != nil:
			// Finished for good: stop what still runs, and see to the TTL.
			return r.cleanup(ctx, written.(*api.Job), now)
		case err != nil && !store.IsConflict(err) && !store.IsNotFound(err):
			errs = errors.Join(errs, fmt.Errorf("update status: %w", err))
		}
		// On a conflict the newer Job is on its way through the informer
		// and is reconciled again.
	}
	return res, errs
}

// manage creates the pods the Job is missing, after the backoff of its last
// failure, and returns the active pods and when to look again.
func (r *Reconciler) manage(ctx context.Context, j *api.Job, v view, active []*api.Pod, done map[int]bool,
	succeeded int32, failed []*api.Pod, failures int32, now time.Time) ([]*api.Pod, time.Duration, error) {
	var want int32
	switch {
	case v.completions < 0:
		if succeeded == 0 {
			want = v.parallelism
		}
	case v.indexed:
		want = min(v.parallelism, v.completions-int32(len(done)))
	default:
		want = min(v.parallelism, v.completions-succeeded)
	}
	diff := want - int32(len(active))
	if diff < 0 {
		// Parallelism went down: remove the newest pods.
		victims := slices.Clone(active)
		slices.SortFunc(victims, func(a, b *api.Pod) int {
			return b.GetMetadata().GetCreationTimestamp().AsTime().Compare(a.GetMetadata().GetCreationTimestamp().AsTime())
		})
		err := r.deleteAll(ctx, victims[:-diff])
		return victims[-diff:], 0, err
	}
	if diff == 0 {
		return active, 0, nil
	}
	if !v.onFailure && failures > 0 {
		// Exponential backoff since the last failure.
		delay := r.opts.BackoffBase << min(failures-1, 30)
		if delay <= 0 || delay > r.opts.BackoffMax {
			delay = r.opts.BackoffMax
		}
		var last time.Time
		for _, p := range failed {
			if t := finishedAt(p); t.After(last) {
				last = t
			}
		}
		if wait := last.Add(delay).Sub(now); wait > 0 {
			return active, wait, nil
		}
	}
	var indexes []int
	if v.indexed {
		running := map[int]bool{}
		for _, p := range active {
			if i, ok := indexOf(p); ok {
				running[i] = true
			}
		}
		for i := 0; i < int(v.completions) && int32(len(indexes)) < diff; i++ {
			if !done[i] && !running[i] {
				indexes = append(indexes, i)
			}
		}
		diff = int32(len(indexes))
	}
	key := j.GetMetadata().GetNamespace() + "/" + j.GetMetadata().GetName()
	var errs error
	for n := range diff {
		idx := -1
		if v.indexed {
			idx = indexes[n]
		}
		created, err := r.store.Create(ctx, newPod(j, idx))
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("create pod: %w", err))
			continue
		}
		r.expect(key, created.GetMetadata().GetName(), now.Add(r.opts.ExpectationTimeout))
		active = append(active, created.(*api.Pod))
	}
	return active, 0, errs
}

// newPod returns a pod from the Job's template; index >= 0 for Indexed.
func newPod(j *api.Job, index int) *api.Pod {
	m := j.GetMetadata()
	tmpl := j.GetSpec().GetTemplate()
	lbls := map[string]string{}
	for k, v := range tmpl.GetMetadata().GetLabels() {
		lbls[k] = v
	}
	lbls[LabelJobName], lbls[LabelControllerUID] = m.GetName(), m.GetUid()
	ann := map[string]string{}
	for k, v := range tmpl.GetMetadata().GetAnnotations() {
		ann[k] = v
	}
	gen := m.GetName() + "-"
	spec := &api.PodSpec{}
	if tmpl.GetSpec() != nil {
		spec = proto.Clone(tmpl.GetSpec()).(*api.PodSpec)
	}
	if index >= 0 {
		s := strconv.Itoa(index)
		ann[AnnotationCompletionIndex] = s
		gen = m.GetName() + "-" + s + "-"
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			c.Env = append(c.Env, &api.EnvVar{Name: EnvCompletionIndex, Value: s})
		}
	}
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			GenerateName:    gen,
			Namespace:       m.GetNamespace(),
			Labels:          lbls,
			Annotations:     ann,
			OwnerReferences: []*api.OwnerReference{podutil.ControllerRef("batch/v1", api.KindJob, m)},
		},
		Spec: spec,
	}
}

func (r *Reconciler) deleteAll(ctx context.Context, pods []*api.Pod) error {
	var errs error
	for _, p := range pods {
		m := p.GetMetadata()
		if _, err := r.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()}); err != nil &&
			!store.IsNotFound(err) && !store.IsConflict(err) {
			errs = errors.Join(errs, err)
		}
	}
	return errs
}

// cleanup stops the pods a finished Job still runs (stragglers of a
// work-queue Job, or everything of a failed one), and deletes the Job once
// its ttlSecondsAfterFinished passed.
func (r *Reconciler) cleanup(ctx context.Context, j *api.Job, now time.Time) (reconcile.Result, error) {
	owned, err := r.pods.ByIndex(informer.IndexOwner, j.GetMetadata().GetUid())
	if err != nil {
		return reconcile.Result{}, err
	}
	var active []*api.Pod
	for _, p := range owned {
		if podutil.IsActive(p) {
			active = append(active, p)
		}
	}
	if err := r.deleteAll(ctx, active); err != nil {
		return reconcile.Result{}, err
	}
	ttl := j.GetSpec().TtlSecondsAfterFinished
	if ttl == nil {
		return reconcile.Result{}, nil
	}
	var at time.Time
	for _, c := range j.GetStatus().GetConditions() {
		if (c.GetType() == ConditionComplete || c.GetType() == ConditionFailed) && c.GetStatus() == podutil.StatusTrue {
			at = c.GetLastTransitionTime().AsTime()
		}
	}
	expiry := at.Add(time.Duration(*ttl) * time.Second)
	if now.Before(expiry) {
		return reconcile.Result{RequeueAfter: expiry.Sub(now)}, nil
	}
	m := j.GetMetadata()
	_, err = r.store.Delete(ctx, api.KindJob, m.GetNamespace(), m.GetName(),
		store.DeleteOptions{UID: m.GetUid(), PropagationPolicy: store.PropagationBackground})
	if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
		return reconcile.Result{}, fmt.Errorf("ttl delete: %w", err)
	}
	return reconcile.Result{}, nil
}

func (r *Reconciler) expect(key, name string, deadline time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.pending[key]
	if x == nil {
		x = &expectation{}
		r.pending[key] = x
	}
	x.names = append(x.names, name)
	x.deadline = deadline
}

func (r *Reconciler) forget(key string) {
	r.mu.Lock()
	delete(r.pending, key)
	r.mu.Unlock()
}

// satisfied reports whether the cache shows every pod this controller
// created for key (or the wait expired).
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

// finished reports whether the Job has a true Complete or Failed condition.
func finished(j *api.Job) bool {
	for _, c := range j.GetStatus().GetConditions() {
		if (c.GetType() == ConditionComplete || c.GetType() == ConditionFailed) && c.GetStatus() == podutil.StatusTrue {
			return true
		}
	}
	return false
}

// IsFinished reports whether a Job has completed or failed, and which.
func IsFinished(j *api.Job) (bool, string) {
	for _, c := range j.GetStatus().GetConditions() {
		if (c.GetType() == ConditionComplete || c.GetType() == ConditionFailed) && c.GetStatus() == podutil.StatusTrue {
			return true, c.GetType()
		}
	}
	return false, ""
}

func statusOrEmpty(j *api.Job) *api.JobStatus {
	if j.GetStatus() == nil {
		return &api.JobStatus{}
	}
	return j.GetStatus()
}

func setCondition(st *api.JobStatus, typ string, on bool, reason, msg string, ts *timestamppb.Timestamp) {
	status := podutil.StatusFalse
	if on {
		status = podutil.StatusTrue
	}
	for _, c := range st.Conditions {
		if c.GetType() == typ {
			if c.Status != status {
				c.Status, c.Reason, c.Message, c.LastTransitionTime = status, reason, msg, ts
			}
			return
		}
	}
	if on {
		st.Conditions = append(st.Conditions, &api.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: ts})
	}
}

func indexOf(p *api.Pod) (int, bool) {
	s, ok := p.GetMetadata().GetAnnotations()[AnnotationCompletionIndex]
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0
}

// finishedAt is when a failed pod ended: its last container's finish, or
// the last change of its Ready condition.
func finishedAt(p *api.Pod) time.Time {
	var t time.Time
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		if f := cs.GetState().GetTerminated().GetFinishedAt(); f != nil && f.AsTime().After(t) {
			t = f.AsTime()
		}
	}
	if t.IsZero() {
		if c := podutil.Condition(p.GetStatus().GetConditions(), podutil.ConditionReady); c != nil && c.GetLastTransitionTime() != nil {
			t = c.GetLastTransitionTime().AsTime()
		}
	}
	return t
}

// formatIndexes renders a set of indexes as ranges: "0-2,5,7-8".
func formatIndexes(done map[int]bool) string {
	idx := make([]int, 0, len(done))
	for i := range done {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var parts []string
	for k := 0; k < len(idx); {
		e := k
		for e+1 < len(idx) && idx[e+1] == idx[e]+1 {
			e++
		}
		if e == k {
			parts = append(parts, strconv.Itoa(idx[k]))
		} else {
			parts = append(parts, strconv.Itoa(idx[k])+"-"+strconv.Itoa(idx[e]))
		}
		k = e + 1
	}
	return strings.Join(parts, ",")
}
