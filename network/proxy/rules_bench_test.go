package proxy

import (
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

func benchObjects(n int) ([]*api.Service, []*api.Endpoints) {
	svcs := make([]*api.Service, n)
	epss := make([]*api.Endpoints, n)
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		svcs[i] = svc("bench", name, fmt.Sprintf("10.%d.%d.%d", 96+i>>16, i>>8&255, i&255), "ClusterIP", port("http", 80, 0))
		epss[i] = eps("bench", name, "http", 8080, []string{fmt.Sprintf("10.244.%d.%d", i>>8&255, i&255), fmt.Sprintf("10.245.%d.%d", i>>8&255, i&255)}, nil)
	}
	return svcs, epss
}

// BenchmarkBuildRules10k measures generating the whole rule set of 10,000
// services of 2 endpoints (what a full sync computes).
func BenchmarkBuildRules10k(b *testing.B) {
	svcs, epss := benchObjects(10000)
	b.ResetTimer()
	for b.Loop() {
		BuildRules(svcs, epss, Options{ClusterCIDR: "10.244.0.0/15"})
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/build")
}

// BenchmarkServiceDiff measures what an incremental sync computes for one
// changed Endpoints object: that service's rules and their diff.
func BenchmarkServiceDiff(b *testing.B) {
	svcs, epss := benchObjects(1)
	opts := Options{ClusterCIDR: "10.244.0.0/15"}
	old := ServiceRules(svcs[0], epss[0], opts)
	changed := eps("bench", "svc-00000", "http", 8080, []string{"10.244.0.0", "10.246.0.1"}, nil)
	for b.Loop() {
		if _, n := Diff(old, ServiceRules(svcs[0], changed, opts)); n != 1 {
			b.Fatalf("diff touches %d chains", n)
		}
	}
}
