package cronjob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// Concurrency policies.
const (
	ConcurrencyAllow   = "Allow"
	ConcurrencyForbid  = "Forbid"
	ConcurrencyReplace = "Replace"
)

// AnnotationScheduledTimestamp holds, on each Job, the scheduled time it
// runs for (RFC 3339).
const AnnotationScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// maxMissed bounds how many missed schedule times one pass walks through.
const maxMissed = 100

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Options tune the CronJob controller. The zero value is the default.
type Options struct {
	// Workers is the number of CronJobs reconciled at once (default 2).
	Workers int
	// Clock is the calendar the schedules run on, and times the
	// controller's requeues (default the wall clock). A clock.Fake runs a
	// day in milliseconds.
	Clock clock.Clock
}

// Add registers the CronJob controller with mgr.
func Add(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	cjInf, err := mgr.Informer(api.KindCronJob)
	if err != nil {
		return nil, err
	}
	jobInf, err := mgr.Informer(api.KindJob)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{
		store:    mgr.Store(),
		cronJobs: informer.ListerFor[*api.CronJob](cjInf),
		jobs:     informer.ListerFor[*api.Job](jobInf),
		clock:    opts.Clock,
		created:  map[string][]*api.Job{},
	}
	ctrl, err := controller.New(controller.Options{
		Name: "cronjob", Reconciler: r, Workers: opts.Workers, Clock: opts.Clock,
		Logger: mgr.Logger(), Metrics: mgr.Metrics(),
	})
	if err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	if err := ctrl.Watch(cjInf, handler.EnqueueObject()); err != nil {
		return nil, err
	}
	if err := ctrl.Watch(jobInf, handler.EnqueueOwner(api.KindCronJob, api.Namespaced)); err != nil {
		return nil, err
	}
	if err := mgr.Add(ctrl); err != nil {
		return nil, err
	}
	return ctrl, nil
}

// Reconciler creates each CronJob's Jobs on schedule.
type Reconciler struct {
	store    store.Store
	cronJobs informer.Lister[*api.CronJob]
	jobs     informer.Lister[*api.Job]
	clock    clock.Clock

	mu sync.Mutex
	// created holds, per CronJob key, the Jobs this controller created
	// that its cache does not show yet: they count as running.
	created map[string][]*api.Job
}

// pending returns the Jobs created for key that the cache does not show
// yet, forgetting those it does.
func (r *Reconciler) pending(key, ns string) []*api.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created[key] = slices.DeleteFunc(r.created[key], func(j *api.Job) bool {
		_, ok := r.jobs.Get(ns, j.GetMetadata().GetName())
		return ok
	})
	if len(r.created[key]) == 0 {
		delete(r.created, key)
		return nil
	}
	return slices.Clone(r.created[key])
}

