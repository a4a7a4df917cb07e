package job_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

// start runs a control plane on a fake clock with the Job controller.
func start(t *testing.T) (*testenv.Env, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Nodes: 2, Clock: fc})
	if _, err := job.Add(env.Manager, job.Options{Clock: fc, BackoffBase: time.Second, BackoffMax: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return env, fc
}

func newJob(name string, completions, parallelism int32) *api.Job {
	return &api.Job{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.JobSpec{
			Completions: ptr(completions),
			Parallelism: ptr(parallelism),
			Template: &api.PodTemplateSpec{Spec: &api.PodSpec{
				RestartPolicy: "Never",
				Containers:    []*api.Container{{Name: "work", Image: "busybox"}},
			}},
		},
	}
}

func succeed(ctx context.Context, t *testing.T, s store.Store, p *api.Pod) {
	t.Helper()
	_, err := store.For[*api.Pod](s).MutateStatus(ctx, p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), func(p *api.Pod) error {
		p.Status.Phase = podutil.PhaseSucceeded
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func jobPods(t *testing.T, s store.Store, name string) []*api.Pod {
	t.Helper()
	pods, _, err := store.For[*api.Pod](s).List(t.Context(), store.ListOptions{Namespace: "default", LabelSelector: job.LabelJobName + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitRunning waits until the job has running pods or is finished, stepping
// the fake clock past any backoff while it waits.
func waitRunning(ctx context.Context, t *testing.T, env *testenv.Env, fc *clock.Fake, name string) (running []*api.Pod, j *api.Job) {
	t.Helper()
	for {
		j, err := store.For[*api.Job](env.Store).Get(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if done, _ := job.IsFinished(j); done {
			return nil, j
		}
		running = nil
		for _, p := range jobPods(t, env.Store, name) {
			if p.GetStatus().GetPhase() == podutil.PhaseRunning {
				running = append(running, p)
			}
		}
		if len(running) > 0 {
			return running, j
		}
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_ = testenv.UntilTyped(wctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: job.LabelJobName + "=" + name},
			func(pods []*api.Pod) bool {
				return slices.ContainsFunc(pods, func(p *api.Pod) bool { return p.GetStatus().GetPhase() == podutil.PhaseRunning })
			})
		cancel()
		if ctx.Err() != nil {
			t.Fatalf("job %s: no running pods: %v", name, ctx.Err())
		}
		fc.Step(10 * time.Second) // past any backoff
	}
}

// A Job of 10 completions, 3 at a time, where 3 pods fail: it replaces the
// failures, never runs more than 3 at once, and completes with the right
// counts; its TTL then deletes it and its pods.
func TestJobCompletionsParallelismFailures(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t)
	j := newJob("batch", 10, 3)
	j.Spec.TtlSecondsAfterFinished = ptr(int32(60))
	if _, err := env.Store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	failed, handled := 0, map[string]bool{}
	var final *api.Job
	for {
		running, cur := waitRunning(ctx, t, env, fc, "batch")
		if running == nil {
			final = cur
			break
		}
		active := 0
		for _, p := range jobPods(t, env.Store, "batch") {
			if podutil.IsActive(p) {
				active++
			}
		}
		if active > 3 {
			t.Fatalf("%d active pods, parallelism is 3", active)
		}
		for _, p := range running {
			if handled[p.GetMetadata().GetName()] {
				continue
			}
			handled[p.GetMetadata().GetName()] = true
			if len(handled)%3 == 0 && failed < 3 {
				failed++
				if err := env.FailPod(ctx, "default", p.GetMetadata().GetName(), 1); err != nil {
					t.Fatal(err)
				}
				continue
			}
			succeed(ctx, t, env.Store, p)
		}
	}
	st := final.GetStatus()
	if ok, typ := job.IsFinished(final); !ok || typ != job.ConditionComplete {
		t.Fatalf("job finished as %q, want Complete: %v", typ, st)
	}
	if st.GetSucceeded() != 10 || st.GetFailed() != 3 || st.GetActive() != 0 || st.GetCompletionTime() == nil {
		t.Fatalf("status = %v, want succeeded 10 failed 3 active 0", st)
	}
	if n := len(jobPods(t, env.Store, "batch")); n != 13 {
		t.Errorf("%d pods kept, want 13 (10 succeeded, 3 failed)", n)
	}
	fc.Step(61 * time.Second)
	if err := testenv.UntilGone(ctx, env.Store, api.KindJob, "default", "batch"); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(p []*api.Pod) bool { return len(p) == 0 }); err != nil {
		t.Fatalf("pods of the deleted job remain: %v", err)
	}
}

func TestIndexedJob(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t)
	j := newJob("idx", 4, 2)
	j.Spec.CompletionMode = job.CompletionIndexed
	if _, err := env.Store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		running, cur := waitRunning(ctx, t, env, fc, "idx")
		if running == nil {
			if got := cur.GetStatus().GetCompletedIndexes(); got != "0-3" {
				t.Fatalf("completedIndexes = %q, want 0-3", got)
			}
			break
		}
		for _, p := range running {
			idx := p.GetMetadata().GetAnnotations()[job.AnnotationCompletionIndex]
			vars := p.GetSpec().GetContainers()[0].GetEnv()
			if len(vars) == 0 || vars[len(vars)-1].GetName() != job.EnvCompletionIndex || vars[len(vars)-1].GetValue() != idx {
				t.Fatalf("pod %s: env %v, want %s=%s", p.GetMetadata().GetName(), vars, job.EnvCompletionIndex, idx)
			}
			if seen[idx] {
				t.Fatalf("index %s ran twice", idx)
			}
			seen[idx] = true
			succeed(ctx, t, env.Store, p)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("indexes run: %v", seen)
	}
}

func TestJobFails(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*api.Job)
		act    func(ctx context.Context, t *testing.T, env *testenv.Env, fc *clock.Fake, p *api.Pod)
		reason string
	}{
		{
			name:   "backoff limit",
			modify: func(j *api.Job) { j.Spec.BackoffLimit = ptr(int32(1)) },
			act: func(ctx context.Context, t *testing.T, env *testenv.Env, _ *clock.Fake, p *api.Pod) {
				if err := env.FailPod(ctx, "default", p.GetMetadata().GetName(), 2); err != nil {
					t.Fatal(err)
				}
			},
			reason: job.ReasonBackoffLimitExceeded,
		},
		{
			name:   "active deadline",
			modify: func(j *api.Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(30)) },
			act: func(_ context.Context, _ *testing.T, _ *testenv.Env, fc *clock.Fake, _ *api.Pod) {
				fc.Step(31 * time.Second)
			},
			reason: job.ReasonDeadlineExceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := timeout(t)
			env, fc := start(t)
			j := newJob("doomed", 2, 1)
			tc.modify(j)
			if _, err := env.Store.Create(ctx, j); err != nil {
				t.Fatal(err)
			}
			var final *api.Job
			for {
				running, cur := waitRunning(ctx, t, env, fc, "doomed")
				if running == nil {
					final = cur
					break
				}
				tc.act(ctx, t, env, fc, running[0])
			}
			var cond *api.Condition
			for _, c := range final.GetStatus().GetConditions() {
				if c.GetType() == job.ConditionFailed {
					cond = c
				}
			}
			if cond == nil || cond.GetReason() != tc.reason {
				t.Fatalf("conditions = %v, want Failed with reason %s", final.GetStatus().GetConditions(), tc.reason)
			}
			if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
				return !slices.ContainsFunc(pods, podutil.IsActive)
			}); err != nil {
				t.Fatalf("active pods of a failed job remain: %v", err)
			}
		})
	}
}

