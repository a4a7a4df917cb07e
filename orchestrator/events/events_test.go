package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func setup(t *testing.T) (store.Store, *api.Pod, *clock.Fake) {
	t.Helper()
	s := memstore.New()
	obj, err := store.For[*api.Pod](s).Create(context.Background(), &api.Pod{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, obj, clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

func listEvents(t *testing.T, s store.Store, ns string) []*api.Event {
	t.Helper()
	evs, _, err := store.For[*api.Event](s).List(context.Background(), store.ListOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestDeduplicatesWithCounts(t *testing.T) {
	s, pod, fc := setup(t)
	ctx := context.Background()
	r := events.NewRecorder(s, "test-controller", events.WithClock(fc), events.WithHost("node-1"))
	first, err := r.Event(ctx, pod, events.TypeWarning, "BackOff", "restarting failed container")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		fc.Step(time.Minute)
		if _, err := r.Event(ctx, pod, events.TypeWarning, "BackOff", "restarting failed container"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Eventf(ctx, pod, events.TypeNormal, "Pulled", "pulled image %q", "busybox"); err != nil {
		t.Fatal(err)
	}
	evs := listEvents(t, s, "ns")
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2 (one deduplicated BackOff, one Pulled)", len(evs))
	}
	var backoff *api.Event
	for _, e := range evs {
		if e.GetReason() == "BackOff" {
			backoff = e
		}
	}
	if backoff == nil {
		t.Fatal("no BackOff event")
	}
	if backoff.GetCount() != 4 {
		t.Fatalf("count = %d, want 4", backoff.GetCount())
	}
	if got, want := backoff.GetLastTimestamp().AsTime(), fc.Now(); !got.Equal(want) {
		t.Fatalf("lastTimestamp = %v, want %v", got, want)
	}
	if !backoff.GetFirstTimestamp().AsTime().Equal(first.GetFirstTimestamp().AsTime()) {
		t.Fatal("firstTimestamp moved")
	}
	ref := backoff.GetInvolvedObject()
	if ref.GetKind() != api.KindPod || ref.GetApiVersion() != "v1" || ref.GetName() != "web" || ref.GetUid() != pod.GetMetadata().GetUid() {
		t.Fatalf("involvedObject = %v", ref)
	}
	if backoff.GetSource().GetComponent() != "test-controller" || backoff.GetSource().GetHost() != "node-1" || backoff.GetType() != events.TypeWarning {
		t.Fatalf("source/type = %v %q", backoff.GetSource(), backoff.GetType())
	}
}

func TestDeduplicatesAcrossRecorders(t *testing.T) {
	s, pod, fc := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := events.NewRecorder(s, "shared", events.WithClock(fc))
			for range 5 {
				if _, err := r.Event(ctx, pod, events.TypeNormal, "Sync", "same message"); err != nil {
					t.Errorf("recorder %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	evs := listEvents(t, s, "ns")
	if len(evs) != 1 || evs[0].GetCount() != 20 {
		t.Fatalf("events = %d, count = %d; want 1 event with count 20", len(evs), evs[0].GetCount())
	}
}

func TestClusterScopedObjectEventsGoToDefault(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	node, err := store.For[*api.Node](s).Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "node-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.NewRecorder(s, "nodelifecycle").Event(ctx, node, events.TypeWarning, "NodeNotReady", "heartbeat lost"); err != nil {
		t.Fatal(err)
	}
	evs := listEvents(t, s, events.DefaultNamespace)
	if len(evs) != 1 || evs[0].GetInvolvedObject().GetKind() != api.KindNode {
		t.Fatalf("events in default = %v", evs)
	}
}

func TestRecreatedAfterDeletion(t *testing.T) {
	s, pod, fc := setup(t)
	ctx := context.Background()
	r := events.NewRecorder(s, "c", events.WithClock(fc))
	ev, err := r.Event(ctx, pod, events.TypeNormal, "Created", "created")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, api.KindEvent, "ns", ev.GetMetadata().GetName(), store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	again, err := r.Event(ctx, pod, events.TypeNormal, "Created", "created")
	if err != nil {
		t.Fatal(err)
	}
	if again.GetCount() != 1 {
		t.Fatalf("count after the event was deleted = %d, want a fresh event with 1", again.GetCount())
	}
}
