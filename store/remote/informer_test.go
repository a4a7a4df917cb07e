package remote_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// TestInformerThroughClient runs an unchanged informer against the remote
// client while the server keeps cutting its watch streams: its cache
// converges on the store's state.
func TestInformerThroughClient(t *testing.T) {
	mem, cut, c := newCutterEnv(t, 3)
	cut.maxCuts = 20
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 5 {
		if _, err := mem.Create(ctx, testPod("ns", fmt.Sprintf("early%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	inf, err := informer.New(c, api.KindPod, informer.WithNamespace("ns"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- inf.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		p := testPod("ns", fmt.Sprintf("late%d", i))
		if _, err := mem.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		if i%6 == 0 { // delete early0..early4 along the way
			if _, err := mem.Delete(ctx, api.KindPod, "ns", fmt.Sprintf("early%d", i/6), store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rev, err := mem.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("informer never reached revision %d: %v", rev, err)
	}
	want, err := mem.List(ctx, api.KindPod, store.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	if inf.Len() != len(want.Items) {
		t.Fatalf("informer holds %d pods, the store %d", inf.Len(), len(want.Items))
	}
	for _, obj := range want.Items {
		got, ok := inf.Get("ns", obj.GetMetadata().GetName())
		if !ok || got.GetMetadata().GetResourceVersion() != obj.GetMetadata().GetResourceVersion() {
			t.Fatalf("informer copy of %s = %v, want resourceVersion %d", obj.GetMetadata().GetName(), got, obj.GetMetadata().GetResourceVersion())
		}
	}
	if cut.opened.Load() < 5 {
		t.Fatalf("only %d watch streams: the cuts did not happen", cut.opened.Load())
	}
}
