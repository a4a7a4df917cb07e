package memstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	s := New()
	pods := make([]*api.Pod, b.N)
	for i := range pods {
		pods[i] = testPod("ns", fmt.Sprintf("p%07d", i), fmt.Sprintf("n%d", i%1000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Create(ctx, pods[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := New()
	if _, err := s.Create(ctx, testPod("ns", "p", "n1")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, api.KindPod, "ns", "p"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateStatus(b *testing.B) {
	ctx := context.Background()
	s := New()
	if _, err := s.Create(ctx, testPod("ns", "p", "n1")); err != nil {
		b.Fatal(err)
	}
	st := &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "p"}, Status: &api.PodStatus{Phase: "Running"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UpdateStatus(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	_ = store.ErrConflict
}
