package job_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The same Job of 10 completions, 3 at a time, run by the real node agent
// on the fake runtime: the containers themselves exit, the first three
// with code 1 and the rest with 0, and the agent reports it.
func TestJobOnAgentWithFakeRuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	rt := fake.New(fake.Config{})
	fail := fake.Behavior{Exit: true, RunFor: 5 * time.Millisecond, ExitCode: 1}
	ok := fake.Behavior{Exit: true, RunFor: 5 * time.Millisecond}
	rt.Script("work", fail, fail, fail, ok)
	s := memstore.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := testenv.Start(t, testenv.Options{
		Nodes: 1, Store: s,
		Controllers: []string{testenv.ControllerGC},
		Agent: func(node string) (manager.Runnable, error) {
			return agent.New(context.Background(), agent.Config{
				NodeName: node, Store: s, Runtime: rt, RootDir: t.TempDir(), NodeIP: "127.0.0.1",
				SyncPeriod: 20 * time.Millisecond, StatsInterval: -1, DefaultGracePeriod: time.Second, Logger: logger,
			})
		},
	})
	if _, err := job.Add(env.Manager, job.Options{BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	j := newJob("batch", 10, 3)
	j.Spec.Template.Spec.Containers[0].Command = []string{"/bin/work"} // the script decides how it ends
	if _, err := env.Store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	// Watch the pods on the side for the most active at once.
	wctx, stop := context.WithCancel(ctx)
	maxActive := make(chan int, 1)
	go func() {
		most := 0
		_ = testenv.UntilTyped(wctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
			n := 0
			for _, p := range pods {
				if podutil.IsActive(p) {
					n++
				}
			}
			most = max(most, n)
			return false
		})
		maxActive <- most
	}()
	got, err := testenv.UntilObject(ctx, env.Store, "default", "batch", func(j *api.Job) bool {
		done, _ := job.IsFinished(j)
		return done
	})
	stop()
	if err != nil {
		j, _ := store.For[*api.Job](env.Store).Get(t.Context(), "default", "batch")
		for _, p := range jobPods(t, env.Store, "batch") {
			t.Logf("pod %s: %s %v", p.GetMetadata().GetName(), p.GetStatus().GetPhase(), p.GetStatus().GetContainerStatuses())
		}
		t.Fatalf("job did not finish: %v (status %v)", err, j.GetStatus())
	}
	if most := <-maxActive; most > 3 {
		t.Fatalf("%d pods active at once, parallelism is 3", most)
	}
	if _, how := job.IsFinished(got); how != job.ConditionComplete || got.GetStatus().GetSucceeded() != 10 || got.GetStatus().GetFailed() != 3 {
		t.Fatalf("status = %v, want Complete, 10 succeeded, 3 failed", got.GetStatus())
	}
	pods, _, err := store.For[*api.Pod](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[int32]int{}
	for _, p := range pods {
		for _, cs := range p.GetStatus().GetContainerStatuses() {
			codes[cs.GetState().GetTerminated().GetExitCode()]++
		}
	}
	if codes[0] != 10 || codes[1] != 3 {
		t.Fatalf("container exit codes %v, want 10 zeros and 3 ones", codes)
	}
}
