package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// BenchmarkSchedulerCycle5000Nodes measures one scheduling decision (snapshot update,
// filter with sampling, score, assume) at 5,000 nodes, without the store:
// the CPU cost the scheduling loop pays per pod.
func BenchmarkSchedulerCycle5000Nodes(b *testing.B) {
	s := memstore.New()
	b.Cleanup(func() { _ = s.Close() })
	sch, err := New(s, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5000 {
		sch.cache.AddNode(&api.Node{
			Metadata: &api.ObjectMeta{Name: fmt.Sprintf("node-%05d", i), Labels: map[string]string{"kubernetes.io/hostname": fmt.Sprintf("node-%05d", i)}},
			Status:   &api.NodeStatus{Allocatable: map[string]string{"cpu": "1000", "memory": "1Ti", "pods": "100000"}},
		})
	}
	fwk := sch.profiles[DefaultSchedulerName]
	ctx := context.Background()
	pods := make([]*framework.PodInfo, b.N)
	for i := range pods {
		pods[i] = framework.NewPodInfo(&api.Pod{
			Metadata: &api.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Namespace: "bench", Uid: fmt.Sprintf("uid-%d", i)},
			Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Resources: &api.ResourceRequirements{
				Requests: map[string]string{"cpu": "100m", "memory": "500Mi"},
			}}}},
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		sch.cache.UpdateSnapshot(sch.snapshot)
		fwk.SetSnapshot(sch.snapshot)
		node, err := sch.schedulePod(ctx, fwk, framework.NewCycleState(), pods[i])
		if err != nil {
			b.Fatal(err)
		}
		if err := sch.cache.AssumePod(pods[i], node); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}
