package cronjob

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// movesOnAfterRead is a fake clock whose first reading lets the world move
// on before the reader gets the time it read: it runs then, as a reconcile
// descheduled just after reading the clock would see happen.
type movesOnAfterRead struct {
	*clock.Fake
	once sync.Once
	then func()
}

func (c *movesOnAfterRead) Now() time.Time {
	now := c.Fake.Now()
	c.once.Do(c.then)
	return now
}

// A Forbid CronJob whose 16:00 Job is still running at 17:04 skips the
// 17:00 run, and that Job finishing at 17:30 does not start it: by then it
// is past startingDeadlineSeconds. The reconcile that reads the clock at
// 17:04 sees the Job finish before it reads its cache; the reconciler used
// to read the clock first, and so judged a finished Job at a time when it
// still ran, and started the 17:00 run 25 minutes past its deadline.
func TestClockReadAfterTheStateItJudges(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	fc := clock.NewFake(at(15, 50))
	s := memstore.New(memstore.WithClock(fc.Now))

	cj, err := store.For[*api.CronJob](s).Create(ctx, &api.CronJob{
		Metadata: &api.ObjectMeta{Name: "hourly", Namespace: "default"},
		Spec: &api.CronJobSpec{
			Schedule: "0 * * * *", ConcurrencyPolicy: ConcurrencyForbid, StartingDeadlineSeconds: new(int64(300)),
			JobTemplate: &api.JobTemplateSpec{Spec: &api.JobSpec{}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fc.Set(at(16, 0))
	running, err := store.For[*api.Job](s).Create(ctx, newJob(cj, at(16, 0)))
	if err != nil {
		t.Fatal(err)
	}

	var cjInf, jobInf *informer.Informer
	for _, p := range []struct {
		inf  **informer.Informer
		kind string
	}{{&cjInf, api.KindCronJob}, {&jobInf, api.KindJob}} {
		inf, err := informer.New(s, p.kind, informer.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		ictx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- inf.Start(ictx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("informer %s: %v", p.kind, err)
			}
		})
		if err := inf.WaitForSync(ctx); err != nil {
			t.Fatal(err)
		}
		*p.inf = inf
	}

	fc.Set(at(17, 4))
	c := &movesOnAfterRead{Fake: fc, then: func() {
		fc.Set(at(17, 30))
		done, err := store.For[*api.Job](s).MutateStatus(ctx, "default", running.GetMetadata().GetName(), func(j *api.Job) error {
			ts := timestamppb.New(fc.Now())
			j.Status = &api.JobStatus{Succeeded: 1, CompletionTime: ts, Conditions: []*api.Condition{
				{Type: job.ConditionComplete, Status: "True", LastTransitionTime: ts},
			}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := jobInf.WaitForRevision(ctx, done.GetMetadata().GetResourceVersion()); err != nil {
			t.Fatal(err)
		}
	}}
	r := &Reconciler{
		store:    s,
		cronJobs: informer.ListerFor[*api.CronJob](cjInf),
		jobs:     informer.ListerFor[*api.Job](jobInf),
		clock:    c,
		created:  map[string][]*api.Job{},
	}
	req := reconcile.Request{Namespace: "default", Name: "hourly"}
	missed := newJob(cj, at(17, 0)).GetMetadata().GetName()
	// The first reconcile reads 17:04 and sees the Job finish meanwhile;
	// the second is the one that Job's change wakes, at 17:30.
	for i := range 2 {
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatalf("reconcile %d: %v", i+1, err)
		}
		if _, err := store.For[*api.Job](s).Get(ctx, "default", missed); err == nil {
			t.Fatalf("reconcile %d started the 17:00 run at %s, past its deadline of 17:05 (or while the 16:00 Job ran)",
				i+1, fc.Now().Format(time.TimeOnly))
		} else if !store.IsNotFound(err) {
			t.Fatal(err)
		}
	}
}
