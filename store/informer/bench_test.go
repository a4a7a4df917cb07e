package informer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// benchInformer returns a synced informer over 10,000 pods in 100
// ReplicaSets of 100 pods each.
func benchInformer(b *testing.B) *informer.Informer {
	b.Helper()
	s := memstore.New()
	ctx := context.Background()
	for rs := range 100 {
		for i := range 100 {
			p := pod("default", fmt.Sprintf("rs%03d-%03d", rs, i), map[string]string{"app": fmt.Sprintf("rs%03d", rs), "tier": "web"}, fmt.Sprintf("uid-%03d", rs))
			if _, err := s.Create(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	}
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	go func() { _ = inf.Start(ctx) }()
	if err := inf.WaitForSync(ctx); err != nil {
		b.Fatal(err)
	}
	return inf
}

// BenchmarkByOwner looks up one ReplicaSet's 100 pods among 10,000.
func BenchmarkByOwner(b *testing.B) {
	inf := benchInformer(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		objs, _ := inf.ByIndex(informer.IndexOwner, fmt.Sprintf("uid-%03d", i%100))
		if len(objs) != 100 {
			b.Fatalf("got %d pods", len(objs))
		}
	}
}

// BenchmarkSelect matches a selector with an exact label among 10,000 pods.
func BenchmarkSelect(b *testing.B) {
	inf := benchInformer(b)
	sels := make([]labels.Selector, 100)
	for i := range sels {
		sels[i] = labels.MustParse(fmt.Sprintf("app=rs%03d,tier=web", i))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if objs := inf.Select("default", sels[i%100]); len(objs) != 100 {
			b.Fatalf("got %d pods", len(objs))
		}
	}
}
