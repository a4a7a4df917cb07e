package builder_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// BenchmarkStoreToReconcile measures the path a write takes to reach a
// reconciler: memstore write -> watch -> shared informer -> handler ->
// work queue -> worker, for b.N pods each owned by one of 100 ReplicaSets
// (For(ReplicaSet).Owns(Pod)), with a no-op reconciler and 2 workers.
func BenchmarkStoreToReconcile(b *testing.B) {
	s := memstore.New()
	mgr := newManager(b, s)
	var reconciles atomic.Int64
	if err := builder.ControllerManagedBy(mgr).For(api.KindReplicaSet).Owns(api.KindPod).WithWorkers(2).
		Complete(reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			reconciles.Add(1)
			return reconcile.Result{}, nil
		})); err != nil {
		b.Fatal(err)
	}
	pods, err := mgr.Informer(api.KindPod)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()
	<-mgr.Elected()
	if err := pods.WaitForSync(ctx); err != nil {
		b.Fatal(err)
	}
	objs := make([]*api.Pod, b.N)
	for i := range objs {
		objs[i] = ownedPod(fmt.Sprintf("p-%07d", i), api.KindReplicaSet, fmt.Sprintf("rs-%03d", i%100))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, p := range objs {
		if _, err := s.Create(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	for pods.Len() < b.N {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
	b.ReportMetric(float64(reconciles.Load())/b.Elapsed().Seconds(), "reconciles/s")
}
