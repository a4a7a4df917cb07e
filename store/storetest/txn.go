package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	revs := map[int64]string{}
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				out, err := s.Create(ctx, pod("ns", fmt.Sprintf("g%d-%d", g, i), nil))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if other, dup := revs[rv(out)]; dup {
					mu.Unlock()
					errs <- fmt.Errorf("revision %d given to %s and %s", rv(out), other, out.GetMetadata().GetName())
					return
				}
				revs[rv(out)] = out.GetMetadata().GetName()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := s.List(ctx, api.KindPod, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != writers*perWriter {
		t.Fatalf("List has %d objects, want %d", len(res.Items), writers*perWriter)
	}
	uids := map[string]bool{}
	for _, it := range res.Items {
		uids[it.GetMetadata().GetUid()] = true
	}
	if len(uids) != writers*perWriter {
		t.Fatalf("%d distinct uids for %d objects", len(uids), writers*perWriter)
	}
}

func testCASRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for round := range 5 {
		name := fmt.Sprintf("p%d", round)
		base := asPod(t)(s.Create(ctx, pod("ns", name, nil)))
		const racers = 8
		var wg sync.WaitGroup
		results := make(chan error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := pod("ns", name, nil)
				p.Metadata.ResourceVersion = rv(base)
				p.Spec.NodeName = fmt.Sprintf("n%d", i)
				<-start
				_, err := s.Update(ctx, p)
				results <- err
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case !store.IsConflict(err):
				t.Fatalf("racing Update: %v, want nil or ErrConflict", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners, want exactly 1", round, wins)
		}
	}
}

func testFinalizers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	p := pod("ns", "p", nil)
	p.Metadata.Finalizers = []string{"example.com/a", "example.com/b"}
	created := mustCreate(t, s, p)
	w := watch(t, s, api.KindPod, store.WatchOptions{Revision: rv(created)})

	marked, err := s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if marked.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatal("Delete of an object with finalizers did not set deletionTimestamp")
	}
	expectEvent(t, w, store.EventModified, "p")
	got, err := s.Get(ctx, api.KindPod, "ns", "p")
	if err != nil {
		t.Fatalf("object with finalizers gone after Delete: %v", err)
	}
	// Deleting again changes nothing.
	again, err := s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{})
	if err != nil || rv(again) != rv(got) {
		t.Fatalf("second Delete = rv %v, %v; want unchanged rv %d", again, err, rv(got))
	}
	// Clearing deletionTimestamp through Update is not possible.
	gp := got.(*api.Pod)
	gp.Metadata.DeletionTimestamp = nil
	gp.Metadata.Finalizers = []string{"example.com/b"}
	upd, err := s.Update(ctx, gp)
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatal("Update cleared deletionTimestamp")
	}
	expectEvent(t, w, store.EventModified, "p")
	// Removing the last finalizer removes the object.
	up := upd.(*api.Pod)
	up.Metadata.Finalizers = nil
	if _, err := s.Update(ctx, up); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, store.EventDeleted, "p")
	_, err = s.Get(ctx, api.KindPod, "ns", "p")
	wantErr(t, "Get after the last finalizer went", err, store.ErrNotFound)
}

func testPropagation(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, tt := range []struct{ policy, finalizer string }{
		{store.PropagationForeground, store.FinalizerForeground},
		{store.PropagationOrphan, store.FinalizerOrphan},
	} {
		name := "p-" + tt.policy
		mustCreate(t, s, pod("ns", name, nil))
		out, err := s.Delete(ctx, api.KindPod, "ns", name, store.DeleteOptions{PropagationPolicy: tt.policy})
		if err != nil {
			t.Fatal(err)
		}
		m := out.GetMetadata()
		if m.GetDeletionTimestamp() == nil || !slices.Contains(m.GetFinalizers(), tt.finalizer) {
			t.Fatalf("%s delete: %v, want deletionTimestamp and finalizer %s", tt.policy, m, tt.finalizer)
		}
		if _, err := s.Get(ctx, api.KindPod, "ns", name); err != nil {
			t.Fatalf("%s delete removed the object: %v", tt.policy, err)
		}
	}
	mustCreate(t, s, pod("ns", "bg", nil))
	if _, err := s.Delete(ctx, api.KindPod, "ns", "bg", store.DeleteOptions{PropagationPolicy: store.PropagationBackground}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, api.KindPod, "ns", "bg")
	wantErr(t, "Get after a background delete", err, store.ErrNotFound)
	mustCreate(t, s, pod("ns", "bad", nil))
	_, err = s.Delete(ctx, api.KindPod, "ns", "bad", store.DeleteOptions{PropagationPolicy: "Sideways"})
	wantErr(t, "Delete with an unknown policy", err, store.ErrInvalid)
}

