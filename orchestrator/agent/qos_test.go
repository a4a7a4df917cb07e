package agent_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
)

func TestQOSClass(t *testing.T) {
	res := func(req, lim map[string]string) *api.Container {
		return &api.Container{Name: "c", Resources: &api.ResourceRequirements{Requests: req, Limits: lim}}
	}
	tests := []struct {
		name       string
		containers []*api.Container
		want       string
	}{
		{"none", []*api.Container{{Name: "c"}}, "BestEffort"},
		{"limits only", []*api.Container{res(nil, map[string]string{"cpu": "1", "memory": "1Gi"})}, "Guaranteed"},
		{"equal", []*api.Container{res(map[string]string{"cpu": "1000m", "memory": "1Gi"}, map[string]string{"cpu": "1", "memory": "1Gi"})}, "Guaranteed"},
		{"request below limit", []*api.Container{res(map[string]string{"cpu": "500m"}, map[string]string{"cpu": "1", "memory": "1Gi"})}, "Burstable"},
		{"no memory limit", []*api.Container{res(nil, map[string]string{"cpu": "1"})}, "Burstable"},
		{"one best-effort container", []*api.Container{res(nil, map[string]string{"cpu": "1", "memory": "1Gi"}), {Name: "d"}}, "Burstable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &api.Pod{Spec: &api.PodSpec{Containers: tt.containers}}
			if got := agent.QOSClass(p); got != tt.want {
				t.Errorf("QOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}
