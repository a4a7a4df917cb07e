package admission_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// BenchmarkCreatePod measures a pod create straight into memstore, through
// the default chain, and through the chain with a quota and a limit range
// in the namespace (whose usage is recounted from the namespace's pods on
// every create: the cost grows with the pods already there, so each
// iteration works in a namespace of at most 100 pods), and with an
// Incremental quota, which charges against the quota's status instead.
func BenchmarkCreatePod(b *testing.B) {
	cases := []struct {
		name  string
		setup func(store.Store) (store.Store, error)
	}{
		{"memstore", func(s store.Store) (store.Store, error) { return s, nil }},
		{"chain", func(s store.Store) (store.Store, error) { return admission.NewDefault(s) }},
		{"chain_quota_limitrange", func(s store.Store) (store.Store, error) { return admission.NewDefault(s) }},
		{"chain_quota_limitrange_incremental", func(s store.Store) (store.Store, error) {
			return admission.New(s, admission.Defaulting{}, &admission.LimitRanger{Store: s}, admission.Validation{},
				&admission.ResourceQuota{Store: s, Incremental: true})
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := tc.setup(memstore.New())
			if err != nil {
				b.Fatal(err)
			}
			withQuota := strings.HasPrefix(tc.name, "chain_quota")
			ns := ""
			b.ResetTimer()
			for i := range b.N {
				if i%100 == 0 {
					b.StopTimer()
					ns = fmt.Sprintf("ns-%d", i/100)
					if withQuota {
						if _, err := s.Create(ctx, &api.ResourceQuota{Metadata: &api.ObjectMeta{Name: "q", Namespace: ns},
							Spec: &api.ResourceQuotaSpec{Hard: map[string]string{"pods": "1000", "requests.cpu": "100"}}}); err != nil {
							b.Fatal(err)
						}
						if _, err := s.Create(ctx, &api.LimitRange{Metadata: &api.ObjectMeta{Name: "lr", Namespace: ns},
							Spec: &api.LimitRangeSpec{Limits: []*api.LimitRangeItem{{Type: "Container", DefaultRequest: map[string]string{"cpu": "100m"}}}}}); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
				if _, err := s.Create(ctx, pod(fmt.Sprintf("p%d", i), nil, nil, ns)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