func (r *Reconciler) remember(key string, j *api.Job) {
	r.mu.Lock()
	r.created[key] = append(r.created[key], j)
	r.mu.Unlock()
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Schedule parses a CronJob's schedule (five fields or a descriptor such as
// @hourly) in the given time zone ("" or nil: UTC).
func Schedule(spec string, timeZone *string) (cron.Schedule, *time.Location, error) {
	loc := time.UTC
	if timeZone != nil && *timeZone != "" {
		l, err := time.LoadLocation(*timeZone)
		if err != nil {
			return nil, nil, fmt.Errorf("time zone %q: %w: %w", *timeZone, store.ErrInvalid, err)
		}
		loc = l
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("schedule %q: %w: %w", spec, store.ErrInvalid, err)
	}
	return s, loc, nil
}

// Reconcile runs one CronJob: it keeps status.active, prunes history, and
// starts the Job of the latest due schedule time.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cj, ok := r.cronJobs.Get(req.Namespace, req.Name)
	if !ok || cj.GetMetadata().GetDeletionTimestamp() != nil {
		if !ok {
			r.mu.Lock()
			delete(r.created, req.String())
			r.mu.Unlock()
		}
		return reconcile.Result{}, nil
	}
	sched, loc, err := Schedule(cj.GetSpec().GetSchedule(), cj.GetSpec().TimeZone)
	if err != nil {
		return reconcile.Result{}, reconcile.Terminal(err)
	}
	// Jobs just created run, whether or not the cache shows them yet; read
	// them before the cache, so a Job reaching it in between is not missed.
	pending := r.pending(req.String(), req.Namespace)
	owned, err := r.jobs.ByIndex(informer.IndexOwner, cj.GetMetadata().GetUid())
	if err != nil {
		return reconcile.Result{}, err
	}
	// Read the clock after the state it judges, never before: a Job seen
	// to have finished finished before now. Read first, the clock could
	// show a time at which that Job still ran, and a run the Job had held
	// back (Forbid) would start past startingDeadlineSeconds.
	now := r.clock.Now()
	var active, succeeded, failed []*api.Job
	for _, j := range pending {
		if !slices.ContainsFunc(owned, func(o *api.Job) bool { return o.GetMetadata().GetName() == j.GetMetadata().GetName() }) {
			active = append(active, j)
		}
	}
	for _, j := range owned {
		if j.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		switch done, how := job.IsFinished(j); {
		case !done:
			active = append(active, j)
		case how == job.ConditionComplete:
			succeeded = append(succeeded, j)
		default:
			failed = append(failed, j)
		}
	}
	st := &api.CronJobStatus{}
	if cj.GetStatus() != nil {
		st = proto.Clone(cj.GetStatus()).(*api.CronJobStatus)
	}
	for _, j := range succeeded {
		if ct := j.GetStatus().GetCompletionTime(); ct != nil && (st.LastSuccessfulTime == nil || ct.AsTime().After(st.LastSuccessfulTime.AsTime())) {
			st.LastSuccessfulTime = ct
		}
	}
	var errs error
	errs = errors.Join(errs, r.prune(ctx, succeeded, limit(cj.GetSpec().SuccessfulJobsHistoryLimit, 3)))
	errs = errors.Join(errs, r.prune(ctx, failed, limit(cj.GetSpec().FailedJobsHistoryLimit, 1)))

	// The latest run is recorded in status and on the Jobs themselves (a
	// lost status write must not make a run look missing).
	for _, j := range append(append(slices.Clone(active), succeeded...), failed...) {
		t, err := time.Parse(time.RFC3339, j.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp])
		if err == nil && (st.LastScheduleTime == nil || t.After(st.LastScheduleTime.AsTime())) {
			st.LastScheduleTime = timestamppb.New(t)
		}
	}
	due, next := r.due(cj, st.GetLastScheduleTime(), sched, loc, now)
	var res reconcile.Result
	if !next.IsZero() {
		res.RequeueAfter = max(next.Sub(now), time.Millisecond)
	}
	if !due.IsZero() && !cj.GetSpec().GetSuspend() {
		run := true
		switch cj.GetSpec().GetConcurrencyPolicy() {
		case ConcurrencyForbid:
			// Wait for the running Job; the run happens late if it still
			// fits startingDeadlineSeconds when that Job ends.
			run = len(active) == 0
		case ConcurrencyReplace:
			for _, j := range active {
				m := j.GetMetadata()
				if _, err := r.store.Delete(ctx, api.KindJob, m.GetNamespace(), m.GetName(),
					store.DeleteOptions{UID: m.GetUid(), PropagationPolicy: store.PropagationBackground}); err != nil && !store.IsNotFound(err) {
					errs = errors.Join(errs, fmt.Errorf("replace job %s: %w", m.GetName(), err))
					run = false
				}
			}
			if run {
				active = nil
			}
		}
		if run {
			created, err := r.store.Create(ctx, newJob(cj, due))
			switch {
			case err == nil:
				active = append(active, created.(*api.Job))
				r.remember(req.String(), created.(*api.Job))
				st.LastScheduleTime = timestamppb.New(due)
			case store.IsAlreadyExists(err):
				st.LastScheduleTime = timestamppb.New(due)
			default:
				errs = errors.Join(errs, fmt.Errorf("create job: %w", err))
			}
		}
	}
	slices.SortFunc(active, func(a, b *api.Job) int { return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()) })
	st.Active = st.Active[:0]
	for _, j := range active {
		m := j.GetMetadata()
		st.Active = append(st.Active, &api.ObjectReference{
			ApiVersion: "batch/v1", Kind: api.KindJob, Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(),
		})
	}
	if len(st.Active) == 0 {
		st.Active = nil
	}
	if !proto.Equal(st, cj.GetStatus()) && !(cj.GetStatus() == nil && proto.Equal(st, &api.CronJobStatus{})) {
		out := api.Clone(cj)
		out.Status = st
		if _, err := r.store.UpdateStatus(ctx, out); err != nil && !store.IsNotFound(err) {
			// A conflict means a newer version is queued; anything else
			// is retried.
			if !store.IsConflict(err) {
				errs = errors.Join(errs, fmt.Errorf("update status: %w", err))
			}
		}
	}
	return res, errs
}

