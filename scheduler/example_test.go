package scheduler_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The default scheduler binds a pending pod to the node that fits it.
func ExampleScheduler() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := memstore.New()
	defer func() { _ = s.Close() }()

	for name, cpu := range map[string]string{"small": "1", "large": "8"} {
		_, err := s.Create(ctx, &api.Node{
			Metadata: &api.ObjectMeta{Name: name},
			Status:   &api.NodeStatus{Allocatable: map[string]string{"cpu": cpu, "memory": "16Gi", "pods": "110"}},
		})
		if err != nil {
			panic(err)
		}
	}
	sch, err := scheduler.New(s, scheduler.Config{Logger: quietLogger()})
	if err != nil {
		panic(err)
	}
	go func() { _ = sch.Start(ctx) }()

	pods := store.For[*api.Pod](s)
	_, err = pods.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.PodSpec{Containers: []*api.Container{{
			Name: "app", Image: "nginx",
			Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "2"}},
		}}},
	})
	if err != nil {
		panic(err)
	}
	for {
		p, err := pods.Get(ctx, "default", "web")
		if err != nil {
			panic(err)
		}
		if p.Spec.NodeName != "" {
			fmt.Println("web bound to", p.Spec.NodeName, "with finalizers", p.Metadata.Finalizers)
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output: web bound to large with finalizers [coxswain.io/node-agent]
}
