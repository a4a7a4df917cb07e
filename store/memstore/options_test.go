package memstore

import (
	"testing"

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
