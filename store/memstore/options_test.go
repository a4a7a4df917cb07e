package memstore

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// TestWriteOptionsSkipCopies checks that memstore really skips the copies
// store.Consume and store.SharedResult allow (the conformance suite checks
// that they change nothing else): the object handed over is the one
// stored, watchers see it, and it is what the write returns; without the
// options, neither the argument nor the result is the stored object.
func TestWriteOptionsSkipCopies(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	t.Cleanup(func() { _ = s.Close() })
	w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	in := testPod("ns", "p", "n1")
	out, err := s.Create(ctx, in, store.Consume(), store.SharedResult())
	if err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatal("Create with Consume and SharedResult returned a copy")
	}
	if ev := <-w.Events(); ev.Object != in {
		t.Fatal("the watch event does not carry the object handed over")
	}

	upd := testPod("ns", "p", "n1")
	upd.Spec.Containers[0].Image = "nginx"
	out, err = s.Update(ctx, upd, store.Consume(), store.SharedResult())
	if err != nil || out != upd {
		t.Fatalf("Update with Consume and SharedResult: %v, same object %v", err, out == upd)
	}
	<-w.Events()

	st := testPod("ns", "p", "")
	st.Status = &api.PodStatus{Phase: "Running"}
	status := st.Status
	out, err = s.UpdateStatus(ctx, st, store.Consume(), store.SharedResult())
	if err != nil || out.(*api.Pod).Status != status {
		t.Fatalf("UpdateStatus with Consume and SharedResult copied the status: %v", err)
	}
	<-w.Events()

	plain := testPod("ns", "q", "n1")
	out, err = s.Create(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	ev := <-w.Events()
	if out == plain || ev.Object == plain || ev.Object == out {
		t.Fatal("a write without options shares an object with its caller")
	}
	if plain.GetMetadata().GetUid() != "" {
		t.Fatal("a write without options modified its argument")
	}
}

// TestConsumeRefusesStoredObjects checks that handing the store its own
// object back (a shared result, or a shallow copy sharing its metadata)
// fails with ErrInvalid and leaves the stored object as it was.
func TestConsumeRefusesStoredObjects(t *testing.T) {
	ctx := ctxT(t)
	s := New()
	t.Cleanup(func() { _ = s.Close() })
	shared, err := s.Create(ctx, testPod("ns", "p", "n1"), store.Consume(), store.SharedResult())
	if err != nil {
		t.Fatal(err)
	}
	before := api.Clone(shared)
	sameMeta := &api.Pod{Metadata: shared.GetMetadata(), Spec: &api.PodSpec{NodeName: "n2"}}
	for name, obj := range map[string]api.Object{"the shared result": shared, "a copy sharing its metadata": sameMeta} {
		for _, write := range []func(api.Object) error{
			func(o api.Object) error { _, err := s.Update(ctx, o, store.Consume()); return err },
			func(o api.Object) error { _, err := s.UpdateStatus(ctx, o, store.Consume()); return err },
		} {
			if err := write(obj); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("writing %s back with Consume: %v, want ErrInvalid", name, err)
			}
		}
	}
	got, err := s.Get(ctx, api.KindPod, "ns", "p")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, before) || !proto.Equal(shared, before) {
		t.Fatalf("the stored pod changed: %v", got)
	}
	// Without Consume the store copies, so passing its object back is fine.
	if _, err := s.Update(ctx, shared); err != nil {
		t.Fatalf("plain Update of a shared result: %v", err)
	}
}
