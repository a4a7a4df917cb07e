package agent_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
)

func TestPodResolvConf(t *testing.T) {
	e := newEnv(t, func(c *agent.Config) { c.ClusterDNS = []string{"10.96.0.10"} })
	tests := []struct {
		name   string
		policy string
		dns    *api.PodDNSConfig
		want   string // "" means the host's resolv.conf (nil)
	}{
		{"clusterfirst", "", nil, "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"},
		{"default", "Default", nil, ""},
		{"none", "None", &api.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com"},
			Options: []*api.PodDNSConfigOption{{Name: "ndots", Value: "2"}, {Name: "edns0"}}},
			"nameserver 1.1.1.1\nsearch example.com\noptions ndots:2 edns0\n"},
	}
	for _, tt := range tests {
		p := pod(tt.name, "", forever)
		p.Spec.DnsPolicy, p.Spec.DnsConfig = tt.policy, tt.dns
		e.create(p)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.waitPod(tt.name, "running", phase(agent.PhaseRunning))
			cfg := e.rt.sandbox(tt.name)
			if cfg == nil {
				t.Fatal("no sandbox recorded")
			}
			if got := string(cfg.ResolvConf); got != tt.want {
				t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
