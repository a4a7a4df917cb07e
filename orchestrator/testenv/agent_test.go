package testenv_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The real node agent on the fake runtime, instead of the simulation: a
// ReplicaSet's pods run, and a deleted pod is replaced.
func TestRealAgentOnFakeRuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s := memstore.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := testenv.Start(t, testenv.Options{
		Nodes: 2, Store: s,
		Agent: func(node string) (manager.Runnable, error) {
			return agent.New(context.Background(), agent.Config{
				NodeName: node, Store: s, Runtime: fake.New(fake.Config{}), RootDir: t.TempDir(), NodeIP: "127.0.0.1",
				SyncPeriod: 20 * time.Millisecond, StatsInterval: -1, DefaultGracePeriod: time.Second, Logger: logger,
			})
		},
	})
	replicas := int32(3)
	if _, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "web", Image: "nginx", Command: fake.Command(fake.Behavior{})}}},
			},
		},
	}); err != nil {
		t.Fatal(err)
	}
	var names []string
	running := func(pods []*api.Pod) bool {
		names = names[:0]
		for _, p := range pods {
			if podutil.IsActive(p) && podutil.IsReady(p) && p.GetStatus().GetPhase() == podutil.PhaseRunning {
				names = append(names, p.GetMetadata().GetName())
			}
		}
		return len(names) == 3
	}
	opts := store.ListOptions{Namespace: "default", LabelSelector: "app=web"}
	if err := testenv.UntilTyped(ctx, env.Store, opts, running); err != nil {
		pods, _, _ := store.For[*api.Pod](env.Store).List(context.Background(), opts)
		for _, p := range pods {
			t.Logf("pod %s node=%q status=%v", p.GetMetadata().GetName(), p.GetSpec().GetNodeName(), p.GetStatus())
		}
		t.Fatalf("pods did not run on the real agents: %v", err)
	}
	victim := names[0]
	if _, err := env.Store.Delete(ctx, api.KindPod, "default", victim, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindPod, "default", victim); err != nil {
		t.Fatalf("the agent did not finish the deletion: %v", err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, opts, func(pods []*api.Pod) bool {
		return running(pods) && !slices.Contains(names, victim)
	}); err != nil {
		t.Fatalf("the deleted pod was not replaced: %v", err)
	}
}
