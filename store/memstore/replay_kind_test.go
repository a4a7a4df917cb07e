package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// A watch from a past revision replays only its own kind's history.
func TestWatchReplayIsFilteredByKind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := memstore.New()
	if _, err := s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, api.KindNode, store.WatchOptions{Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := s.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n2"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"n1", "n2"} {
		select {
		case ev := <-w.Events():
			if _, ok := ev.Object.(*api.Node); !ok || ev.Object.GetMetadata().GetName() != want {
				t.Fatalf("event %v %T %s, want Node %s", ev.Type, ev.Object, ev.Object.GetMetadata().GetName(), want)
			}
		case <-ctx.Done():
			t.Fatalf("no event for %s", want)
		}
	}
}
