package cronjob_test

import (
	"context"
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the test's time zones, whatever the machine has

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/cronjob"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func ptr[T any](v T) *T { return &v }

// start runs a control plane whose store and controllers share a fake
// clock set to one minute before midnight.
func start(t *testing.T) (*testenv.Env, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{
		Clock:       fc,
		Store:       memstore.New(memstore.WithClock(fc.Now)),
		Controllers: []string{testenv.ControllerGC},
		NoScheduler: true,
	})
	if _, err := cronjob.Add(env.Manager, cronjob.Options{Clock: fc}); err != nil {
		t.Fatal(err)
	}
	return env, fc
}

func newCronJob(name, schedule, policy string) *api.CronJob {
	return &api.CronJob{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.CronJobSpec{
			Schedule:          schedule,
			ConcurrencyPolicy: policy,
			JobTemplate: &api.JobTemplateSpec{Spec: &api.JobSpec{Template: &api.PodTemplateSpec{Spec: &api.PodSpec{
				RestartPolicy: "Never", Containers: []*api.Container{{Name: "c", Image: "busybox"}},
			}}}},
		},
	}
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func jobName(cj string, at time.Time) string { return fmt.Sprintf("%s-%d", cj, at.Unix()/60) }

// exists waits (watch-driven, at most 2s) for a job.
func exists(ctx context.Context, s store.Store, name string) bool {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := testenv.UntilObject[*api.Job](wctx, s, "default", name, nil)
	return err == nil
}

func complete(ctx context.Context, t *testing.T, s store.Store, name string, now time.Time) {
	t.Helper()
	_, err := store.For[*api.Job](s).MutateStatus(ctx, "default", name, func(j *api.Job) error {
		ts := timestamppb.New(now)
		j.Status = &api.JobStatus{Succeeded: 1, CompletionTime: ts, Conditions: []*api.Condition{
			{Type: job.ConditionComplete, Status: "True", LastTransitionTime: ts},
		}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An hourly CronJob with Forbid over a simulated day, whose Jobs take 90
// minutes: every other hour's run is skipped (a Job is still running, and
// the run cannot start late past startingDeadlineSeconds), so it runs 12
// times, never two at once, and keeps only its history limit of Jobs.
func TestForbidOverADay(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t)
	cj := newCronJob("hourly", "0 * * * *", cronjob.ConcurrencyForbid)
	cj.Spec.StartingDeadlineSeconds = ptr(int64(300))
	cj.Spec.SuccessfulJobsHistoryLimit = ptr(int32(2))
	if _, err := env.Store.Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	const runtime = 90 * time.Minute
	var runs []time.Time // scheduled times of the jobs started
	var running string
	var runningSince time.Time
	for range 24 * 60 {
		fc.Step(time.Minute)
		now := fc.Now()
		if running != "" && !now.Before(runningSince.Add(runtime)) {
			complete(ctx, t, env.Store, running, now)
			if _, err := testenv.UntilObject(ctx, env.Store, "default", "hourly", func(c *api.CronJob) bool {
				return len(c.GetStatus().GetActive()) == 0
			}); err != nil {
				t.Fatalf("cronjob never saw %s complete: %v", running, err)
			}
			running = ""
		}
		hour := now.Truncate(time.Hour)
		name := jobName("hourly", hour)
		if running == "" && now.Sub(hour) < 5*time.Minute && !slicesContains(runs, hour) {
			if exists(ctx, env.Store, name) {
				runs = append(runs, hour)
				running, runningSince = name, now
			} else if now.Sub(hour) == 4*time.Minute {
				t.Fatalf("%s: no job for %s", now.Format(time.TimeOnly), hour.Format(time.TimeOnly))
			}
			continue
		}
		if running != "" && name != running {
			if _, err := store.For[*api.Job](env.Store).Get(ctx, "default", name); err == nil {
				t.Fatalf("%s: job %s started while %s runs (Forbid)", now.Format(time.TimeOnly), name, running)
			}
		}
	}
	if len(runs) != 12 {
		t.Fatalf("%d runs (%v), want 12", len(runs), runs)
	}
	for i, r := range runs {
		if r.Hour() != 2*i {
			t.Errorf("run %d at %s, want %02d:00", i, r.Format(time.TimeOnly), 2*i)
		}
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(jobs []*api.Job) bool {
		return len(jobs) <= 3 // 2 finished kept, and the one still running
	}); err != nil {
		t.Fatalf("history not pruned: %v", err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "hourly", func(c *api.CronJob) bool {
		return c.GetStatus().GetLastScheduleTime().AsTime().Equal(runs[len(runs)-1]) && c.GetStatus().GetLastSuccessfulTime() != nil
	}); err != nil {
		got, _ := store.For[*api.CronJob](env.Store).Get(t.Context(), "default", "hourly")
		t.Fatalf("status = %v, want lastScheduleTime %s and a lastSuccessfulTime: %v", got.GetStatus(), runs[len(runs)-1], err)
	}
}

func slicesContains(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

func TestPolicies(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		tz       string
		policy   string
		suspend  bool
		minutes  int
		// wantRuns are the scheduled times (UTC, minutes after midnight)
		// of the jobs started; wantLeft how many exist at the end.
		wantRuns []int
		wantLeft int
	}{
		{name: "allow overlaps", schedule: "*/10 * * * *", policy: cronjob.ConcurrencyAllow, minutes: 31, wantRuns: []int{0, 10, 20, 30}, wantLeft: 4},
		{name: "replace", schedule: "*/10 * * * *", policy: cronjob.ConcurrencyReplace, minutes: 31, wantRuns: []int{0, 10, 20, 30}, wantLeft: 1},
		{name: "suspended", schedule: "*/10 * * * *", policy: cronjob.ConcurrencyAllow, suspend: true, minutes: 31, wantLeft: 0},
		{name: "time zone", schedule: "30 9 * * *", tz: "Asia/Tokyo", policy: cronjob.ConcurrencyAllow, minutes: 61, wantRuns: []int{30}, wantLeft: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := timeout(t)
			env, fc := start(t)
			cj := newCronJob("cj", tc.schedule, tc.policy)
			cj.Spec.Suspend = ptr(tc.suspend)
			if tc.tz != "" {
				cj.Spec.TimeZone = ptr(tc.tz)
			}
			if _, err := env.Store.Create(ctx, cj); err != nil {
				t.Fatal(err)
			}
			midnight := fc.Now().Add(time.Minute)
			var runs []int
			for fc.Now().Sub(midnight) < time.Duration(tc.minutes-1)*time.Minute {
				fc.Step(time.Minute)
				at := fc.Now()
				m := int(at.Sub(midnight) / time.Minute)
				if !slicesContainsInt(tc.wantRuns, m) {
					continue
				}
				// The Job of this schedule time starts at this time: the
				// clock does not move again until it exists.
				if _, err := testenv.UntilObject[*api.Job](ctx, env.Store, "default", jobName("cj", at), nil); err != nil {
					t.Fatalf("no job for minute %d: %v", m, err)
				}
				runs = append(runs, m)
			}
			if len(runs) != len(tc.wantRuns) {
				t.Fatalf("runs at minutes %v, want %v", runs, tc.wantRuns)
			}
			if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(jobs []*api.Job) bool {
				n := 0
				for _, j := range jobs {
					if j.GetMetadata().GetDeletionTimestamp() == nil {
						n++
					}
				}
				return n == tc.wantLeft
			}); err != nil {
				t.Fatalf("want %d jobs left: %v", tc.wantLeft, err)
			}
			if tc.suspend {
				jobs, _, err := store.For[*api.Job](env.Store).List(ctx, store.ListOptions{})
				if err != nil || len(jobs) != 0 {
					t.Fatalf("suspended cronjob made jobs: %v %v", jobs, err)
				}
			}
		})
	}
}

func slicesContainsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
