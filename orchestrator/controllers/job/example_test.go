package job_test

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/job"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// The Job controller on an in-memory control plane: a Job of 2 completions
// whose pods the example finishes itself, as containers exiting 0 would.
func ExampleAdd() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{Nodes: 1})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	if _, err := job.Add(env.Manager, job.Options{}); err != nil {
		panic(err)
	}
	_, err = env.Store.Create(ctx, &api.Job{
		Metadata: &api.ObjectMeta{Name: "report", Namespace: "default"},
		Spec: &api.JobSpec{Completions: proto.Int32(2), Template: &api.PodTemplateSpec{Spec: &api.PodSpec{
			RestartPolicy: "Never", Containers: []*api.Container{{Name: "report", Image: "busybox"}},
		}}},
	})
	if err != nil {
		panic(err)
	}
	pods := store.For[*api.Pod](env.Store)
	for range 2 {
		var running *api.Pod
		err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(ps []*api.Pod) bool {
			for _, p := range ps {
				if p.GetStatus().GetPhase() == podutil.PhaseRunning {
					running = p
					return true
				}
			}
			return false
		})
		if err != nil {
			panic(err)
		}
		if _, err := pods.MutateStatus(ctx, "default", running.GetMetadata().GetName(), func(p *api.Pod) error {
			p.Status.Phase = podutil.PhaseSucceeded
			return nil
		}); err != nil {
			panic(err)
		}
	}
	finished, err := testenv.UntilObject(ctx, env.Store, "default", "report", func(j *api.Job) bool {
		done, _ := job.IsFinished(j)
		return done
	})
	if err != nil {
		panic(err)
	}
	_, how := job.IsFinished(finished)
	fmt.Println(how, "succeeded:", finished.GetStatus().GetSucceeded())
	// Output:
	// Complete succeeded: 2
}
