package admission_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// A store wrapped in the default chain refuses a pod that would exceed its
// namespace's quota, and says by how much.
func ExampleNewDefault() {
	ctx := context.Background()
	s, err := admission.NewDefault(memstore.New())
	if err != nil {
		panic(err)
	}
	_, err = s.Create(ctx, &api.ResourceQuota{
		Metadata: &api.ObjectMeta{Name: "small", Namespace: "team"},
		Spec:     &api.ResourceQuotaSpec{Hard: map[string]string{"requests.cpu": "1"}},
	})
	if err != nil {
		panic(err)
	}
	_, err = s.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Name: "big", Namespace: "team"},
		Spec: &api.PodSpec{Containers: []*api.Container{{
			Name: "app", Image: "busybox",
			Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "1500m"}},
		}}},
	})
	fmt.Println(errors.Is(err, store.ErrForbidden))
	var qe *admission.QuotaExceededError
	if errors.As(err, &qe) {
		fmt.Println(qe)
	}
	// Output:
	// true
	// exceeded quota "small": requests.cpu: requested 1500m, used 0, limited 1 (over by 500m)
}
