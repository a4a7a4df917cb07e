package runtime_test

import (
	"errors"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/runtime"
)

func TestResourcesFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     *api.ResourceRequirements
		want    runtime.Resources
		wantErr bool
	}{
		{"best effort", nil, runtime.Resources{CPUShares: 2}, false},
		{"requests only", &api.ResourceRequirements{Requests: map[string]string{"cpu": "500m", "memory": "64Mi"}}, runtime.Resources{CPUShares: 512}, false},
		{"limits", &api.ResourceRequirements{
			Requests: map[string]string{"cpu": "250m"},
			Limits:   map[string]string{"cpu": "1.5", "memory": "128Mi"},
		}, runtime.Resources{CPUShares: 256, CPUQuota: 150000, CPUPeriod: 100000, MemoryLimit: 128 << 20}, false},
		{"limit implies request", &api.ResourceRequirements{Limits: map[string]string{"cpu": "2"}}, runtime.Resources{CPUShares: 2048, CPUQuota: 200000, CPUPeriod: 100000}, false},
		{"tiny request", &api.ResourceRequirements{Requests: map[string]string{"cpu": "1m"}}, runtime.Resources{CPUShares: 2}, false},
		{"tiny limit", &api.ResourceRequirements{Limits: map[string]string{"cpu": "1m"}}, runtime.Resources{CPUShares: 2, CPUQuota: 1000, CPUPeriod: 100000}, false},
		{"memory rounds up", &api.ResourceRequirements{Limits: map[string]string{"memory": "1500m"}}, runtime.Resources{CPUShares: 2, MemoryLimit: 2}, false},
		{"bad quantity", &api.ResourceRequirements{Limits: map[string]string{"memory": "lots"}}, runtime.Resources{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runtime.ResourcesFor(tc.req)
			if tc.wantErr {
				if !errors.Is(err, runtime.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResourcesFor = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
