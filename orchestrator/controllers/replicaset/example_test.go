package replicaset_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// A ReplicaSet replaces a pod that is deleted.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{Nodes: 2})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	replicas := int32(2)
	_, _ = store.For[*api.ReplicaSet](env.Store).Create(ctx, &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "cache"},
		Spec: &api.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "cache"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "cache"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "redis", Image: "redis"}}},
			},
		},
	})
	var names []string
	running := func(pods []*api.Pod) bool {
		names = names[:0]
		for _, p := range pods {
			if podutil.IsActive(p) && podutil.IsReady(p) {
				names = append(names, p.GetMetadata().GetName())
			}
		}
		return len(names) == 2 && len(pods) == 2
	}
	opts := store.ListOptions{Namespace: "default", LabelSelector: "app=cache"}
	_ = testenv.UntilTyped(ctx, env.Store, opts, running)
	victim := names[0]
	_, _ = env.Store.Delete(ctx, api.KindPod, "default", victim, store.DeleteOptions{})
	err = testenv.UntilTyped(ctx, env.Store, opts, func(pods []*api.Pod) bool {
		return running(pods) && names[0] != victim && names[1] != victim
	})
	fmt.Println("replaced:", err == nil)
	// Output: replaced: true
}
