package testenv_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// A Deployment runs on a whole control plane in memory: the scheduler binds
// its pods to fake nodes, which report them running and ready.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{Nodes: 3})
	if err != nil {
		panic(err)
	}
	defer env.Stop()

	replicas := int32(4)
	_, err = store.For[*api.Deployment](env.Store).Create(ctx, &api.Deployment{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.DeploymentSpec{
			Replicas: &replicas,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	// Wait, watch-driven, for four running and ready pods.
	err = testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=web"}, func(pods []*api.Pod) bool {
		ready := 0
		for _, p := range pods {
			if podutil.IsReady(p) && p.GetSpec().GetNodeName() != "" {
				ready++
			}
		}
		return ready == 4
	})
	fmt.Println("4 pods ready:", err == nil)
	// Output: 4 pods ready: true
}
