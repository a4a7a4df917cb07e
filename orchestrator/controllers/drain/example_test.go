package drain_test

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/drain"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// Drain cordons a node and evicts its pods; a pod no controller manages is
// left unless Force is set.
func ExampleDrain() {
	ctx := context.Background()
	s := memstore.New()
	if _, err := s.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n1"}}); err != nil {
		panic(err)
	}
	ready := &api.PodStatus{Phase: "Running", Conditions: []*api.Condition{{Type: "Ready", Status: "True"}}}
	managed := &api.OwnerReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", Uid: "rs-1", Controller: true}
	for _, p := range []*api.Pod{
		{Metadata: &api.ObjectMeta{Name: "web-1", Namespace: "default", OwnerReferences: []*api.OwnerReference{managed}}},
		{Metadata: &api.ObjectMeta{Name: "scratch", Namespace: "default"}},
	} {
		p.Spec = &api.PodSpec{NodeName: "n1", Containers: []*api.Container{{Name: "c", Image: "busybox"}}}
		p.Status = ready
		if _, err := s.Create(ctx, p); err != nil {
			panic(err)
		}
	}
	evicted, err := drain.Drain(ctx, s, "n1", drain.Options{})
	fmt.Println(evicted)
	fmt.Println(err)
	evicted, err = drain.Drain(ctx, s, "n1", drain.Options{Force: true})
	fmt.Println(evicted, err)
	// Output:
	// [default/web-1]
	// drain node n1: 1 pod(s) not evicted: pod default/scratch: pod is not managed by a controller (use Force to evict it anyway)
	// [default/scratch] <nil>
}
