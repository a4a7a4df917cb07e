package admission_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The whole control plane runs on the admission chain: a ReplicaSet asking
// for more pods than its namespace's quota allows gets only what fits; a
// pod that finishes gives its share back (the quota controller recounts)
// and the ReplicaSet's replacement takes it.
func TestQuotaOnTestenv(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	chain, err := admission.NewDefault(memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{Nodes: 1, Store: chain})
	if err := admission.AddQuotaController(env.Manager, admission.QuotaControllerOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Create(ctx, &api.ResourceQuota{
		Metadata: &api.ObjectMeta{Name: "small", Namespace: "default"},
		Spec:     &api.ResourceQuotaSpec{Hard: map[string]string{"pods": "2", "requests.cpu": "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.ReplicaSetSpec{
			Replicas: proto.Int32(3),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "web",
					Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "400m"}}}}},
			},
		},
	}
	if _, err := env.Store.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	running := func(n int) []*api.Pod {
		t.Helper()
		var got []*api.Pod
		if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
			got = got[:0]
			for _, p := range pods {
				if podutil.IsActive(p) && p.GetStatus().GetPhase() == podutil.PhaseRunning {
					got = append(got, p)
				}
			}
			return len(got) == n
		}); err != nil {
			t.Fatalf("want %d running pods: %v", n, err)
		}
		return got
	}
	pods := running(2)
	q, err := testenv.UntilObject(ctx, env.Store, "default", "small", func(q *api.ResourceQuota) bool {
		return q.GetStatus().GetUsed()["pods"] == "2"
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := q.GetStatus().GetUsed()["requests.cpu"]; got != "800m" {
		t.Errorf("used requests.cpu = %q, want 800m", got)
	}
	// The third pod is refused for as long as two run.
	if _, err := env.Store.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Name: "extra", Namespace: "default"},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "x"}}},
	}); !errors.Is(err, store.ErrForbidden) {
		t.Fatalf("third pod: err = %v, want ErrForbidden", err)
	}
	// One finishes: its share comes back and the ReplicaSet's next pod
	// takes it.
	if err := env.FailPod(ctx, "default", pods[0].GetMetadata().GetName(), 1); err != nil {
		t.Fatal(err)
	}
	running(2)
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "small", func(q *api.ResourceQuota) bool {
		return q.GetStatus().GetUsed()["pods"] == "2" && q.GetStatus().GetUsed()["requests.cpu"] == "800m"
	}); err != nil {
		t.Fatal(err)
	}

	// A pod that finishes stops counting even though nothing deletes it:
	// the quota controller recounts on the pod's change.
	if _, err := env.Store.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "batch"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Create(ctx, &api.ResourceQuota{
		Metadata: &api.ObjectMeta{Name: "q", Namespace: "batch"},
		Spec:     &api.ResourceQuotaSpec{Hard: map[string]string{"pods": "5"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Name: "solo", Namespace: "batch"},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "x"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "batch", "solo", func(p *api.Pod) bool {
		return p.GetStatus().GetPhase() == podutil.PhaseRunning
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.FailPod(ctx, "batch", "solo", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "batch", "q", func(q *api.ResourceQuota) bool {
		return q.GetStatus().GetUsed()["pods"] == "0"
	}); err != nil {
		t.Fatalf("finished pod still counted: %v", err)
	}
}