func testDeletePreconditions(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	p := mustCreate(t, s, pod("ns", "p", nil))
	_, err := s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{ResourceVersion: rv(p) + 100})
	wantErr(t, "Delete with a wrong resourceVersion", err, store.ErrConflict)
	_, err = s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{UID: "wrong"})
	wantErr(t, "Delete with a wrong uid", err, store.ErrConflict)
	if _, err := s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{ResourceVersion: rv(p), UID: p.GetMetadata().GetUid()}); err != nil {
		t.Fatal(err)
	}
}

func testTxn(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a := mustCreate(t, s, pod("ns", "a", nil)).(*api.Pod)
	w := watch(t, s, api.KindPod, store.WatchOptions{})
	a.Spec.NodeName = "n1"
	res, err := s.Txn(ctx,
		store.CheckOp(api.KindPod, "ns", "a", rv(a)),
		store.UpdateOp(a),
		store.CreateOp(pod("ns", "b", nil)),
		store.CreateOp(&api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "cm"}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("Txn returned %d results, want 4", len(res))
	}
	rev, _ := s.Revision(ctx)
	for i, r := range res[1:] {
		if rv(r) != rev {
			t.Fatalf("result %d at revision %d, want every write at %d", i+1, rv(r), rev)
		}
	}
	if res[1].(*api.Pod).Spec.NodeName != "n1" || res[2].GetMetadata().GetName() != "b" {
		t.Fatalf("Txn results out of op order: %v", names(res))
	}
	seen := map[string]bool{}
	for range 2 {
		ev := next(t, w)
		if ev.Revision != rev {
			t.Fatalf("txn event at revision %d, want %d", ev.Revision, rev)
		}
		seen[ev.Object.GetMetadata().GetName()] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("txn events for %v, want a and b", seen)
	}
	// Delete and create in one transaction.
	if _, err := s.Txn(ctx, store.DeleteOp(api.KindPod, "ns", "b", store.DeleteOptions{}), store.CreateOp(pod("ns", "c", nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, api.KindPod, "ns", "b"); !store.IsNotFound(err) {
		t.Fatalf("b after txn delete: %v", err)
	}
}

func testTxnAllOrNothing(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a := mustCreate(t, s, pod("ns", "a", nil)).(*api.Pod)
	before, _ := s.Revision(ctx)
	stale := proto2(a)
	stale.Metadata.ResourceVersion = rv(a) + 1000
	cases := []struct {
		name  string
		ops   []store.Op
		class error
	}{
		{"conflicting update", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.UpdateOp(stale)}, store.ErrConflict},
		{"failed check", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.CheckOp(api.KindPod, "ns", "a", rv(a)+1)}, store.ErrConflict},
		{"check of a missing object", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.CheckOp(api.KindPod, "ns", "missing", 0)}, store.ErrConflict},
		{"existing create", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.CreateOp(pod("ns", "a", nil))}, store.ErrAlreadyExists},
		{"missing delete", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.DeleteOp(api.KindPod, "ns", "missing", store.DeleteOptions{})}, store.ErrNotFound},
		{"invalid op", []store.Op{store.CreateOp(pod("ns", "new", nil)), store.CreateOp(pod("ns", "", nil))}, store.ErrInvalid},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Txn(ctx, tt.ops...)
			wantErr(t, "Txn", err, tt.class)
			if _, err := s.Get(ctx, api.KindPod, "ns", "new"); !store.IsNotFound(err) {
				t.Fatalf("failed Txn applied part of its ops: %v", err)
			}
			if rev, _ := s.Revision(context.Background()); rev != before {
				t.Fatalf("failed Txn moved the revision from %d to %d", before, rev)
			}
		})
	}
}

func proto2(p *api.Pod) *api.Pod { return api.Clone(p) }
