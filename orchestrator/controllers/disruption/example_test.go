package disruption_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/disruption"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// Two ready pods under a budget of minAvailable 1: the first eviction goes
// through, the second is refused.
func ExampleEvict() {
	ctx := context.Background()
	s := memstore.New()
	for _, name := range []string{"a", "b"} {
		_, err := s.Create(ctx, &api.Pod{
			Metadata: &api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "db"}},
			Spec:     &api.PodSpec{NodeName: "n1", Containers: []*api.Container{{Name: "c", Image: "db"}}},
			Status:   &api.PodStatus{Phase: "Running", Conditions: []*api.Condition{{Type: "Ready", Status: "True"}}},
		})
		if err != nil {
			panic(err)
		}
	}
	_, err := s.Create(ctx, &api.PodDisruptionBudget{
		Metadata: &api.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: &api.PodDisruptionBudgetSpec{
			MinAvailable: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 1}},
			Selector:     &api.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(disruption.Evict(ctx, s, "default", "a"))
	err = disruption.Evict(ctx, s, "default", "b")
	fmt.Println(errors.Is(err, disruption.ErrBlocked))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// cannot evict pod default/b: it would violate pod disruption budget "db" (1 healthy, needs 1)
}
