package podautoscaler_test

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podautoscaler"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// StoreScaler is the scale subresource the autoscaler uses: it reads a
// workload's replicas and selector and changes spec.replicas.
func ExampleStoreScaler() {
	ctx := context.Background()
	s := memstore.New()
	_, err := s.Create(ctx, &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.ReplicaSetSpec{
			Replicas: proto.Int32(2),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}}},
		},
	})
	if err != nil {
		panic(err)
	}
	scaler := podautoscaler.StoreScaler{Store: s}
	ref := &api.CrossVersionObjectReference{Kind: api.KindReplicaSet, Name: "web"}
	sc, err := scaler.GetScale(ctx, "default", ref)
	if err != nil {
		panic(err)
	}
	fmt.Println(sc.Replicas, sc.Selector)
	if err := scaler.SetReplicas(ctx, "default", ref, 5); err != nil {
		panic(err)
	}
	sc, _ = scaler.GetScale(ctx, "default", ref)
	fmt.Println(sc.Replicas)
	// Output:
	// 2 app=web
	// 5
}