// With restartPolicy OnFailure the node agent restarts containers in place;
// their restarts count against the backoff limit.
func TestOnFailureRestartsCount(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t)
	j := newJob("flaky", 1, 1)
	j.Spec.Template.Spec.RestartPolicy = "OnFailure"
	j.Spec.BackoffLimit = ptr(int32(2))
	if _, err := env.Store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	running, _ := waitRunning(ctx, t, env, fc, "flaky")
	if _, err := store.For[*api.Pod](env.Store).MutateStatus(ctx, "default", running[0].GetMetadata().GetName(), func(p *api.Pod) error {
		if len(p.Status.ContainerStatuses) == 0 {
			p.Status.ContainerStatuses = []*api.ContainerStatus{{Name: "work"}}
		}
		p.Status.ContainerStatuses[0].RestartCount = 3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := testenv.UntilObject(ctx, env.Store, "default", "flaky", func(j *api.Job) bool {
		done, _ := job.IsFinished(j)
		return done
	})
	if err != nil {
		j, _ := store.For[*api.Job](env.Store).Get(t.Context(), "default", "flaky")
		for _, p := range jobPods(t, env.Store, "flaky") {
			t.Logf("pod %s: %v", p.GetMetadata().GetName(), p.GetStatus())
		}
		t.Fatalf("%v: job status %v", err, j.GetStatus())
	}
	if _, how := job.IsFinished(got); how != job.ConditionFailed || got.GetStatus().GetFailed() != 3 {
		t.Fatalf("status = %v, want Failed with 3 failures", got.GetStatus())
	}
}

// Suspending a Job stops its pods; resuming starts them again.
func TestSuspendResume(t *testing.T) {
	ctx := timeout(t)
	env, fc := start(t)
	if _, err := env.Store.Create(ctx, newJob("pausable", 3, 3)); err != nil {
		t.Fatal(err)
	}
	activePods := func(n int) {
		t.Helper()
		if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
			c := 0
			for _, p := range pods {
				if podutil.IsActive(p) {
					c++
				}
			}
			return c == n
		}); err != nil {
			t.Fatalf("want %d active pods: %v", n, err)
		}
	}
	waitRunning(ctx, t, env, fc, "pausable")
	activePods(3)
	setSuspend := func(v bool) {
		t.Helper()
		if _, err := store.For[*api.Job](env.Store).Mutate(ctx, "default", "pausable", func(j *api.Job) error {
			j.Spec.Suspend = ptr(v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setSuspend(true)
	activePods(0)
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "pausable", func(j *api.Job) bool {
		c := podutil.Condition(j.GetStatus().GetConditions(), job.ConditionSuspended)
		return c.GetStatus() == podutil.StatusTrue && j.GetStatus().GetActive() == 0
	}); err != nil {
		t.Fatal(err)
	}
	setSuspend(false)
	activePods(3)
}