// due returns the latest schedule time not yet run that is still within
// startingDeadlineSeconds (zero if none), and the next schedule time after
// now.
func (r *Reconciler) due(cj *api.CronJob, last *timestamppb.Timestamp, sched cron.Schedule, loc *time.Location, now time.Time) (due, next time.Time) {
	earliest := cj.GetMetadata().GetCreationTimestamp().AsTime()
	if last != nil {
		earliest = last.AsTime()
	}
	var deadline time.Time
	if d := cj.GetSpec().StartingDeadlineSeconds; d != nil {
		deadline = now.Add(-time.Duration(*d) * time.Second)
		if earliest.Before(deadline) {
			// Times before the deadline are missed for good: skip them.
			earliest = deadline.Add(-time.Nanosecond)
		}
	}
	t := sched.Next(earliest.In(loc))
	for n := 0; !t.IsZero() && !t.After(now); n++ {
		due = t
		if n >= maxMissed {
			// Too many missed times to walk: jump close to now.
			earliest = now.Add(-time.Minute)
			n = 0
		} else {
			earliest = t
		}
		t = sched.Next(earliest.In(loc))
	}
	if !deadline.IsZero() && !due.IsZero() && due.Before(deadline) {
		due = time.Time{}
	}
	return due.UTC(), t
}

// newJob returns the Job of cj for the schedule time at.
func newJob(cj *api.CronJob, at time.Time) *api.Job {
	m := cj.GetMetadata()
	tmpl := cj.GetSpec().GetJobTemplate()
	lbls := map[string]string{}
	for k, v := range tmpl.GetMetadata().GetLabels() {
		lbls[k] = v
	}
	ann := map[string]string{}
	for k, v := range tmpl.GetMetadata().GetAnnotations() {
		ann[k] = v
	}
	ann[AnnotationScheduledTimestamp] = at.UTC().Format(time.RFC3339)
	spec := &api.JobSpec{}
	if tmpl.GetSpec() != nil {
		spec = proto.Clone(tmpl.GetSpec()).(*api.JobSpec)
	}
	return &api.Job{
		Metadata: &api.ObjectMeta{
			// The name is a function of the schedule time, so a Job is
			// never started twice for the same time.
			Name:            fmt.Sprintf("%s-%d", m.GetName(), at.Unix()/60),
			Namespace:       m.GetNamespace(),
			Labels:          lbls,
			Annotations:     ann,
			OwnerReferences: []*api.OwnerReference{podutil.ControllerRef("batch/v1", api.KindCronJob, m)},
		},
		Spec: spec,
	}
}

// prune deletes the oldest finished Jobs beyond keep.
func (r *Reconciler) prune(ctx context.Context, jobs []*api.Job, keep int) error {
	if len(jobs) <= keep {
		return nil
	}
	slices.SortFunc(jobs, func(a, b *api.Job) int {
		return cmp.Compare(a.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp], b.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp])
	})
	var errs error
	for _, j := range jobs[:len(jobs)-keep] {
		m := j.GetMetadata()
		if _, err := r.store.Delete(ctx, api.KindJob, m.GetNamespace(), m.GetName(),
			store.DeleteOptions{UID: m.GetUid(), PropagationPolicy: store.PropagationBackground}); err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
			errs = errors.Join(errs, fmt.Errorf("prune job %s: %w", m.GetName(), err))
		}
	}
	return errs
}

func limit(p *int32, def int) int {
	if p == nil {
		return def
	}
	return max(int(*p), 0)
}
